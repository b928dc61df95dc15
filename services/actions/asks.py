"""The person's own asks for help (issue 19): asked on their plan, taken on or answered by
their caseworker.

An ask is a Need from the start (marked by `ask_state`), so it is counted, listed and
referred like any other need once taken on, and the person's words stay theirs (`own_words`).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.actions.messages import message_send
from services.actions.needs import need_create, need_set_status
from services.choices import AskState, NeedDomain, NeedStatus, Priority
from services.lifecycle import check_ask_transition
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.selectors import users

ASK_FIELDS = ["ask_state", "ask_answer", "ask_handled_at"]


@transaction.atomic
def need_ask(*, by: AbstractUser, exoneree: Exoneree, words: str, domain: str = "", priority: str) -> Need:
    """The person asks for help in their own words: exactly one need, waiting for a caseworker,
    and one in-app notification to each of their caseworkers (which names nothing but who asked)."""
    if not words.strip():
        raise ValidationError({"words": _("Tell us what you need help with.")})
    need = Need(
        domain=domain or NeedDomain.OTHER,
        # The description is staff's summary; until a caseworker writes one, it is the ask itself.
        description=words,
        own_words=words,
        priority=priority or Priority.MEDIUM,
        status=NeedStatus.OPEN,
        ask_state=AskState.WAITING,
    )
    need = need_create(by=by, exoneree=exoneree, need=need)
    url = reverse("exoneree_detail", args=[exoneree.pk]) + f"#need-{need.pk}"
    text = f"{exoneree.display_name} asked for help on their plan."
    Notification.objects.bulk_create(
        [Notification(user_id=user_id, text=text, url=url) for user_id in users.told_of(exoneree)]
    )
    return need


def _handle(*, by: AbstractUser, need: Need, state: str, answer: str = "") -> Need:
    # Under a lock, against the stored state: two colleagues handling the same ask at once
    # cannot both succeed.
    need.ask_state = Need.objects.select_for_update(no_key=True).values_list("ask_state", flat=True).get(pk=need.pk)
    check_ask_transition(need.ask_state, state)
    before = audit.stored(need)
    need.ask_state = state
    need.ask_answer = answer
    need.ask_handled_at = timezone.now()
    need.full_clean()
    need.save(update_fields=ASK_FIELDS)
    audit.record_change(by, need, before, exoneree=need.exoneree, fields=ASK_FIELDS)
    return need


@transaction.atomic
def need_ask_take_on(*, by: AbstractUser, need: Need) -> Need:
    """The caseworker takes the ask on: it stays an open need, in the person's words."""
    return _handle(by=by, need=need, state=AskState.TAKEN_ON)


@transaction.atomic
def need_ask_answer(*, by: AbstractUser, need: Need, answer: str) -> Need:
    """The caseworker answers the ask with a message instead of opening casework: the person
    reads the answer on their plan and in their messages, and the need is closed as met (the
    question was answered)."""
    if not answer.strip():
        raise ValidationError({"ask_answer": _("Write your answer to them.")})
    need = _handle(by=by, need=need, state=AskState.ANSWERED, answer=answer)
    if need.is_open:
        need_set_status(by=by, need=need, status=NeedStatus.MET)
    # The answer is a message too: in their conversation, pointing to the ask, and announced
    # to them like any message ("You have a new message", never its text).
    message_send(by=by, exoneree=need.exoneree, text=answer, from_person=False, about={"need_id": need.pk})
    return need
