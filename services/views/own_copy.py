"""The person's own copy (issue 23): everything shared with them, as a PDF to read and a JSON
file for a program, in their language; downloaded by them from their plan, or by staff who
may see them, on their behalf. Each download is an export in the access log."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.http import require_GET

from services import access
from services.access import exoneree_required, staff_required
from services.actions import exports
from services.models.people import Exoneree
from services.selectors.own_copy import own_copy
from services.views.printing import pdf_response

# Fixed file names: the person's name would end up in download folders and logs.
PDF_NAME = "my-copy.pdf"
JSON_NAME = "my-copy.json"


@require_GET
@exoneree_required
def my_copy_pdf(request: HttpRequest) -> HttpResponse:
    return _copy(request, access.own_exoneree(request.user), as_json=False)


@require_GET
@exoneree_required
def my_copy_json(request: HttpRequest) -> HttpResponse:
    return _copy(request, access.own_exoneree(request.user), as_json=True)


@require_GET
@staff_required
def exoneree_copy_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _copy(request, access.get_exoneree(request.user, pk), as_json=False)


@require_GET
@staff_required
def exoneree_copy_json(request: HttpRequest, pk: int) -> HttpResponse:
    return _copy(request, access.get_exoneree(request.user, pk), as_json=True)


def _copy(request: HttpRequest, exoneree: Exoneree, *, as_json: bool) -> HttpResponse:
    # The person's language whoever downloads it: it is theirs to read.
    with translation.override(exoneree.preferred_language):
        copy = own_copy(exoneree)
        if as_json:
            response = JsonResponse(copy, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})
            response["Content-Disposition"] = f'attachment; filename="{JSON_NAME}"'
        else:
            response = pdf_response(request, "services/own_copy_pdf.html", {"copy": copy}, PDF_NAME)
    if response.status_code == 200:
        exports.own_copy_export(by=request.user, exoneree=exoneree, form="JSON" if as_json else "PDF")
    # Said here too, not only by the middleware: a copy of a person's file is never kept.
    response["Cache-Control"] = "no-store, private"
    return response
