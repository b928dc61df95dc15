"""Retention (issue 23): closed cases are kept the organization's `retention_years` after
their exit, then purged or de-identified (its `retention_mode`), never while a legal hold
stands and never before a director confirmed it for that closing.

Purge: the person and every row hanging off them go (the database cascades from the person),
their papers' files leave the store, their blind indexes go with their row, their login is
emptied and closed, and the staff notifications that name them go. What they added to the
kept outcome counts stays (`outcome_counts.retire`), and one access-log entry says what
happened without saying who: "Person 12 purged under retention". The log's older entries keep
the person's number (not a constraint: services/models/audit.py), so the chain still verifies.

De-identify: the rows and the counts stay; who they were (names, contact, date of birth, SSN,
their login) and every free text (notes, messages, papers, descriptions, words) go.

Each person is one transaction, re-checked under a lock, so a purge run may stop at any point
and start again; files leave the store only once the transaction has committed (their data
keys, in the rows, are gone already: a file left behind by a crash cannot be opened).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user

from services import audit, outcome_counts
from services.choices import RetentionMode, Role
from services.fields import normalize_name
from services.figures import figures_changed
from services.lib import vault
from services.models.audit import AuditEvent
from services.models.casework import CaseNote
from services.models.consent import Consent, EmergencyAccess
from services.models.documents import Document
from services.models.follow_ups import FollowUp
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.messages import Message
from services.models.needs import Need
from services.models.notifications import Notification, Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import ProviderLink, ProviderQuestion, Referral, ReferralEvent
from services.models.retention import LegalHold, RetentionReview

NOTICE_DAYS = 30  # the directors are told this long before a case is due
BATCH = 100  # people whose ids a purge run holds at once

# De-identification: the free text of each kind of row the person's record holds, emptied.
# Codes, dates and numbers stay (the counts read them); the papers, messages and notes go
# whole (their text is all they are). tests/test_retention.py reads every text column of
# every row hanging off a de-identified person (found through the models' relations) for
# their name.
FREE_TEXT: dict[type, tuple[tuple[str, ...], str]] = {
    Need: (("description", "own_words", "ask_answer"), "exoneree"),
    Referral: (("note", "decline_reason", "feedback", "provider_contact", "person_words"), "need__exoneree"),
    ReferralEvent: (("note",), "referral__need__exoneree"),
    FollowUp: (("title", "details", "person_words", "outcome"), "exoneree"),
    Consent: (("purpose", "witness"), "exoneree"),
    EmergencyAccess: (("reason", "review_note"), "exoneree"),
    CompensationClaim: (("attorney", "denial_reason", "payment_schedule", "notes", "override_reason"), "exoneree"),
    ClaimPayment: (("note",), "claim__exoneree"),
    InnocenceCertificate: (("court", "notes"), "exoneree"),
    RecordClearance: (("notes",), "exoneree"),
    LegalItem: (("notes",), "exoneree"),
    LegalHold: (("reason", "lift_reason"), "exoneree"),
}
REMOVED_WHOLE: dict[type, str] = {
    CaseNote: "exoneree",
    Message: "exoneree",
    Document: "exoneree",
    ProviderQuestion: "referral__need__exoneree",
    ProviderLink: "referral__need__exoneree",
}
# The person's own row: who they were. Kept: their organization, language, the case's state
# and dates the counts read (conviction, release, exoneration, the state), their caseworkers.
IDENTITY_CLEARED = {
    "preferred_name": "",
    "preferred_name_folded": "",
    "pronouns": "",
    "email": "",
    "phone": "",
    "phone_index": "",
    "address": "",
    "contact_notes": "",
    "date_of_birth": None,
    "ssn": "",
    "ssn_index": "",
    "name_dob_index": "",
    "conviction_county": "",
    "restricted_reason": "",
    "user": None,
}


def add_years(day: date, years: int) -> date:
    """The same day `years` later; February 29 becomes March 1 in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _cutoff(on: date, years: int) -> date:
    """The latest closing date due on `on` (the inverse of `add_years`)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return date(on.year - years, 2, 28)


def purge_date(exoneree: Exoneree, organization: Organization) -> date | None:
    """When the person's closed case is due (None while it is open)."""
    closed = exoneree.case_closed_on
    return add_years(closed, organization.retention_years) if closed else None


def _held() -> Exists:
    return Exists(LegalHold.objects.filter(exoneree=OuterRef("pk"), lifted_at__isnull=True))


def _confirmed() -> Exists:
    return Exists(RetentionReview.objects.filter(exoneree=OuterRef("pk"), case_closed_on=OuterRef("case_closed_on")))


def due_by(organization: Organization, on: date) -> QuerySet[Exoneree]:
    """The organization's closed cases whose retention ends on or before `on` (held ones
    included: the page shows them), not de-identified already."""
    return Exoneree.objects.filter(
        organization=organization,
        case_closed_on__isnull=False,
        case_closed_on__lte=_cutoff(on, organization.retention_years),
        deidentified_at__isnull=True,
    ).annotate(on_hold=_held(), confirmed=_confirmed())


