"""The person's own asks for help: asked on My plan, taken on or answered by the caseworker."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from services import access
from services.access import caseworker_required, exoneree_required
from services.actions import asks
from services.choices import AskState
from services.forms.asks import AskAnswerForm, AskForm
from services.lib.said_here import said_at
from services.lifecycle import TransitionNotAllowed
from services.models.needs import Need
from services.views.common import action_refused, apply_errors, back_to, form_page, posted
from services.views.plan import plan_page


@require_POST
@exoneree_required
def my_ask(request: HttpRequest) -> HttpResponse:
    """ "I need help with…" on My plan: one need, waiting for their caseworker."""
    exoneree = access.own_exoneree(request.user)
    form = AskForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            asks.need_ask(
                by=request.user,
                exoneree=exoneree,
                words=data["words"],
                domain=data["domain"],
                priority=data["priority"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            said = _("Thank you. We told your caseworker. You can see your question below.")
            return redirect(reverse("my_plan") + said_at(request, "asks", said))
    return plan_page(request, exoneree, status=400, ask_form=form)


def _own_ask(request: HttpRequest, pk: int) -> Need:
    need = access.get_need(request.user, pk, change=True)
    if not need.asked_by_person:
        raise Http404
    return need


@require_POST
@caseworker_required
def need_ask_take_on(request: HttpRequest, pk: int) -> HttpResponse:
    need = _own_ask(request, pk)
    try:
        asks.need_ask_take_on(by=request.user, need=need)
    except TransitionNotAllowed as error:
        return action_refused(request, str(error), back=need.exoneree, status=409)
    said = said_at(request, f"need-{need.pk}", _("You took it on. It is an open need now, in their words."))
    return redirect(need.exoneree.get_absolute_url() + said)


@require_http_methods(["GET", "POST"])
@caseworker_required
def need_ask_answer(request: HttpRequest, pk: int) -> HttpResponse:
    need = _own_ask(request, pk)
    if need.ask_state != AskState.WAITING:
        return action_refused(
            request, _("This question was already answered or taken on."), back=need.exoneree, status=409
        )
    form = AskAnswerForm(posted(request))

    def save() -> Need:
        try:
            return asks.need_ask_answer(by=request.user, need=need, answer=form.cleaned_data["answer"])
        except TransitionNotAllowed as error:
            raise ValidationError(str(error)) from error

    return form_page(
        request,
        form,
        save,
        success=_("Answer sent. They will see it on their plan."),
        then=lambda n: f"{n.exoneree.get_absolute_url()}#need-{n.pk}",
        title=_("Answer %(name)s") % {"name": need.exoneree.display_name},
        intro=_("They asked: “%(words)s”") % {"words": need.own_words},
        submit=_("Send the answer"),
        **back_to(need.exoneree),
    )
