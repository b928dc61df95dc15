"""A person's legal remedies (staff): the Legal page and its forms.

The same access rules as every record: the person's caseworkers write, the director reads
(403 on a form), anyone else gets a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import caseworker_required, staff_required
from services.actions import legal
from services.choices import RecordHolder
from services.forms.legal import CertificateForm, ClaimForm, ClearanceForm, LegalItemForm, PaymentForm
from services.lib.said_here import said_at
from services.models.people import Exoneree
from services.selectors import legal as legal_selectors
from services.views.common import form_page, posted

# The table is services/data/compensation_rules.yaml; staff are told where it comes from, not its file.
DISCLAIMER = gettext_lazy(
    "This is information to check with the person's lawyer, not legal advice. Deadlines come from a table "
    "compiled from the published statutes; the lawyer's word wins."
)


def _legal_url(exoneree: Exoneree) -> str:
    return reverse("exoneree_legal", args=[exoneree.pk])


def _back(exoneree: Exoneree) -> dict[str, Any]:
    return {"back": _legal_url(exoneree), "back_label": _("Legal: %(name)s") % {"name": exoneree.display_name}}


@require_GET
@staff_required
def exoneree_legal(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk)
    context = {
        "exoneree": exoneree,
        "can_change": access.can_change_exoneree(request.user, exoneree),
        "disclaimer": DISCLAIMER,
        **legal_selectors.legal_page(exoneree, today=timezone.localdate()),
    }
    return render(request, "services/legal.html", context)


@require_http_methods(["GET", "POST"])
@caseworker_required
def claim_create(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    initial = {"jurisdiction": exoneree.conviction_state.upper(), "trigger_date": exoneree.exoneration_date}
    form = ClaimForm(posted(request), initial=initial)
    return form_page(
        request,
        form,
        lambda: legal.claim_create(by=request.user, exoneree=exoneree, claim=form.instance),
        success=_("Claim recorded."),
        then=_legal_url(exoneree),
        title=_("New compensation claim for %(name)s") % {"name": exoneree.display_name},
        intro=DISCLAIMER,
        **_back(exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def claim_edit(request: HttpRequest, pk: int) -> HttpResponse:
    claim = access.get_claim(request.user, pk, change=True)
    form = ClaimForm(posted(request), instance=claim)
    return form_page(
        request,
        form,
        lambda: legal.claim_update(by=request.user, claim=form.instance),
        success=_("Claim saved."),
        then=_legal_url(claim.exoneree),
        title=_("Compensation claim"),
        intro=DISCLAIMER,
        **_back(claim.exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    claim = access.get_claim(request.user, pk, change=True)
    form = PaymentForm(posted(request))
    return form_page(
        request,
        form,
        lambda: legal.payment_create(by=request.user, claim=claim, payment=form.instance),
        success=_("Payment recorded."),
        then=_legal_url(claim.exoneree),
        title=_("Payment received"),
        **_back(claim.exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def payment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A payment typed wrong is corrected here; one recorded by mistake is removed from here."""
    payment = access.get_payment(request.user, pk, change=True)
    form = PaymentForm(posted(request), instance=payment)
    return form_page(
        request,
        form,
        lambda: legal.payment_update(by=request.user, payment=form.instance),
        success=_("Payment saved."),
        then=_legal_url(payment.claim.exoneree),
        title=_("Payment received"),
        remove_url=reverse("payment_remove", args=[payment.pk]),
        remove_label=_("Remove this payment"),
        remove_note=_("Recorded by mistake (twice, or on the wrong claim)? Removing it leaves a line in the log."),
        **_back(payment.claim.exoneree),
    )


@require_POST
@caseworker_required
def payment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    payment = access.get_payment(request.user, pk, change=True)
    legal.payment_remove(by=request.user, payment=payment)
    return redirect(_legal_url(payment.claim.exoneree) + said_at(request, "claims", _("The payment is removed.")))


@require_http_methods(["GET", "POST"])
@caseworker_required
def certificate_create(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    form = CertificateForm(posted(request))
    return form_page(
        request,
        form,
        lambda: legal.certificate_save(by=request.user, exoneree=exoneree, certificate=form.instance),
        success=_("Certificate of innocence recorded."),
        then=_legal_url(exoneree),
        title=_("Certificate or finding of innocence"),
        **_back(exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def certificate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = access.get_certificate(request.user, pk, change=True)
    form = CertificateForm(posted(request), instance=certificate)
    return form_page(
        request,
        form,
        lambda: legal.certificate_save(by=request.user, exoneree=certificate.exoneree, certificate=form.instance),
        success=_("Certificate of innocence saved."),
        then=_legal_url(certificate.exoneree),
        title=_("Certificate or finding of innocence"),
        **_back(certificate.exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def clearance_edit(request: HttpRequest, pk: int, holder: str) -> HttpResponse:
    """One record holder of the person: the row is made on the first save (one per holder)."""
    if holder not in RecordHolder.values:
        raise Http404
    exoneree = access.get_exoneree(request.user, pk, change=True)
    form = ClearanceForm(posted(request), instance=legal_selectors.clearance_for(exoneree, holder))
    return form_page(
        request,
        form,
        lambda: legal.clearance_save(by=request.user, exoneree=exoneree, clearance=form.instance),
        success=_("Record clearance saved."),
        then=_legal_url(exoneree),
        title=_("Record clearance: %(holder)s") % {"holder": RecordHolder(holder).label},
        **_back(exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def legal_item_create(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    form = LegalItemForm(posted(request))
    return form_page(
        request,
        form,
        lambda: legal.legal_item_save(by=request.user, exoneree=exoneree, item=form.instance),
        success=_("Saved."),
        then=_legal_url(exoneree),
        title=_("Civil-rights suit, tax relief or acknowledgment"),
        **_back(exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def legal_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_legal_item(request.user, pk, change=True)
    form = LegalItemForm(posted(request), instance=item)
    return form_page(
        request,
        form,
        lambda: legal.legal_item_save(by=request.user, exoneree=item.exoneree, item=form.instance),
        success=_("Saved."),
        then=_legal_url(item.exoneree),
        title=item.get_kind_display(),
        **_back(item.exoneree),
    )