def ready(organization: Organization, on: date) -> QuerySet[Exoneree]:
    """Due on `on`, confirmed by a director for this closing, and not on hold."""
    return due_by(organization, on).filter(on_hold=False, confirmed=True)


@dataclass
class RunResult:
    done: int = 0
    skipped: int = 0
    rows_deleted: int = 0
    files_removed: int = 0


def run_due(
    *, today: date | None = None, dry_run: bool = False, progress: Callable[[str], None] | None = None
) -> RunResult:
    """Purge (or de-identify) every confirmed, due, unheld case of every organization, one
    person per transaction. Bounded memory: BATCH ids at a time, each batch read afresh after
    the one before (by id, so no cursor stays open across the deletes, and a case skipped
    under its lock is not read again); `progress` hears after each batch."""
    today = today or timezone.localdate()
    result = RunResult()
    for organization in Organization.objects.order_by("pk").iterator():
        last = 0
        while batch := list(
            ready(organization, today).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]
        ):
            last = batch[-1]
            for pk in batch:
                outcome = RunResult(done=1) if dry_run else end_of_retention(pk, today=today)
                if outcome is None:
                    result.skipped += 1
                    continue
                result.done += 1
                result.rows_deleted += outcome.rows_deleted
                result.files_removed += outcome.files_removed
            if progress:
                verb = "would remove" if dry_run else "removed"
                progress(f"{organization.name}: {verb} {result.done} so far ({result.skipped} skipped)")
    return result


def end_of_retention(pk: int, *, today: date | None = None) -> RunResult | None:
    """Purge or de-identify person `pk` as their organization says, if still confirmed, due
    and unheld when locked (None: it was not, and nothing changed)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        organization_id = Exoneree.objects.filter(pk=pk).values_list("organization_id", flat=True).first()
        if organization_id is None:
            return None
        # The organization's row first, as every write of the counts takes it (services.audit's
        # lock order); then the person's, and the conditions again under it.
        figures_changed(organization_id)
        person = Exoneree.objects.select_for_update().select_related("organization").get(pk=pk)
        if not ready(person.organization, today).filter(pk=pk).exists():
            return None
        if person.organization.retention_mode == RetentionMode.DEIDENTIFY:
            return deidentify(person)
        return purge(person)


def _their_reminders(person: Exoneree) -> QuerySet[Reminder]:
    return Reminder.objects.filter(
        Q(exoneree=person)
        | Q(follow_up__exoneree=person)
        | Q(referral__need__exoneree=person)
        | Q(compensation_claim__exoneree=person)
        | Q(record_clearance__exoneree=person)
        | Q(document__exoneree=person)
    )


def _forget_login(user_id: int | None) -> None:
    """The person's login: emptied and closed, not deleted (the access log's entries name it
    by number). A new password hash ends every session it has."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        return
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    Notification.objects.filter(user=user).delete()
    user.username = f"purged-{user.pk}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()


def _forget_notifications(person: Exoneree) -> None:
    """Staff's notifications that name the person: about their record, their referrals, or a
    reminder of theirs."""
    urls = Q(url__startswith=reverse("exoneree_detail", args=[person.pk]))
    for referral in Referral.objects.filter(need__exoneree=person).values_list("pk", flat=True):
        urls |= Q(url__startswith=reverse("referral_detail", args=[referral]))
    for grant in EmergencyAccess.objects.filter(exoneree=person):  # "… used emergency access to <name>"
        urls |= Q(url=grant.get_review_url())
    # Such notices from before they linked to their grant: by the words that name the person.
    urls |= Q(url=reverse("emergency_reviews"), text__contains=f"emergency access to {person.display_name}'s record")
    Notification.objects.filter(urls | Q(reminder__in=_their_reminders(person))).delete()


def _remove_files_after_commit(names: list[str]) -> None:
    def remove() -> None:
        for name in names:
            vault.remove(name)

    transaction.on_commit(remove)


def purge(person: Exoneree) -> RunResult:
    """Delete the person and everything of theirs (the caller holds the row's lock)."""
    organization = person.organization
    outcome_counts.retire(organization, [person.pk])
    files = list(Document.objects.filter(exoneree=person).values_list("storage_name", flat=True))
    _forget_notifications(person)
    # A replaced paper is protected by the one that replaced it: unchain them, both go.
    Document.objects.filter(exoneree=person).update(replaces=None)
    user_id, pk, closed = person.user_id, person.pk, person.case_closed_on
    deleted, _by_model = Exoneree.objects.filter(pk=pk).delete()
    _forget_login(user_id)
    audit.record(
        AuditEvent.Action.RECORD_PURGED,
        organization_id=organization.pk,
        target=f"Person {pk} purged under retention",
        changes={"closed_on": closed.isoformat(), "retention_years": organization.retention_years},
    )
    _remove_files_after_commit(files)
    return RunResult(done=1, rows_deleted=deleted, files_removed=len(files))


