"""A person's conversation with their caseworkers (issue 19): the thread, what a message may
point to, and the messages that wait for staff."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext

from services.choices import NeedDomain, plain_domain
from services.lib.days import plain_day
from services.lifecycle import REFERRAL_NOT_ON_PLAN
from services.models.follow_ups import FollowUp
from services.models.messages import Message
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors.records import OPEN_NEED
from services.selectors.users import caseload_of

THREAD_SHOWN = 200  # the latest messages; a conversation longer than that is rare

ABOUT_SHOWN = 30  # of each kind, the most recent


def thread(exoneree: Exoneree, *, limit: int | None = THREAD_SHOWN, for_person: bool = False) -> list[Message]:
    """The latest messages (all of them with `limit=None`), oldest first, with their authors
    and what they point to: a referral named as "It is about" names it (`referral_name`);
    `for_person`: each with `about_for_person`, what the person reads of that."""
    latest = exoneree.messages.select_related("author", "read_by", "need", "referral__resource", "follow_up").order_by(
        "-created_at", "-pk"
    )[:limit]
    messages = list(reversed(latest))
    names = _thread_referral_names(exoneree, messages, for_person=for_person)
    for message in messages:
        message.referral_name = names.get(message.referral_id, "")
        if for_person:
            message.about_for_person = _about_for_person(message)
    return messages


def _thread_referral_names(exoneree: Exoneree, messages: list[Message], *, for_person: bool) -> dict[int, str]:
    """The referrals the messages point to, each named as "It is about" names it, told apart
    from the person's other referrals that read the same (the ones on their plan; for staff,
    also those the thread points to that left it)."""
    pointed = {message.referral_id for message in messages if message.referral_id}
    if not pointed:
        return {}
    providers = {message.referral.resource.name for message in messages if message.referral_id}
    on_plan = ~Q(status__in=REFERRAL_NOT_ON_PLAN)
    referrals = (
        Referral.objects.filter(on_plan if for_person else on_plan | Q(pk__in=pointed))
        .filter(need__exoneree=exoneree, resource__name__in=providers)
        .select_related("resource", "need")
        .only("resource__name", "need__domain", "sent_at", "created_at")
    )
    return _referral_names(list(referrals), _area(for_person=for_person))


def _area(*, for_person: bool) -> Callable[[str], str]:
    """A need's area as the reader names it: the person as their plan does, staff by its label."""
    return plain_domain if for_person else (lambda domain: str(NeedDomain(domain).label))


