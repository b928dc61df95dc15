"""What every page with a form shares: one create/edit flow and one form template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy

from services.lib import kept_forms
from services.lib.said_here import said_where_it_lands
from services.models.people import Exoneree

T = TypeVar("T")
BACK_LABELS = {"exoneree_list": "People", "staff_list": "Staff", "resource_list": "Resources"}
# What a page given back after an idle sign-out says (restore_kept): typed, or only chosen.
TYPED_BEFORE = gettext_lazy("Here is what you typed before you were signed out. Check it, then save.")
CHOSEN_BEFORE = gettext_lazy("Here is what you chose before you were signed out. Check it, then save.")


def form_page(
    request: HttpRequest,
    form: Form,
    save: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    then: Any,
    title: str,
    back: str,
    **extra: Any,
) -> HttpResponse:
    """Valid form: `save` (one action), a message, a redirect to `then` (or `then(result)`); the
    message is said at the place the redirect lands on (its `#fragment`: services.lib.said_here).

    Otherwise the form again, status 400, with every error beside its field, including the
    ones the action raised, and nothing saved.
    """
    if form.is_valid():
        try:
            result = save()
        except ValidationError as error:
            apply_errors(form, error)
        else:
            url = resolve_url(then(result) if callable(then) else then)
            return redirect(said_where_it_lands(request, url, success(result) if callable(success) else success))
    return render_form(request, form, title=title, back=back, **extra)


def render_form(request: HttpRequest, form: Form, *, title: str, back: str, **extra: Any) -> HttpResponse:
    """The one form page: every field labelled, errors beside fields; 400 when invalid.

    Opened (GET) by someone whose session timed out while they typed into this very form, it
    shows what they typed (services.lib.kept_forms), to check and save again.
    """
    restore_kept(request, form)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {
        "form": form,
        "title": title,
        "back": back,
        "back_label": extra.pop("back_label", BACK_LABELS.get(back, "Back")),
        "submit": extra.pop("submit", "Save"),
        **extra,
    }
    return render(request, "services/form.html", context, status=status)


def restore_kept(request: HttpRequest, form: Form, *, said: str | Promise = TYPED_BEFORE) -> None:
    """A form page that posts to itself, opened (GET) by someone whose session timed out while
    they typed into it: the form shows what they typed (services.lib.kept_forms), and the page
    says so (`said`: in words that fit what is on it and its button)."""
    kept = kept_forms.form_take(request) if request.method == "GET" and not form.is_bound else None
    if kept and restore(form, kept):
        messages.info(request, said)


def back_to(exoneree: Exoneree) -> dict[str, str]:
    """The form page's way back: the person's page, by name."""
    return {"back": exoneree.get_absolute_url(), "back_label": exoneree.display_name}


def came_from(request: HttpRequest, *paths: str) -> str:
    """Where the director or caseworker came from, to go back to: the `next` a link or a form
    carried (a form's hidden field first), when it is an address of this site whose path is
    one of `paths`, with its query (the list's page, filter and own way back); else ''.
    Never another site's address: a `next` is typed by whoever made the link."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # The host check first: it also refuses what urlsplit cannot parse ("http://[").
    if url_has_allowed_host_and_scheme(next_url, None) and urlsplit(next_url).path in paths:
        return next_url
    return ""


def action_refused(request: HttpRequest, message: str, *, back: Exoneree | str, status: int) -> HttpResponse:
    """A button's action could not be done: say why, with a way back (the person's page, or a
    page named by its URL name), and change nothing."""
    context = {"message": message, **({"back_url": reverse(back)} if isinstance(back, str) else {"back": back})}
    return render(request, "services/action_refused.html", context, status=status)


def apply_errors(form: Form, error: ValidationError) -> None:
    """Put an action's validation errors on the form, beside the field they concern."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def restore(form: Form, kept: dict[str, list[str]]) -> bool:
    """Show kept values as the form's starting values (nothing is saved until it is sent), each
    read by its field's widget as a sent form's would be.

    A box left unticked, and a list of boxes with none ticked, is not in a POST at all: its
    widget says so (`value_omitted_from_data` is False) and reads the absence as unticked, so
    it comes back unticked rather than as it was saved. Any other field missing from the POST
    was not on the page, and keeps its starting value. A POST that was not this form's (none
    of its fields in it) shows nothing, and unticks no box: False.
    """
    if not any(form.add_prefix(name) in kept for name in form.fields):
        return False
    data = QueryDict(mutable=True)
    for name, values in kept.items():
        data.setlist(name, values)
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        # A disabled field is never sent by a browser, and a file never kept: nothing to show.
        if field.disabled or isinstance(field, forms.FileField) or field.widget.value_omitted_from_data(data, {}, key):
            continue
        form.initial[name] = field.widget.value_from_datadict(data, {}, key)
    return True


def posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST, even an empty one (every box unticked), else None (unbound)."""
    return request.POST if request.method == "POST" else None
