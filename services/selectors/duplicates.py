"""Possible duplicates of a person being recorded: blind-index matches in the user's own
organization (the intake's warning, the emergency search, merges), found without decrypting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from services.access import exonerees_findable_by, exonerees_visible_to
from services.fields import normalize_name
from services.models.people import Exoneree

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


@dataclass
class PossibleDuplicates:
    """Records of the same organization with the same SSN, or the same name and birth date;
    or, when those find nobody (`by_name_only`), the same name and nothing to tell them apart."""

    visible: list[Exoneree]
    hidden: list[int]  # ids of matches the user may not open: never shown to them
    by_name_only: bool = False
    # Why each visible match was found, by its id: " (same Social Security number)" and the
    # like. The rule that matched, never the number or the date itself.
    why: dict[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.visible or self.hidden)

    @property
    def message(self) -> str:
        if self.visible:
            # Each a link, by both names, and said to be closed: a closed case is not on the
            # People list as it opens (open cases), where a caseworker would look for it.
            if self.by_name_only:
                # The name alone may well be someone else's: when the record was opened
                # helps tell which.
                names = format_html_join(
                    ", ",
                    '<a href="{}">{}</a>{}{}',
                    ((p.get_absolute_url(), _both_names(p), _opened(p), _closed(p)) for p in self.visible),
                )
                return format_html(
                    _(
                        "There is already someone named {names}. Is this the same person? Open their record "
                        "instead of creating a second one, or tick the box if this is a different person."
                    ),
                    names=names,
                )
            names = format_html_join(
                ", ",
                '<a href="{}">{}</a>{}{}',
                ((p.get_absolute_url(), _both_names(p), _closed(p), self.why.get(p.pk, "")) for p in self.visible),
            )
            return format_html(
                _(
                    "This may be someone already on file: {names}. Open their record instead of creating a "
                    "second one, or tick the box if this is a different person."
                ),
                names=names,
            )
        if self.by_name_only:
            return _(
                "Your organization already has someone by this name, on a caseload you cannot see. Ask "
                "your director before creating a second record, or tick the box if this is a different person."
            )
        return _(
            "Your organization may already have a record for this person, on a caseload you cannot "
            "see. Ask your director before creating a second record, or tick the box if this is a "
            "different person."
        )


def _both_names(person: Exoneree) -> str:
    return f"{person.display_name} ({person.other_legal_name})" if person.other_legal_name else person.legal_name


def _opened(person: Exoneree) -> str:
    return _(" (opened %(day)s)") % {"day": date_format(timezone.localdate(person.created_at), "F j, Y")}


def _closed(person: Exoneree) -> str:
    return _(" (case closed)") if person.case_closed_on else ""


def possible_duplicates(user: AbstractUser, candidate: Exoneree, *, same_name: bool = False) -> PossibleDuplicates:
    """Blind-index matches for an intake, without decrypting anything.

    Only the user's own organization is searched (another organization's clients are not
    ours to know about), and a match the user may not open is counted, never named.

    With `same_name` (the intake, not the emergency search, which must not find anyone by a
    name alone), when these find nobody: the records under the same name, folded as name
    searches fold it, that nothing typed tells apart from the candidate.
    """
    fields = {column.name: column for column in Exoneree._meta.fields}
    match = Q(pk__in=[])
    if ssn := fields["ssn_index"].candidates(candidate.ssn):
        match |= Q(ssn_index__in=ssn)
    if name_dob := fields["name_dob_index"].candidates(candidate.legal_name, candidate.date_of_birth):
        match |= Q(name_dob_index__in=name_dob)
    found = (
        _matches(user, candidate, match, why=lambda person: _why(person, ssn=ssn, name_dob=name_dob))
        if ssn or name_dob
        else PossibleDuplicates(visible=[], hidden=[])
    )
    if found or not same_name or not (name := normalize_name(candidate.legal_name)):
        return found
    same = Q(legal_name_folded=name) | Q(preferred_name_folded=name)
    # Told apart by what both records hold and the check above found different: the SSN, or,
    # under the same legal name, the birth date (its index is of the legal name and the date).
    apart = Q(pk__in=[])
    if candidate.ssn:
        apart |= ~Q(ssn_index="")
    if candidate.date_of_birth:
        apart |= Q(legal_name_folded=name) & ~Q(name_dob_index="")
    return _matches(user, candidate, same & ~apart, by_name_only=True)


def _matches(
    user: AbstractUser,
    candidate: Exoneree,
    match: Q,
    *,
    by_name_only: bool = False,
    why: Callable[[Exoneree], str] | None = None,
) -> PossibleDuplicates:
    # A restricted person the user does not see is not even counted (services.access).
    matches = exonerees_findable_by(user).filter(match).exclude(pk=candidate.pk)
    visible = list(
        exonerees_visible_to(user)
        .filter(pk__in=matches.values("pk"))
        .only("legal_name", "preferred_name", "case_closed_on", "created_at", "ssn_index", "name_dob_index")
        .order_by("legal_name", "pk")
    )
    seen = {person.pk for person in visible}
    return PossibleDuplicates(
        visible=visible,
        hidden=[pk for pk in matches.values_list("pk", flat=True) if pk not in seen],
        by_name_only=by_name_only,
        why={person.pk: why(person) for person in visible} if why else {},
    )


def _why(person: Exoneree, *, ssn: list[str], name_dob: list[str]) -> str:
    """Which rule found `person`, from the blind indexes alone (nothing is decrypted)."""
    same_ssn, same_name_dob = person.ssn_index in ssn, person.name_dob_index in name_dob
    if same_ssn and same_name_dob:
        return _(" (same Social Security number, date of birth and name)")
    if same_ssn:
        return _(" (same Social Security number)")
    return _(" (same date of birth and name)")