def about_choices(exoneree: Exoneree, *, for_person: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """What a new message may point to, grouped: the person's open needs, referrals and open
    follow-ups that their plan shows them (no drafts, no cancelled referrals, no staff-only
    tasks). Staff get the same: the person reads the message, and what it is about with it.
    `for_person`: each need's area in their words, as their plan names it."""
    area = _area(for_person=for_person)
    needs = Need.objects.filter(OPEN_NEED, exoneree=exoneree).only("domain", "description", "opened_on")
    needs = needs.order_by("-opened_on", "-pk")[:ABOUT_SHOWN]
    referrals = (
        Referral.objects.filter(need__exoneree=exoneree)
        .exclude(status__in=REFERRAL_NOT_ON_PLAN)
        .select_related("resource", "need")
        .only("resource__name", "need__domain", "sent_at", "created_at")
        .order_by("-status_changed_at", "-pk")[:ABOUT_SHOWN]
    )
    follow_ups = FollowUp.objects.filter(exoneree=exoneree, done_at__isnull=True, shared_with_exoneree=True)
    groups = [
        (gettext("Needs"), _need_choices(list(needs), area)),
        (
            gettext("Referrals"),
            [(f"referral:{pk}", name) for pk, name in _referral_names(list(referrals), area).items()],
        ),
        (
            gettext("Appointments and tasks"),
            [
                # The day as the plan writes it: the local one, its year when not this year's.
                (f"follow_up:{f.pk}", f"{f.title} ({plain_day(f.due_at)})")
                for f in follow_ups.only("title", "due_at").order_by("due_at", "pk")[:ABOUT_SHOWN]
            ],
        ),
    ]
    return [(label, choices) for label, choices in groups if choices]


ABOUT_WORDS = 40  # of a need's description, where two needs share an area


def _need_choices(needs: list[Need], area: Callable[[str], str]) -> list[tuple[str, str]]:
    """Each need by its area; two in one area ("A job" twice) also by the start of their
    description, which the person's plan shows them too, and by the day each was opened
    should that still read the same."""
    areas = Counter(need.domain for need in needs)
    labels = [
        (need, f"{area(need.domain)}: {Truncator(need.description).chars(ABOUT_WORDS)}")
        if areas[need.domain] > 1
        else (need, area(need.domain))
        for need in needs
    ]
    same = Counter(label for _need, label in labels)
    since = gettext("F j, Y")
    return [
        (
            f"need:{need.pk}",
            gettext("%(need)s (since %(day)s)") % {"need": label, "day": date_format(need.opened_on, since)}
            if same[label] > 1
            else label,
        )
        for need, label in labels
    ]


def _referral_names(referrals: list[Referral], area: Callable[[str], str]) -> dict[int, str]:
    """Each referral (by id, in the order given) by its provider and the need's area; two to
    one provider for one area (sent again after the first went nowhere) also by the day each
    was sent, and by the time too should they share the day. "It is about" offers these
    names, and the thread says them beside each message ("About: …")."""
    named = [(referral, f"{referral.resource.name} ({area(referral.need.domain)})") for referral in referrals]
    same = Counter(name for _referral, name in named)
    # A referral on the plan was sent; one sent before the day of sending was recorded is
    # told by the day it was written.
    sent = {referral.pk: timezone.localtime(referral.sent_at or referral.created_at) for referral in referrals}
    same_day = Counter((name, sent[referral.pk].date()) for referral, name in named)
    names = {}
    for referral, name in named:
        if same[name] > 1:
            when = sent[referral.pk]
            day = date_format(when, gettext("F j"))
            if same_day[name, when.date()] > 1:
                day = gettext("%(day)s at %(time)s") % {"day": day, "time": date_format(when, gettext("g:i a"))}
            name = gettext("%(referral)s, sent %(day)s") % {"referral": name, "day": day}
        names[referral.pk] = name
    return names


def _about_for_person(message: Message) -> str:
    """What the person reads of what a message is about: nothing of a topic their plan does not
    show (a message written before staff could only choose those may point to one)."""
    if message.need_id:
        return plain_domain(message.need.domain)
    if message.referral_id and message.referral.status not in REFERRAL_NOT_ON_PLAN:
        return message.referral_name
    if message.follow_up_id and message.follow_up.shared_with_exoneree:
        return message.follow_up.title
    return ""


def waiting_for_staff(people: list[int]) -> QuerySet[Message]:
    """The people's messages nobody has read yet and those marked "needs action", the oldest
    first (the partial indexes message_unread and message_needs_action). No text: the
    dashboard names who wrote and when."""
    return (
        Message.objects.filter(Q(from_person=True, read_at__isnull=True) | Q(needs_action=True), exoneree__in=people)
        .select_related("exoneree")
        .only(
            "exoneree",
            "created_at",
            "from_person",
            "read_at",
            "needs_action",
            "exoneree__legal_name",
            "exoneree__preferred_name",
        )
        .order_by("created_at", "pk")
    )


def about_fields(value: str) -> dict[str, Any]:
    """The foreign key a chosen "kind:id" sets (the form has checked it is one of the choices)."""
    if not value:
        return {}
    kind, _colon, pk = value.partition(":")
    return {f"{kind}_id": int(pk)}


def conversations_of(user: Any) -> QuerySet[Exoneree]:
    """The caseworker's people who have written or been written to, the latest conversation
    first: each with when it last moved, what of theirs is unread and what needs action."""
    from_them_unread = Q(messages__from_person=True, messages__read_at__isnull=True)
    return (
        caseload_of(user, user)
        .annotate(
            last_message_at=Max("messages__created_at"),
            unread=Count("messages", filter=from_them_unread),
            needs_action=Count("messages", filter=Q(messages__needs_action=True)),
        )
        .filter(last_message_at__isnull=False)
        .order_by("-last_message_at", "pk")
    )
