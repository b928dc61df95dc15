"""Legal remedies of a person: compensation claims (with payments), the certificate of
innocence, record clearance per record holder, and other tracked items (civil-rights suit,
tax relief, official acknowledgment).

Amounts, reasons and notes are encrypted (services.fields). The claim's filing deadline is a
plain column, computed by services.legal_rules when the claim is saved (services.actions.legal),
because the reminders and the directors' figures ask the database about it.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from services import legal_rules
from services.choices import (
    CertificateStatus,
    ClaimStage,
    ClearanceStatus,
    LegalItemKind,
    LegalItemStatus,
    RecordHolder,
    TriggerEvent,
)
from services.fields import EncryptedDecimalField, EncryptedTextField
from services.legal_rules import DeadlineBasis
from services.lifecycle import CLAIM_FILED, CLAIM_NOT_FILED
from services.models.base import BaseModel
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.validators import validate_past_date, validate_sensible_date

MONEY = {"max_digits": 12, "decimal_places": 2, "null": True, "blank": True}

# The claims not filed yet and not closed, as the database asks it: the same rule as
# CompensationClaim.is_open_to_filing, for the lists and figures that filter on it.
OPEN_TO_FILING = Q(stage__in=CLAIM_NOT_FILED, filed_on__isnull=True)


class CompensationClaim(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="compensation_claims")
    # Copied from the person (who never changes organization): the director's figures read
    # one index instead of joining the people.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    jurisdiction = models.CharField(
        max_length=2, blank=True, help_text=_("Whose statute: the federal one, DC or a state.")
    )
    trigger_event = models.CharField(
        _("event that starts the filing window"), max_length=30, choices=TriggerEvent.choices, blank=True
    )
    trigger_date = models.DateField(_("date of that event"), null=True, blank=True, validators=[validate_sensible_date])
    # Computed (services.legal_rules.compute_deadline) on every save; never typed in.
    filing_deadline = models.DateField(null=True, blank=True, editable=False)
    deadline_basis = models.CharField(max_length=30, editable=False, default=DeadlineBasis.NO_JURISDICTION.value)
    deadline_citation = models.CharField(max_length=300, blank=True, editable=False)
    # A lawyer's own deadline wins over the table's; who set it, when and why is kept.
    deadline_override = models.DateField(
        _("deadline set by the lawyer"), null=True, blank=True, validators=[validate_sensible_date]
    )
    override_reason = EncryptedTextField(_("why the lawyer set it"), blank=True, max_length=1000)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    override_at = models.DateTimeField(null=True, blank=True, editable=False)

    stage = models.CharField(max_length=20, choices=ClaimStage.choices, default=ClaimStage.ASSESSING)
    attorney = models.CharField(_("attorney"), max_length=200, blank=True, help_text=_("Name and firm or clinic."))
    filed_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    hearing_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date])
    decided_on = models.DateField(
        _("awarded or denied on"), null=True, blank=True, validators=[validate_sensible_date, validate_past_date]
    )
    denial_reason = EncryptedTextField(_("reason for the denial"), blank=True, max_length=2000)
    appeal_filed_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    award_per_year = EncryptedDecimalField(_("award per year (US$)"), **MONEY)
    award_total = EncryptedDecimalField(_("award in total (US$)"), **MONEY)
    payment_schedule = EncryptedTextField(
        blank=True, max_length=1000, help_text=_("Lump sum, yearly annuity, monthly…, and from when.")
    )
    notes = EncryptedTextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [
            models.Index(fields=["exoneree", "stage"]),
            models.Index(fields=["organization", "filing_deadline"]),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction_name or _('No jurisdiction')}: {self.get_stage_display()}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        rule = legal_rules.rule_for(self.jurisdiction) if self.jurisdiction else None
        if self.jurisdiction and rule is None:
            errors["jurisdiction"] = _("Choose a jurisdiction from the list.")
        if rule and rule.statute and self.trigger_event and self.trigger_event not in rule.triggers:
            allowed = ", ".join(str(TriggerEvent(t).label).lower() for t in rule.triggers)
            errors["trigger_event"] = _("%(name)s's statute counts from: %(allowed)s.") % {
                "name": rule.name,
                "allowed": allowed,
            }
        if self.trigger_date and not self.trigger_event:
            errors["trigger_event"] = _("Say which event this date is.")
        if self.deadline_override and not self.override_reason.strip():
            errors["override_reason"] = _("Say why the lawyer set this deadline (it is kept with the claim).")
        if self.stage in CLAIM_FILED and not self.filed_on:
            errors["filed_on"] = _("Give the date the claim was filed.")
        if self.stage == ClaimStage.DENIED and not self.denial_reason.strip():
            errors["denial_reason"] = _("Give the reason for the denial.")
        if self.stage == ClaimStage.APPEAL and not self.appeal_filed_on:
            errors["appeal_filed_on"] = _("Give the date the appeal was filed.")
        if self.filed_on and self.trigger_date and self.filed_on < self.trigger_date:
            errors["filed_on"] = _("Filing cannot be before the event that opened the window.")
        if self.decided_on and self.filed_on and self.decided_on < self.filed_on:
            errors["decided_on"] = _("A decision cannot be before the filing.")
        for name in ("award_per_year", "award_total"):
            if (value := getattr(self, name)) is not None and value < 0:
                errors[name] = _("An award cannot be negative.")
        if errors:
            raise ValidationError(errors)

    @property
    def jurisdiction_name(self) -> str:
        rule = legal_rules.rule_for(self.jurisdiction) if self.jurisdiction else None
        return rule.name if rule else ""

    @property
    def rule(self) -> legal_rules.Rule | None:
        return legal_rules.rule_for(self.jurisdiction) if self.jurisdiction else None

    @property
    def is_open_to_filing(self) -> bool:
        """Not filed yet and not closed: the deadline still matters (OPEN_TO_FILING, in the database)."""
        return self.stage in CLAIM_NOT_FILED and self.filed_on is None

    @property
    def saved_deadline(self) -> legal_rules.Deadline:
        """The deadline as computed when the claim was last saved (services.actions.legal)."""
        return legal_rules.Deadline(self.filing_deadline, DeadlineBasis(self.deadline_basis), self.deadline_citation)

    def compute_deadline(self) -> legal_rules.Deadline:
        return legal_rules.compute_deadline(
            jurisdiction=self.jurisdiction,
            trigger=self.trigger_event,
            trigger_date=self.trigger_date,
            override=self.deadline_override,
        )

    def days_to_deadline(self, today: date) -> int | None:
        return None if self.filing_deadline is None else (self.filing_deadline - today).days


class ClaimPayment(BaseModel):
    claim = models.ForeignKey(CompensationClaim, on_delete=models.CASCADE, related_name="payments")
    received_on = models.DateField(validators=[validate_sensible_date, validate_past_date])
    amount = EncryptedDecimalField(_("amount (US$)"), max_digits=12, decimal_places=2)
    note = EncryptedTextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "pk"]

    def __str__(self) -> str:
        return f"{_('Payment')} {self.received_on:%Y-%m-%d}"

    def clean(self) -> None:
        if self.amount is not None and self.amount <= 0:
            raise ValidationError({"amount": _("A payment is more than zero.")})


class InnocenceCertificate(BaseModel):
    """A certificate or finding of innocence: some statutes require one before compensation."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="innocence_certificates")
    status = models.CharField(max_length=20, choices=CertificateStatus.choices, default=CertificateStatus.APPLIED)
    court = models.CharField(max_length=200)
    applied_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    decided_on = models.DateField(
        _("granted or denied on"), null=True, blank=True, validators=[validate_sensible_date, validate_past_date]
    )
    notes = EncryptedTextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return f"{_('Certificate of innocence')}: {self.get_status_display()}"

    def clean(self) -> None:
        if self.status != CertificateStatus.APPLIED and not self.decided_on:
            raise ValidationError({"decided_on": _("Give the date of the court's decision.")})
        if self.applied_on and self.decided_on and self.decided_on < self.applied_on:
            raise ValidationError({"decided_on": _("A decision cannot be before the application.")})


