"""A person's papers: uploaded by the caseworker or by the person, downloaded through the gate."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from services import access
from services.access import caseworker_required, exoneree_required, staff_required
from services.actions import documents
from services.forms.documents import DocumentForm, MyDocumentForm, too_large_message
from services.lib.said_here import said_at, said_where_it_lands
from services.models.documents import Document
from services.views.common import action_refused, apply_errors, posted, restore_kept

logger = logging.getLogger(__name__)
# A file is never kept over an idle sign-out (services.lib.kept_forms): the page asks for it again.
FILE_AGAIN = gettext_lazy(
    "Here is what you typed before you were signed out. Choose the file again (it could not be kept), "
    "then save the document."
)
# The person's words for the same page: their plan says "papers" ("Your papers", "Send us a
# paper"), and its Spanish "papeles"; the page ended in "Save the document" ("Guardar el documento").
PERSON_WORDS = {
    "said": gettext_lazy(
        "Here is what you typed before you were signed out. Choose the file again (it could not be kept), "
        "then save the paper."
    ),
    "saved": gettext_lazy("The paper is saved."),
    "button": gettext_lazy("Save the paper"),
}
STAFF_WORDS = {
    "said": FILE_AGAIN,
    "saved": gettext_lazy("The document is saved."),
    "button": gettext_lazy("Save the document"),
}


def _files(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


def _upload_page(
    request: HttpRequest, form: DocumentForm | MyDocumentForm, *, save: Any, then: str, **context: Any
) -> HttpResponse:
    """Valid: seal and save (one action), then back; else the form again with its errors (400)."""
    words = PERSON_WORDS if isinstance(form, MyDocumentForm) else STAFF_WORDS
    restore_kept(request, form, said=words["said"])
    if form.is_valid():
        try:
            save()
        except ValidationError as error:
            apply_errors(form, error)
        else:
            # Said where `then` lands (the papers, low on the plan), else at the page's top.
            said_where_it_lands(request, then, words["saved"])
            # The upload script (services/static/services/documents.js) sends the form itself
            # and follows this header, keeping the #place a redirect it follows would lose.
            return HttpResponseClientRedirect(then) if request.htmx else redirect(then)
    status = 400 if form.is_bound else 200
    # The script's early word, the limit in it as the server's.
    context |= {"too_large": too_large_message(), "button": words["button"]}
    return render(request, "services/document_form.html", {"form": form, **context}, status=status)


@require_http_methods(["GET", "POST"])
@caseworker_required
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    form = DocumentForm(posted(request), _files(request), exoneree=exoneree)

    def save() -> Document:
        content = form.cleaned_data["file"]
        return documents.document_upload(by=request.user, exoneree=exoneree, document=form.instance, content=content)

    return _upload_page(
        request,
        form,
        save=save,
        then=exoneree.get_absolute_url() + "#documents",
        title=_("Add a document for %(name)s") % {"name": exoneree.display_name},
        back=exoneree.get_absolute_url(),
        back_label=exoneree.display_name,
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def document_replace(request: HttpRequest, pk: int) -> HttpResponse:
    """A new version of a paper (a renewed ID, a clearer scan); the old one stays in its history."""
    old = access.get_document(request.user, pk, change=True)
    exoneree = old.exoneree
    if old.replaced:  # (access.get_document asks it in the query that loads it)
        # An earlier version (a stale tab, a colleague was first): its form could only ever be
        # refused, and reloading it showed the same form. Say so, with the way to the newest.
        message = _("This document was replaced meanwhile. Replace its newest version, on the person's page.")
        return action_refused(request, message, back=exoneree, status=409)
    form = DocumentForm(posted(request), _files(request), exoneree=exoneree, replacing=old)

    def save() -> Document:
        return documents.document_upload(
            by=request.user, exoneree=exoneree, document=form.instance, content=form.cleaned_data["file"], replaces=old
        )

    return _upload_page(
        request,
        form,
        save=save,
        then=exoneree.get_absolute_url() + "#documents",
        title=_("Replace the %(kind)s of %(name)s") % {"kind": old.get_kind_display(), "name": exoneree.display_name},
        back=exoneree.get_absolute_url(),
        back_label=exoneree.display_name,
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A GET asks to confirm, the POST deletes: "Delete" sits beside "Replace" in the table, and
    nobody can bring a deleted paper back from the person's page or their plan."""
    document = access.get_document(request.user, pk, change=True)
    exoneree = document.exoneree
    back = exoneree.get_absolute_url() + "#documents"
    if request.method == "POST":
        documents.document_delete(by=request.user, document=document)
        return redirect(said_where_it_lands(request, back, _("The document is deleted. Its history is kept.")))
    paper = f"{document} ({document.title})" if document.title else str(document)
    context = {
        "title": _("Delete %(paper)s?") % {"paper": paper},
        "message": _(
            "It leaves %(person)s's page and their plan, and it cannot be brought back from there. "
            "The record of who added and deleted it is kept."
        )
        % {"person": exoneree.display_name},
        "button": _("Delete the document"),
        "back": back,
        "back_label": exoneree.display_name,
    }
    return render(request, "services/confirm.html", context)


@require_POST
@caseworker_required
def document_need(request: HttpRequest, pk: int) -> HttpResponse:
    """The checklist's one click: a need for a missing key paper."""
    exoneree = access.get_exoneree(request.user, pk, change=True)
    try:
        need = documents.document_need_create(by=request.user, exoneree=exoneree, kind=request.POST.get("kind", ""))
    except ValidationError:
        return action_refused(request, _("That paper is not on this person's checklist."), back=exoneree, status=400)
    return redirect(exoneree.get_absolute_url() + said_at(request, f"need-{need.pk}", _("A need for it is recorded.")))


def _stream(request: HttpRequest, document: Document) -> HttpResponse:
    """The file as an attachment, streamed, never cached, never sniffed; or an error page."""
    try:
        document, chunks = documents.document_download(by=request.user, document_id=document.pk)
    except documents.DocumentUnreadable as exc:
        logger.error("document download failed: %s", exc)  # ids and key ids only, never content
        return render(request, "services/document_unreadable.html", status=500)
    response = StreamingHttpResponse(chunks, content_type=document.content_type)
    response["Content-Length"] = str(document.size)
    response["Content-Disposition"] = content_disposition_header(True, document.download_name)
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@staff_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    return _stream(request, access.get_document(request.user, pk))


# The person's own.


@require_http_methods(["GET", "POST"])
@exoneree_required
def my_document_upload(request: HttpRequest) -> HttpResponse:
    exoneree = access.own_exoneree(request.user)
    form = MyDocumentForm(posted(request), _files(request), exoneree=exoneree)

    def save() -> Document:
        content = form.cleaned_data["file"]
        return documents.document_upload(by=request.user, exoneree=exoneree, document=form.instance, content=content)

    return _upload_page(
        request,
        form,
        save=save,
        then=reverse("my_plan") + "?open=documents#documents",  # the papers open, the new one among them
        title=_("Send us a paper"),
        intro=_("Take a photo of the paper, flat and in good light. Your caseworker will see it."),
        back=reverse("my_plan"),
        back_label=_("My plan"),
    )


@require_GET
@exoneree_required
def my_document_download(request: HttpRequest, pk: int) -> HttpResponse:
    return _stream(request, access.get_own_document(request.user, pk))