def deidentify(person: Exoneree) -> RunResult:
    """Keep the person's rows and counts; drop who they were and every free text."""
    files = list(Document.objects.filter(exoneree=person).values_list("storage_name", flat=True))
    _forget_notifications(person)
    Document.objects.filter(exoneree=person).update(replaces=None)
    deleted = _their_reminders(person).delete()[0]
    for model, path in REMOVED_WHOLE.items():
        deleted += model.objects.filter(**{path: person.pk}).delete()[0]
    for model, (fields, path) in FREE_TEXT.items():
        model.objects.filter(**{path: person.pk}).update(**dict.fromkeys(fields, ""))
    user_id = person.user_id
    # An update, not a save: the folded name a search compares is the placeholder's too.
    placeholder = f"Person {person.pk}"
    Exoneree.objects.filter(pk=person.pk).update(
        **IDENTITY_CLEARED,
        legal_name=placeholder,
        legal_name_folded=normalize_name(placeholder),
        deidentified_at=timezone.now(),
    )
    _forget_login(user_id)
    audit.record(
        AuditEvent.Action.RECORD_DEIDENTIFIED,
        organization_id=person.organization_id,
        exoneree=person,
        target=f"Person {person.pk} de-identified under retention",
    )
    _remove_files_after_commit(files)
    return RunResult(done=1, rows_deleted=deleted, files_removed=len(files))


# --- the nightly notice -------------------------------------------------------------------------


def notify_upcoming(*, today: date | None = None) -> int:
    """Tell each organization's directors how many cases reach their end of retention in
    NOTICE_DAYS (those whose date is exactly then: each case is announced once), with the page
    to review them. No name in the notice. Returns how many notices it wrote."""
    today = today or timezone.localdate()
    notices = []
    for organization in Organization.objects.order_by("pk").iterator():
        day = today + timedelta(days=NOTICE_DAYS)
        entering = due_by(organization, day).filter(case_closed_on=_cutoff(day, organization.retention_years))
        count = entering.filter(on_hold=False).count()
        if not count:
            continue
        directors = StaffMember.objects.filter(
            organization=organization, role=Role.DIRECTOR, user__is_active=True
        ).values_list("user_id", flat=True)
        text = (
            f"{count} closed case{'s' if count != 1 else ''} reach the end of retention on {day:%b %-d, %Y}: "
            "confirm or place a legal hold."
        )
        url = reverse("retention_review")
        notices += [Notification(user_id=director, text=text, url=url) for director in directors]
    Notification.objects.bulk_create(notices)
    return len(notices)


def active_hold(exoneree: Exoneree) -> LegalHold | None:
    """The person's standing legal hold (with who placed it), open case or closed; None if
    there is none. One query."""
    return LegalHold.objects.filter(exoneree=exoneree, lifted_at__isnull=True).select_related("placed_by").first()


def lifted_holds(exoneree: Exoneree) -> QuerySet[LegalHold]:
    """The person's holds lifted already, the latest first: why each was placed and why it was
    lifted, by whom and when. One query."""
    return (
        LegalHold.objects.filter(exoneree=exoneree, lifted_at__isnull=False)
        .select_related("placed_by", "lifted_by")
        .order_by("-lifted_at", "-pk")
    )


def active_holds(people: QuerySet[Exoneree]) -> QuerySet[LegalHold]:
    """The standing legal holds of `people` (those the director may see: services.access),
    the longest-standing first, each with its person and who placed it."""
    return (
        LegalHold.objects.filter(lifted_at__isnull=True, exoneree__in=people)
        .select_related("exoneree", "placed_by")
        .only(
            "reason",
            "placed_at",
            "exoneree",
            "placed_by",
            "exoneree__legal_name",
            "exoneree__preferred_name",
            "exoneree__case_closed_on",
            "exoneree__restricted",
            "placed_by__first_name",
            "placed_by__last_name",
            "placed_by__username",
        )
        .order_by("placed_at", "pk")
    )


def review_list(organization: Organization, *, today: date | None = None) -> list[Exoneree]:
    """The director's page: cases due now or within NOTICE_DAYS, soonest first, each with its
    date (`purge_on`, `is_due`), its active legal hold (`hold`) and its confirmation for this
    closing (`review`). Three queries."""
    today = today or timezone.localdate()
    holds = LegalHold.objects.filter(lifted_at__isnull=True).select_related("placed_by")
    people = list(
        due_by(organization, today + timedelta(days=NOTICE_DAYS))
        .only("legal_name", "preferred_name", "case_closed_on", "organization_id")
        .prefetch_related(
            Prefetch("legal_holds", queryset=holds, to_attr="active_holds"),
            Prefetch("retention_reviews", queryset=RetentionReview.objects.select_related("confirmed_by")),
        )
        .order_by(F("case_closed_on").asc(), "pk")
    )
    for person in people:
        person.purge_on = add_years(person.case_closed_on, organization.retention_years)
        person.is_due = person.purge_on <= today
        person.hold = person.active_holds[0] if person.active_holds else None
        reviews = person.retention_reviews.all()
        person.review = next((r for r in reviews if r.case_closed_on == person.case_closed_on), None)
    return people
