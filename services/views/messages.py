"""Messages with my caseworker (issue 19): the person's thread, the same thread on the staff
side (a director reads it, read-only), and staff's "needs action" flag."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import caseworker_required, exoneree_required, staff_required
from services.actions import messages
from services.choices import ContactPreference
from services.forms.messages import MessageForm, NeedsActionForm, StaffMessageForm
from services.lib.said_here import said_at
from services.lib.sms import sms_enabled
from services.models.people import Exoneree
from services.selectors import conversations
from services.views.cases import PAGE_SIZE
from services.views.common import action_refused, posted, restore_kept

WRITTEN_BEFORE = gettext_lazy("Here is the message you wrote before you were signed out. Check it, then send it.")


@require_GET
@caseworker_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    """Every conversation with the caseworker's people, the latest first (the dashboard shows
    only what waits for an answer)."""
    people = Paginator(conversations.conversations_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "services/conversation_list.html", {"page": people})


@require_http_methods(["GET", "POST"])
@exoneree_required
def my_messages(request: HttpRequest) -> HttpResponse:
    exoneree = access.own_exoneree(request.user)
    form = MessageForm(posted(request), about=conversations.about_choices(exoneree, for_person=True))
    restore_kept(request, form, said=WRITTEN_BEFORE)
    if form.is_valid():
        about = conversations.about_fields(form.cleaned_data["about"])
        messages.message_send(
            by=request.user, exoneree=exoneree, text=form.cleaned_data["text"], from_person=True, about=about
        )
        return redirect(reverse("my_messages") + said_at(request, "latest", _("Sent. Your caseworker will see it.")))
    if request.method == "GET":
        # Read receipts: opening the thread reads what the caseworkers wrote.
        messages.messages_mark_read(by=request.user, exoneree=exoneree, from_person=False)
    context = {"exoneree": exoneree, "form": form, "thread": conversations.thread(exoneree, for_person=True)}
    return render(request, "services/my_messages.html", context, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@staff_required
def exoneree_messages(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's conversation. Opening it is logged like any opening of the record; only
    their assigned caseworkers write (a director, or a caseworker under emergency access, reads)."""
    exoneree = access.get_exoneree(request.user, pk, change=request.method == "POST")
    can_write = access.can_change_exoneree(request.user, exoneree)
    form = StaffMessageForm(posted(request), about=conversations.about_choices(exoneree))
    restore_kept(request, form, said=WRITTEN_BEFORE)
    if form.is_valid():
        about = conversations.about_fields(form.cleaned_data["about"])
        messages.message_send(
            by=request.user, exoneree=exoneree, text=form.cleaned_data["text"], from_person=False, about=about
        )
        return redirect(reverse("exoneree_messages", args=[pk]) + said_at(request, "latest", sent_to_person(exoneree)))
    if request.method == "GET" and can_write:
        messages.messages_mark_read(by=request.user, exoneree=exoneree, from_person=True)
    context = {
        "exoneree": exoneree,
        "form": form,
        "thread": conversations.thread(exoneree),
        "can_write": can_write,
    }
    return render(request, "services/exoneree_messages.html", context, status=400 if form.is_bound else 200)


def sent_to_person(exoneree: Exoneree) -> str:
    """What staff are told once their message is sent: whether the person hears of it
    (services.tasks.send_message_notice)."""
    if exoneree.user_id is None:
        return _("Sent. They have no login yet, so they cannot read it: tell them another way, or invite them.")
    if exoneree.contact_preference == ContactPreference.DO_NOT_CONTACT:
        return _("Sent. They asked not to be contacted, so they are not told: they will see it when they sign in.")
    texted = exoneree.contact_preference == ContactPreference.TEXT and exoneree.phone and sms_enabled()
    if not (texted or exoneree.email):
        return _("Sent. No text or email can reach them from here, so they are not told: tell them another way.")
    return _("Sent. They will be told they have a new message.")


@require_POST
@caseworker_required
def message_needs_action(request: HttpRequest, pk: int) -> HttpResponse:
    message = access.get_message(request.user, pk, change=True)
    if not message.from_person:
        raise PermissionDenied  # a flag on what the person wrote, not on staff's own words
    form = NeedsActionForm(request.POST)
    if not form.is_valid():
        return action_refused(request, _("Choose whether it needs action."), back=message.exoneree, status=400)
    messages.message_set_needs_action(by=request.user, message=message, needs_action=form.cleaned_data["needs_action"])
    return redirect(reverse("exoneree_messages", args=[message.exoneree_id]) + f"#message-{message.pk}")
