"""A person's case history, newest first (the staff's history page): what the case's rows say
happened (needs, referrals, follow-ups, notes, assessments, consents, papers, messages, legal
steps), and what only the access log keeps (who stopped sharing an item with the person, a
claim's moves from stage to stage, a paper whose row is gone). Never a message's words, a
note's text or anything of a paper but its kind: the pages of those show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services.choices import CertificateStatus, ClaimStage, LegalItemStatus, NoteVisibility, ReferralStatus
from services.lib.sql import instances, rows_per_row
from services.models.audit import AuditEvent
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent
from services.models.documents import Document, DocumentKind
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.messages import Message
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import ProviderQuestion, ReferralEvent
from services.selectors import audit_display
from services.selectors.records import REFERRAL_TEXTS

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

L = TypeVar("L", bound=Model)

# A user's columns that name them (`_name`).
USER_NAME = ("first_name", "last_name", "username")


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


# What the history reads of the legal records: their kinds, states and days (the Legal page
# shows the rest).
LEGAL_DAYS = {
    CompensationClaim: ("id", "exoneree_id", "jurisdiction", "stage", "filed_on", "decided_on", "appeal_filed_on"),
    InnocenceCertificate: ("id", "status", "applied_on", "decided_on"),
    RecordClearance: ("id", "holder", "status", "requested_on", "confirmed_on", "last_checked_on"),
    LegalItem: ("id", "kind", "status", "started_on", "done_on"),
}


def history_annotations() -> dict[str, Any]:
    """What the history loads with the record (`access.get_exoneree`'s `annotate`): the legal
    records' `LEGAL_DAYS`, plain columns only, each a short list in the record's one query
    rather than a query of its own (their notes, reasons and amounts are not read)."""
    return {
        _days_of(model): rows_per_row(model.objects.all(), "exoneree", *columns)
        for model, columns in LEGAL_DAYS.items()
    }


def _days_of(model: type[Model]) -> str:
    """The annotation that holds a legal model's rows: "compensationclaim_days"."""
    return f"{model._meta.model_name}_days"


def exoneree_history(exoneree: Exoneree) -> list[TimelineEntry]:
    """Everything that happened on a person's case, newest first (the history page). `exoneree`
    was loaded with `history_annotations()`."""
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
        timeline(needs, events, follow_ups, notes, assessments)
        + sharing(exoneree)
        + provider_questions(exoneree)
        + consents(exoneree)
        + papers(exoneree)
        + messages(exoneree)
        + legal(exoneree),
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
            _logged_under(exoneree), action=AuditEvent.Action.RECORD_CHANGED, changes__has_any_keys=list(ON_THEIR_PLAN)
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
            who = _logged_by(entry)
            found.append(TimelineEntry(entry.at, "Sharing", _by(text % {"record": names[entry.target]}, who)))
    return found


def _name(user: AbstractUser | None) -> str:
    """Who did it, or "" where nobody is known (not kept then, or the account deleted since)."""
    return (user.get_full_name() or user.get_username()) if user is not None else ""


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
            who = _name(question.answered_by)
            found.append(TimelineEntry(question.answered_at, "Referral", _by(answered, who), url))
    return found


def consents(exoneree: Exoneree) -> list[TimelineEntry]:
    """Each consent: signed (and who recorded it), withdrawn (by whom), or run out on its last
    day. Its purpose and witness are not read."""
    rows = (
        Consent.objects.filter(exoneree=exoneree)
        .select_related("provider", "recorded_by", "revoked_by")
        .only(
            "exoneree",
            "signed_on",
            "ends_on",
            "created_at",
            "revoked_at",
            "provider__name",
            *(f"{who}__{name}" for who in ("recorded_by", "revoked_by") for name in USER_NAME),
        )
        .order_by()
    )
    today = timezone.localdate()
    found = []
    for consent in rows:
        names = {"provider": consent.provider.name}
        signed = _when(consent.created_at, consent.signed_on)
        recorder = _name(consent.recorded_by)
        text = _("Consent to share with %(provider)s signed") % names
        found.append(TimelineEntry(signed, _("Consent"), _recorded(text, recorder)))
        if consent.revoked_at is not None:
            who = _name(consent.revoked_by)
            text = _("Consent to share with %(provider)s withdrawn") % names
            found.append(TimelineEntry(consent.revoked_at, _("Consent"), _by(text, who)))
        # Valid through its last day: it runs out the day after, unless withdrawn before.
        ran_out = consent.ends_on + timedelta(days=1)
        if ran_out <= today and (consent.revoked_at is None or timezone.localdate(consent.revoked_at) >= ran_out):
            text = _("Consent to share with %(provider)s ran out") % names
            found.append(TimelineEntry(ran_out, _("Consent"), text))
    return found


def _recorded(what: str, who: str) -> str:
    return _("%(what)s, recorded by %(who)s") % {"what": what, "who": who} if who else what


# How services.audit.describe names a paper and a claim in the log: "Document 12", "Compensation claim 3".
PAPER, CLAIM = "Document ", "Compensation claim "


def papers(exoneree: Exoneree) -> list[TimelineEntry]:
    """Papers added, replaced by a new version, deleted: by their kind, who and when (never
    their title, which is encrypted, nor anything of the file). A paper whose row is gone (a
    de-identified record's) is still in the access log, which names its kind when it came."""
    rows = (
        Document.objects.filter(exoneree=exoneree)
        .select_related("uploaded_by", "deleted_by")
        .only(
            "exoneree",
            "kind",
            "replaces",
            "uploaded_at",
            "deleted_at",
            *(f"{who}__{name}" for who in ("uploaded_by", "deleted_by") for name in USER_NAME),
        )
        .order_by()
    )
    found = []
    kept: set[int] = set()
    for document in rows:
        kept.add(document.pk)
        kind = {"kind": document.get_kind_display()}
        added = _paper_came(new_version=document.replaces_id is not None)
        who = _name(document.uploaded_by)
        found.append(TimelineEntry(document.uploaded_at, _("Paper"), _by(added % kind, who)))
        if document.deleted_at is not None:
            who = _name(document.deleted_by)
            found.append(TimelineEntry(document.deleted_at, _("Paper"), _by(_("Paper deleted: %(kind)s") % kind, who)))
    return found + _papers_only_logged(exoneree, kept)


def _paper_came(*, new_version: bool) -> str:
    return _("New version of a paper: %(kind)s") if new_version else _("Paper added: %(kind)s")


def _papers_only_logged(exoneree: Exoneree, kept: set[int]) -> list[TimelineEntry]:
    """The papers of the person's log whose row is gone everywhere (not one that moved to
    another person's record, by a merge undone): one more query, for a record that lost some."""
    logged = [(entry, pk) for entry, pk in _log_of(exoneree, PAPER) if pk not in kept]
    moved = set(Document.objects.filter(pk__in={pk for entry, pk in logged}).values_list("pk", flat=True))
    kinds: dict[int, str] = {}  # as the entry of its upload names it
    gone = []
    for entry, pk in logged:
        if pk in moved:
            continue
        if isinstance(kind := entry.changes.get("kind"), list) and kind[-1] in DocumentKind.values:
            kinds[pk] = DocumentKind(kind[-1]).label
            added = _paper_came(new_version="replaces" in entry.changes)
            gone.append((entry, pk, added))
        elif "deleted_at" in entry.changes:
            gone.append((entry, pk, _("Paper deleted: %(kind)s")))
    return [
        TimelineEntry(entry.at, _("Paper"), _by(text % {"kind": kinds.get(pk, _("a paper"))}, _logged_by(entry)))
        for entry, pk, text in gone
    ]


def _log_of(exoneree: Exoneree, prefix: str, **changed: Any) -> list[tuple[AuditEvent, int]]:
    """The access log's entries of the person's records of one kind created or changed, with
    the id of the record each names. The log keeps a merged duplicate's entries under its own
    id: the person's include theirs (_logged_under)."""
    entries = (
        AuditEvent.objects.filter(
            _logged_under(exoneree),
            action__in=[AuditEvent.Action.RECORD_CREATED, AuditEvent.Action.RECORD_CHANGED],
            target__startswith=prefix,
            **changed,
        )
        .select_related("actor")
        .only("at", "target", "changes", "username", *(f"actor__{name}" for name in USER_NAME))
        .order_by()
    )
    return [(entry, int(pk)) for entry in entries if (pk := entry.target.removeprefix(prefix)).isdecimal()]


def _logged_under(exoneree: Exoneree) -> Q:
    """The access log's entries of the person: the log keeps a merged duplicate's entries under
    its own id, and the person's include theirs (as their access log does), in the same query; a
    merge undone takes them back."""
    return Q(exoneree=exoneree) | Q(exoneree__in=Exoneree.objects.filter(merged_into=exoneree).values("pk"))


def _logged_by(entry: AuditEvent) -> str:
    return _name(entry.actor) or entry.username


def messages(exoneree: Exoneree) -> list[TimelineEntry]:
    """Each message of the person's conversation: from them, or to them and by whom; never its
    words (not even loaded: they are encrypted, and the conversation's page shows them)."""
    rows = (
        Message.objects.filter(exoneree=exoneree)
        .select_related("author")
        .only("exoneree", "from_person", "created_at", *(f"author__{name}" for name in USER_NAME))
        .order_by()
    )
    url = reverse("exoneree_messages", args=[exoneree.pk])
    found = []
    for message in rows:
        if message.from_person:
            text = _("Message from %(name)s") % {"name": exoneree.display_name}
        else:
            text = _by(_("Message to the person"), _name(message.author))
        found.append(TimelineEntry(message.created_at, _("Message"), text, url))
    return found


def legal(exoneree: Exoneree) -> list[TimelineEntry]:
    """The legal remedies: each compensation claim's moves from stage to stage (who and when,
    from the access log), and the days the legal records hold (filed, decided, applied,
    requested, confirmed, started, done), each leading to the Legal page. Days still to come
    (a hearing, a suit's planned start) have not happened: left out."""
    url = reverse("exoneree_legal", args=[exoneree.pk])
    today = timezone.localdate()
    found = []

    def add(day: date | None, text: str) -> None:
        if day is not None and day <= today:
            found.append(TimelineEntry(day, _("Legal"), text, url))

    claims = {claim.pk: claim for claim in _legal_rows(exoneree, CompensationClaim)}
    for claim in claims.values():
        where = {"jurisdiction": _jurisdiction(claim)}
        add(claim.filed_on, _("Compensation claim filed (%(jurisdiction)s)") % where)
        add(claim.decided_on, _("Compensation claim decided (%(jurisdiction)s)") % where)
        add(claim.appeal_filed_on, _("Appeal of the compensation claim filed (%(jurisdiction)s)") % where)
    for entry, pk in _log_of(exoneree, CLAIM, changes__has_key="stage"):
        stage, claim = entry.changes["stage"], claims.get(pk)
        # Not one of the person's claims any more (a merge undone took it back): not theirs.
        if claim is None or not isinstance(stage, list) or len(stage) != 2 or stage[1] not in ClaimStage.values:
            continue
        names = {"jurisdiction": _jurisdiction(claim), "stage": ClaimStage(stage[1]).label}
        moved = _("Compensation claim (%(jurisdiction)s): %(stage)s")
        if stage[0] is None:
            moved = _("Compensation claim started (%(jurisdiction)s): %(stage)s")
        found.append(TimelineEntry(entry.at, _("Legal"), _by(moved % names, _logged_by(entry)), url))
    for certificate in _legal_rows(exoneree, InnocenceCertificate):
        add(certificate.applied_on, _("Certificate of innocence applied for"))
        if certificate.status != CertificateStatus.APPLIED:
            add(
                certificate.decided_on,
                _("Certificate of innocence: %(status)s") % {"status": certificate.get_status_display()},
            )
    for clearance in _legal_rows(exoneree, RecordClearance):
        holder = {"holder": clearance.get_holder_display()}
        add(clearance.requested_on, _("Record clearance asked of %(holder)s") % holder)
        add(clearance.confirmed_on, _("Record confirmed clear at %(holder)s") % holder)
        if clearance.last_checked_on != clearance.confirmed_on:
            checked = {**holder, "status": clearance.get_status_display()}
            add(clearance.last_checked_on, _("Record checked at %(holder)s: %(status)s") % checked)
    for item in _legal_rows(exoneree, LegalItem):
        kind = {"kind": item.get_kind_display()}
        add(item.started_on, _("%(kind)s: started") % kind)
        if item.status in (LegalItemStatus.DONE, LegalItemStatus.DROPPED):
            add(item.done_on, _("%(kind)s: %(status)s") % {**kind, "status": item.get_status_display()})
    return found


def _legal_rows(exoneree: Exoneree, model: type[L]) -> list[L]:
    return instances(model, getattr(exoneree, _days_of(model)))


def _jurisdiction(claim: CompensationClaim) -> str:
    return claim.jurisdiction_name or _("no jurisdiction yet")


def _when(moment: datetime | None, day: date) -> datetime | date:
    """The kept moment when it is of this day, else the day (a day edited since is shown as the day)."""
    return moment if moment is not None and timezone.localdate(moment) == day else day


def timeline(
    needs: list[Need],
    events: QuerySet[ReferralEvent],
    follow_ups: list[FollowUp],
    notes: list[CaseNote],
    assessments: list[Assessment],
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for need in needs:
        recorded = _when(need.recorded_at, need.opened_on)
        entries.append(TimelineEntry(recorded, "Need", f"{need.get_domain_display()} need recorded"))
        if need.closed_on:
            closed = _when(need.closed_at, need.closed_on)
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
            who = _name(follow_up.done_by)
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
    return entries
