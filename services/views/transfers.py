"""Transfers of a person's record to another organization (issue 23)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from services import access, audit
from services.access import director_required, staff_required
from services.actions import transfers
from services.choices import TransferPart
from services.forms.transfers import ACCEPT, TransferAnswerForm, TransferForm
from services.models.people import Exoneree
from services.views.common import back_to, form_page, posted


@require_http_methods(["GET", "POST"])
@staff_required
def transfer_propose(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree_to_transfer(request.user, pk)
    form = TransferForm(posted(request), sender=exoneree.organization)
    return form_page(
        request,
        form,
        lambda: transfers.transfer_propose(by=request.user, exoneree=exoneree, **form.cleaned_data),
        success=lambda transfer: (
            _("The transfer to %(organization)s waits for its director's answer.")
            % {"organization": transfer.to_organization.name}
        ),
        then=exoneree,
        title=_("Transfer %(display_name)s to another organization") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
        intro=_(
            "Only with %(first_name)s's consent: a current consent with that organization that names the "
            "transfer of the record (and staff case notes, if they go). Its director accepts or declines; "
            "on acceptance the parts chosen are copied there and this case closes as transferred."
        )
        % {"first_name": exoneree.first_name},
        submit=_("Propose the transfer"),
    )


@require_GET
@director_required
def transfer_list(request: HttpRequest) -> HttpResponse:
    """The transfers waiting for this director's organization's answer."""
    return render(request, "services/transfer_list.html", {"transfers": access.transfers_to_answer(request.user)})


@require_http_methods(["GET", "POST"])
@director_required
def transfer_answer(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = access.get_transfer_to_answer(request.user, pk)
    audit.record_view(request.user, transfer.exoneree, transfer)  # their name, read in another organization
    form = TransferAnswerForm(posted(request))

    def answer() -> object:
        if form.cleaned_data["decision"] == ACCEPT:
            return transfers.transfer_accept(by=request.user, transfer=transfer)
        return transfers.transfer_decline(by=request.user, transfer=transfer, reason=form.cleaned_data["reason"])

    parts = ", ".join(str(TransferPart(part).label).lower() for part in transfer.parts) or _("nothing more")
    return form_page(
        request,
        form,
        answer,
        success=lambda result: (
            _("Accepted: assign a caseworker now.")
            if isinstance(result, Exoneree)
            else _("Declined: the sender is told.")
        ),
        then=lambda result: result if isinstance(result, Exoneree) else "transfer_list",
        title=_("Transfer of %(name)s from %(organization)s")
        % {"name": transfer.exoneree.display_name, "organization": transfer.from_organization.name},
        back="transfer_list",
        back_label=_("Transfers waiting"),
        intro=_("Their profile goes with: %(parts)s.") % {"parts": parts},
        submit=_("Send the answer"),
    )
