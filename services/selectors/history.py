"""A person's case history, newest first (the staff's history page): what the case's rows say
happened, and what only the access log keeps (who stopped sharing an item with the person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services.choices import NoteVisibility, ReferralStatus
from services.models.audit import AuditEvent
from services.models.casework import Assessment, CaseNote
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import ProviderQuestion, ReferralEvent
from services.selectors import audit_display
from services.selectors.records import REFERRAL_TEXTS

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | date
    kind: str
    text: str
    url: str = ""

    @property
    def has_time(self) -> bool:
        return isinstance(self.at, datetime)

    @property
    def sort_key(self) -> datetime:
        if isinstance(self.at, datetime):
            return self.at
        return timezone.make_aware(datetime.combine(self.at, datetime.min.time()))


def exoneree_history(exoneree: Exoneree) -> list[TimelineEntry]:
    """Everything that happened on a person's case, newest first (the history page)."""
    needs = list(exoneree.needs.defer("description", "own_words"))
    follow_ups = list(
        exoneree.follow_ups.filter(done_at__isnull=False)
        .select_related("done_by")
        .only("exoneree", "title", "done_at", "done_by__first_name", "done_by__last_name", "done_by__username")
    )
    notes = list(exoneree.notes.select_related("author").defer("text"))
    assessments = list(exoneree.assessments.only("exoneree", "kind", "taken_on"))
    events = (
        ReferralEvent.objects.filter(referral__need__exoneree=exoneree)
        .select_related("referral__resource", "by")
        .defer("note", *(f"referral__{name}" for name in REFERRAL_TEXTS))
    )
    return sorted(
        timeline(needs, events, follow_ups, notes, assessments) + sharing(exoneree) + provider_questions(exoneree),
        key=_newest,
        reverse=True,
    )


def _newest(entry: TimelineEntry) -> datetime:
    return entry.sort_key


# The fields that put a record on the person's own plan, and the value that does: a change
# between it and any other takes the record off their plan, or puts it on.
ON_THEIR_PLAN = {"shared_with_exoneree": True, "visibility": NoteVisibility.SHARED}


def sharing(exoneree: Exoneree) -> list[TimelineEntry]:
    """Who stopped sharing a follow-up or a note with the person (or shared it), and when.

    The person's plan simply loses what is no longer shared (nothing there says it was); the
    staff's history says it, read from the access log's change entries, which keep who and when
    (services.audit.record_change), with the record named as the log names it."""
    entries = list(
        AuditEvent.objects.filter(
            exoneree=exoneree, action=AuditEvent.Action.RECORD_CHANGED, changes__has_any_keys=list(ON_THEIR_PLAN)
        )
        .select_related("actor")
        .only("at", "target", "changes", "username", "actor__first_name", "actor__last_name", "actor__username")
        .order_by()
    )
    names = audit_display.records_named(entry.target for entry in entries) if entries else {}
    found = []
    for entry in entries:
        for field_name, shared in ON_THEIR_PLAN.items():
            change = entry.changes.get(field_name)
            if not isinstance(change, list) or len(change) != 2 or (change[0] == shared) == (change[1] == shared):
                continue
            stopped = change[0] == shared  # it was on their plan, and is no longer
            text = (
                _("Stopped sharing with the person: %(record)s") if stopped else _("Shared with the person: %(record)s")
            )
            who = _name(entry.actor) if entry.actor else entry.username
            found.append(TimelineEntry(entry.at, "Sharing", _by(text % {"record": names[entry.target]}, who)))
    return found


def _name(user: AbstractUser) -> str:
    return user.get_full_name() or user.get_username()


def _by(what: str, who: str) -> str:
    """A history line with who did it, when that is known ("" when it is not)."""
    return _("%(what)s, by %(who)s") % {"what": what, "who": who} if who else what


def provider_questions(exoneree: Exoneree) -> list[TimelineEntry]:
    """A provider's questions on the person's referrals, and the caseworkers' answers: who and
    when, each leading to its referral's page, where the words are (not read here)."""
    questions = (
        ProviderQuestion.objects.filter(referral__need__exoneree=exoneree)
        .select_related("provider", "referral__resource", "answered_by")
        .defer("text", "answer", *(f"referral__{name}" for name in REFERRAL_TEXTS))
        .order_by()
    )
    found = []
    for question in questions:
        url = reverse("referral_detail", args=[question.referral_id])
        names = {"provider": question.provider.name, "resource": question.referral.resource.name}
        asked = _("Question from %(provider)s about the referral to %(resource)s") % names
        found.append(TimelineEntry(question.at, "Referral", asked, url))
        if question.answered_at is not None:
            answered = _("Answered the question from %(provider)s about the referral to %(resource)s") % names
            who = _name(question.answered_by) if question.answered_by else ""
            found.append(TimelineEntry(question.answered_at, "Referral", _by(answered, who), url))
    return found


def _on(moment: datetime | None, day: date) -> bool:
    """Whether a kept moment is of this day (a day edited since is shown as the day)."""
    return moment is not None and timezone.localdate(moment) == day


def timeline(
    needs: list[Need],
    events: QuerySet[ReferralEvent],
    follow_ups: list[FollowUp],
    notes: list[CaseNote],
    assessments: list[Assessment],
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for need in needs:
        recorded = need.recorded_at if _on(need.recorded_at, need.opened_on) else need.opened_on
        entries.append(TimelineEntry(recorded, "Need", f"{need.get_domain_display()} need recorded"))
        if need.closed_on:
            closed = need.closed_at if _on(need.closed_at, need.closed_on) else need.closed_on
            entries.append(TimelineEntry(closed, "Need", f"{need.get_domain_display()}: {need.get_status_display()}"))
    for event in events:
        who = f" by {_name(event.by)}" if event.by else ""
        text = _("Referral to %(name)s: %(label)s%(who)s") % {
            "name": event.referral.resource.name,
            "label": ReferralStatus(event.to_status).label,
            "who": who,
        }
        entries.append(TimelineEntry(event.at, "Referral", text, reverse("referral_detail", args=[event.referral_id])))
    for follow_up in follow_ups:
        if follow_up.done_at:
            # Nobody named where nobody is known: done before who did it was kept, or the account
            # has since been deleted (as a referral step's).
            done = _("Done: %(title)s") % {"title": follow_up.title}
            who = _name(follow_up.done_by) if follow_up.done_by else ""
            entries.append(TimelineEntry(follow_up.done_at, "Follow-up", _by(done, who)))
    for note in notes:
        author = _name(note.author)
        entries.append(
            TimelineEntry(
                note.created_at,
                "Note",
                _("Note by %(author)s (%(visibility)s)")
                % {"author": author, "visibility": note.get_visibility_display()},
            )
        )
    for assessment in assessments:
        entries.append(TimelineEntry(assessment.taken_on, "Assessment", f"{assessment.get_kind_display()} assessment"))
    return sorted(entries, key=lambda e: e.sort_key, reverse=True)
