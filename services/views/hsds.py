"""The directory in HSDS, for directors: upload a file, see what it would do, confirm; map
taxonomy terms to need domains; download the directory as an HSDS datapackage."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from services import access
from services.access import director_required
from services.actions import hsds as hsds_actions
from services.forms.hsds import HsdsUploadForm, TaxonomyTermsForm
from services.lib.hsds import write_zip
from services.selectors.hsds import directory_tables
from services.selectors.hsds_import import import_plan
from services.views.common import CHOSEN_BEFORE, posted, restore_kept

TERMS_PER_PAGE = 100


@require_http_methods(["GET", "POST"])
@director_required
def hsds_import(request: HttpRequest) -> HttpResponse:
    form = HsdsUploadForm(posted(request), request.FILES if request.method == "POST" else None)
    if form.is_valid():
        upload = hsds_actions.hsds_upload(
            by=request.user, file_name=form.cleaned_data["file"].name, tables=form.cleaned_data["tables"]
        )
        return redirect("hsds_import_preview", upload.pk)
    return render(request, "services/hsds_import.html", {"form": form}, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@director_required
def hsds_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the upload would create, update and leave; the confirm imports it (all or none)."""
    upload = access.get_hsds_import(request.user, pk)
    tables = hsds_actions.uploaded_tables(upload)
    if request.method == "GET":
        plan = import_plan(request.user, tables)
        return render(request, "services/hsds_preview.html", {"upload": upload, "plan": plan})
    try:
        plan = hsds_actions.hsds_import(by=request.user, tables=tables, upload=upload)
    except ValidationError as error:  # a value the models refuse and the plan did not foresee
        context = {"upload": upload, "plan": import_plan(request.user, tables), "refused": error.messages}
        return render(request, "services/hsds_preview.html", context, status=400)
    if not plan.ok:  # the file did not change, but the directory may have since the preview
        return render(request, "services/hsds_preview.html", {"upload": upload, "plan": plan}, status=400)
    counts = plan.summary
    messages.success(
        request,
        _("Imported: %(create)d added, %(update)d updated, %(unchanged)d already up to date.") % counts,
    )
    return redirect("resource_list")


@require_http_methods(["GET", "POST"])
@director_required
def hsds_terms(request: HttpRequest) -> HttpResponse:
    """The mapping of other directories' taxonomy terms to our need domains, unmapped first."""
    terms = access.taxonomy_terms_visible_to(request.user).order_by("domain", "taxonomy", "name", "pk")
    page = Paginator(terms, TERMS_PER_PAGE).get_page(request.POST.get("page") or request.GET.get("page"))
    form = TaxonomyTermsForm(posted(request), terms=list(page.object_list))
    restore_kept(request, form, said=CHOSEN_BEFORE)  # the terms of the page opened
    if form.is_valid():
        changed = hsds_actions.taxonomy_terms_map(by=request.user, domains=form.domains())
        messages.success(request, _("%(count)d terms mapped.") % {"count": changed})
        return redirect(f"{request.path}?page={page.number}")
    status = 400 if form.is_bound else 200
    return render(request, "services/hsds_terms.html", {"form": form, "page": page}, status=status)


@require_GET
@director_required
def hsds_export(request: HttpRequest) -> HttpResponse:
    """The whole directory as an HSDS 3.0 CSV datapackage (a zip); logged as an export."""
    content = write_zip(directory_tables(request.user))
    hsds_actions.hsds_export_record(by=request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="directory-hsds.zip"'
    return response