class RecordClearance(BaseModel):
    """One holder of the conviction record, and whether it still shows on a background check."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="record_clearances")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    holder = models.CharField(max_length=20, choices=RecordHolder.choices)
    status = models.CharField(max_length=20, choices=ClearanceStatus.choices, default=ClearanceStatus.NOT_REQUESTED)
    requested_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    confirmed_on = models.DateField(
        _("confirmed clear on"), null=True, blank=True, validators=[validate_sensible_date, validate_past_date]
    )
    last_checked_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    notes = EncryptedTextField(blank=True, max_length=4000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["holder", "pk"]
        constraints = [models.UniqueConstraint(fields=["exoneree", "holder"], name="record_clearance_one_per_holder")]
        indexes = [models.Index(fields=["organization", "holder", "status"])]

    def __str__(self) -> str:
        return f"{self.get_holder_display()}: {self.get_status_display()}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.status == ClearanceStatus.CONFIRMED_CLEAR and not self.confirmed_on:
            errors["confirmed_on"] = _("Give the date it was confirmed clear.")
        if self.status == ClearanceStatus.REQUESTED and not self.requested_on:
            errors["requested_on"] = _("Give the date it was requested.")
        if self.requested_on and self.confirmed_on and self.confirmed_on < self.requested_on:
            errors["confirmed_on"] = _("Confirmation cannot be before the request.")
        if errors:
            raise ValidationError(errors)

    @property
    def still_shows(self) -> bool:
        return self.status != ClearanceStatus.CONFIRMED_CLEAR


class LegalItem(BaseModel):
    """A civil-rights suit, tax relief or an official acknowledgment: tracked with dates and notes."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="legal_items")
    kind = models.CharField(max_length=20, choices=LegalItemKind.choices)
    status = models.CharField(max_length=20, choices=LegalItemStatus.choices, default=LegalItemStatus.CONSIDERING)
    started_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date])
    done_on = models.DateField(_("done or dropped on"), null=True, blank=True, validators=[validate_sensible_date])
    notes = EncryptedTextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_status_display()}"

    def clean(self) -> None:
        if self.started_on and self.done_on and self.done_on < self.started_on:
            raise ValidationError({"done_on": _("It cannot end before it started.")})
