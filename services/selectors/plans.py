"""The exoneree's own plan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    CharField,
    F,
    Prefetch,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    AskState,
    NoteVisibility,
)
from services.document_reminders import DAYS_BEFORE
from services.lifecycle import REFERRAL_NOT_ON_PLAN
from services.models.consent import JOINED_CATEGORIES
from services.models.needs import Need
from services.models.organizations import StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors.audit_trail import every_visit, visits_page
from services.selectors.coverage import joined_categories
from services.selectors.documents import documents_page
from services.selectors.legal import legal_plan
from services.selectors.records import REFERRAL_TEXTS

PLAN_UPCOMING = 20  # the next dates on a person's plan

PLAN_MISSED = 10  # the latest past dates still open

PLAN_DONE = 10  # the latest things done with them ("Done lately")

PLAN_DONE_DAYS = 90  # how far back "Done lately" reaches

PLAN_NOTES = 20  # the latest notes shared with them

VISITS_SHOWN = 10  # "Who has looked at your file" on the plan: the newest visits

# On a phone the plan's lower sections fold to their heading and a gist; these stand open, as
# needing the person now: a sharing that ends within SHARING_ENDS_DAYS (to renew it, or let it
# end), a paper that has expired or expires within the ID reminder's lead (DAYS_BEFORE, whose
# email links here).
SHARING_ENDS_DAYS = 30

# "What you asked for" on the plan: the newest asks; the others are on a page of their own
# (my_asks), so a person who asks often still finds their plan on a phone's first screens.
ASKS_SHOWN = 5

# A status in everyday words, as the person's own plan (and their copy) says it.
NEED_PLAIN = {
    "open": _("We are working on it"),
    "in_progress": _("Under way"),
    "met": _("Done"),
    "no_longer_wanted": _("You said you don't need this now"),
}
REFERRAL_PLAIN = {
    "sent": _("We asked them to help you"),
    "accepted": _("They said yes"),
    "declined": _("They could not help"),
    "in_progress": _("They are helping you"),
    "completed": _("Finished"),
    "unresolved": _("It did not work out"),
}


def plain_status(obj: Need | Referral) -> str:
    table = REFERRAL_PLAIN if isinstance(obj, Referral) else NEED_PLAIN
    return str(table.get(obj.status, obj.get_status_display()))


def plan_for(exoneree: Exoneree, *, now: datetime | None = None, whole: bool = False) -> dict[str, Any]:
    """What the exoneree sees: never staff-only notes, drafts or internal follow-ups.

    `whole`: every date and note shared with them, not only the latest the page has room for
    (their own copy, services/selectors/own_copy.py)."""
    now = now or timezone.now()
    upcoming, missed, notes, done = (None,) * 4 if whole else (PLAN_UPCOMING, PLAN_MISSED, PLAN_NOTES, PLAN_DONE)
    needs = list(
        exoneree.needs.prefetch_related(
            Prefetch(
                "referrals",
                queryset=Referral.objects.exclude(status__in=REFERRAL_NOT_ON_PLAN)
                .select_related("resource__provider")
                .defer(*REFERRAL_TEXTS)
                .order_by("-status_changed_at"),
            )
        ).order_by("status", "-opened_on")
    )
    # A follow-up may point at a referral the person must not see (a draft, a cancelled one):
    # the provider's name is shown only for referrals that reached them.
    provider_name = Case(
        When(referral__status__in=REFERRAL_NOT_ON_PLAN, then=Value("")),
        default=F("referral__resource__name"),
        output_field=CharField(),
    )
    # Every open date shared with them, and those done lately (a service recorded as already
    # done, an appointment marked done), in one query, split here: a person has a few (median 3,
    # 99th percentile 20 on the bench network), so this is cheaper than asking the database for
    # each list's first rows (three queries, or a window it must number).
    recent = Q(done_at__isnull=True) | Q(done_at__gte=now - timedelta(days=PLAN_DONE_DAYS))
    dated = list(
        exoneree.follow_ups.filter(recent, shared_with_exoneree=True)
        .annotate(provider_name=provider_name)
        .only("exoneree", "title", "due_at", "done_at", "person_answer", "person_words", "person_answered_at")
        .order_by("due_at", "pk")
    )
    done_lately = sorted((i for i in dated if i.done_at is not None), key=lambda i: (i.done_at, i.pk), reverse=True)
    dated = [item for item in dated if item.done_at is None]
    # Their own asks (issue 19) have a section of their own saying what became of each; one
    # still waiting, or answered with a message, is not casework on the lists below.
    casework = [n for n in needs if n.ask_state not in (AskState.WAITING, AskState.ANSWERED)]
    # The plan reads one page of openings; with older ones past it, what it counts is a floor.
    page = {"visits": every_visit(exoneree), "earlier": None} if whole else visits_page(exoneree)
    visits = page["visits"]
    asks = newest_first(n for n in needs if n.ask_state)
    today = timezone.localdate()
    # What they agreed to share and may still stop: not revoked, not yet ended.
    consents = list(
        exoneree.consents.filter(revoked_at__isnull=True, ends_on__gte=today)
        .select_related("provider")
        .annotate(**{JOINED_CATEGORIES: joined_categories()})
        .order_by("ends_on", "pk")
    )
    papers = documents_page(exoneree, on_plan=True, needs=needs)
    return {
        "asks": asks if whole else asks[:ASKS_SHOWN],
        "earlier_asks": 0 if whole else max(0, len(asks) - ASKS_SHOWN),
        "open_needs": [n for n in casework if n.is_open],
        "closed_needs": [n for n in casework if not n.is_open],
        "upcoming": [item for item in dated if item.due_at >= now][:upcoming],
        "missed": [item for item in reversed(dated) if item.due_at < now][:missed],
        "done_lately": done_lately[:done],
        "notes": list(exoneree.notes.filter(visibility=NoteVisibility.SHARED).select_related("author")[:notes]),
        # Who to call: those who can still answer (a colleague switched off is not).
        "caseworkers": StaffMember.objects.filter(user__caseload=exoneree, user__is_active=True).select_related("user"),
        # The newest visits; the others are on a page of their own (visits_page) and in their copy.
        "visits": visits if whole else visits[:VISITS_SHOWN],
        "earlier_visits": 0 if whole else max(0, len(visits) - VISITS_SHOWN),
        "more_visits": page["earlier"] is not None,  # "See more than N earlier visits"
        **papers,
        "papers_due": any(
            d.expires_on is not None and (d.expires_on - today).days <= DAYS_BEFORE for d in papers["documents"]
        ),
        "consents": consents,
        "sharing_ends_soon": any((c.ends_on - today).days <= SHARING_ENDS_DAYS for c in consents),
        # Their compensation claims in plain words, the records that still show and their other
        # legal items (2 queries).
        **legal_plan(exoneree),
    }


def newest_first(asks: Iterable[Need]) -> list[Need]:
    return sorted(asks, key=lambda n: (n.opened_on, n.pk), reverse=True)


def every_ask(exoneree: Exoneree) -> list[Need]:
    """All the person's own asks, newest first (one query): the page past the plan's newest."""
    return newest_first(exoneree.needs.exclude(ask_state=""))
