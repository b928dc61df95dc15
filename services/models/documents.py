"""A person's papers: IDs, court papers, signed releases, kept encrypted (services.documents).

The row holds what the file is (kind, title, dates), who uploaded it and where it sits in the
document storage; the file itself is sealed with its own random data key (envelope
encryption), and that key is kept here in `data_key`, an encrypted field: the field keys wrap
it, so `rotate_encryption_keys` re-wraps it like any other value and never rewrites a file.

Nothing is ever deleted: a deletion is recorded (`deleted_at`, `deleted_by`), and a
replacement is a new row pointing at the one it replaces (`replaces`), so the history of
a paper stays readable.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from services.fields import EncryptedCharField
from services.models.base import BaseModel
from services.models.consent import Consent
from services.models.legal import CompensationClaim, InnocenceCertificate
from services.models.people import Exoneree
from services.models.validators import validate_past_date, validate_sensible_date


class DocumentKind(models.TextChoices):
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    SOCIAL_SECURITY_CARD = "social_security_card", _("Social Security card")
    STATE_ID = "state_id", _("State ID or driver's license")
    PASSPORT = "passport", _("Passport")
    COURT_ORDER = "court_order", _("Court order")
    CERTIFICATE_OF_INNOCENCE = "certificate_of_innocence", _("Certificate of innocence")
    SIGNED_RELEASE = "signed_release", _("Signed release")
    BENEFITS_LETTER = "benefits_letter", _("Benefits letter")
    MEDICAL = "medical", _("Medical")
    OTHER = "other", _("Other")


# Identity papers that expire: their expiry date makes a reminder (services.document_reminders).
EXPIRING_KINDS = (DocumentKind.STATE_ID, DocumentKind.PASSPORT)


# The papers that prove a legal remedy: attached to a claim (and the certificate to its record).
LEGAL_PAPERS = frozenset({DocumentKind.COURT_ORDER, DocumentKind.CERTIFICATE_OF_INNOCENCE})


class DocumentQuerySet(models.QuerySet):
    def current(self) -> DocumentQuerySet:
        """Neither deleted nor replaced by a newer version."""
        return self.filter(deleted_at__isnull=True, replaced_by__isnull=True)


class Document(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    # A title may name a court or a case: encrypted like other free text.
    title = EncryptedCharField(max_length=200, blank=True, help_text=_("For example: Cook County order of 2019."))
    issued_on = models.DateField(
        _("issued on"), null=True, blank=True, validators=[validate_sensible_date, validate_past_date]
    )
    expires_on = models.DateField(_("expires on"), null=True, blank=True, validators=[validate_sensible_date])
    shown_on_plan = models.BooleanField(
        _("show it on their plan"), default=True, help_text=_("They can then see and download it.")
    )
    # A signed release belongs to the consent it records.
    consent = models.ForeignKey(
        Consent, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents", verbose_name=_("consent")
    )
    # A court order or a certificate of innocence belongs with the legal record it proves.
    claim = models.ForeignKey(
        CompensationClaim,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("compensation claim"),
    )
    certificate = models.ForeignKey(
        InnocenceCertificate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("certificate of innocence"),
    )
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", editable=False
    )

    # The sealed file: where it is, its type and size (of the plaintext), and its data key.
    # `file_id` names the object in storage and is bound into every chunk's associated data.
    file_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    storage_name = models.CharField(max_length=100, unique=True, editable=False)
    content_type = models.CharField(max_length=40, editable=False)
    size = models.PositiveBigIntegerField(editable=False)
    data_key = EncryptedCharField(max_length=64, editable=False)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-uploaded_at", "-pk"]
        indexes = [
            models.Index(fields=["exoneree", "kind"]),
            models.Index(fields=["expires_on"], condition=Q(deleted_at__isnull=True), name="document_expiring"),
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())

    def clean(self) -> None:
        errors = {}
        if self.issued_on and self.expires_on and self.expires_on < self.issued_on:
            errors["expires_on"] = _("It cannot expire before it was issued.")
        if self.consent_id is not None and self.consent.exoneree_id != self.exoneree_id:
            errors["consent"] = _("Choose one of this person's consents.")
        if self.consent_id is not None and self.kind != DocumentKind.SIGNED_RELEASE:
            errors["consent"] = _("Only a signed release is attached to a consent.")
        if self.claim_id is not None and self.claim.exoneree_id != self.exoneree_id:
            errors["claim"] = _("Choose one of this person's claims.")
        elif self.claim_id is not None and self.kind not in LEGAL_PAPERS:
            errors["claim"] = _("Only a court order or a certificate of innocence is attached to a claim.")
        if self.certificate_id is not None and self.certificate.exoneree_id != self.exoneree_id:
            errors["certificate"] = _("Choose one of this person's certificates.")
        elif self.certificate_id is not None and self.kind != DocumentKind.CERTIFICATE_OF_INNOCENCE:
            errors["certificate"] = _("Only the certificate itself is attached to the certificate's record.")
        if errors:
            raise ValidationError(errors)

    @property
    def encryption_context(self) -> str:
        """What the file's chunks are bound to: this person and this file, nothing else."""
        return f"services.Document:{self.exoneree_id}:{self.file_id}"

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(self.content_type, "bin")

    @property
    def download_name(self) -> str:
        """The file's name on download: the kind as the pages name it, in the active language
        (the person's on My plan, English for staff), and the upload day; never the person's
        name. ASCII only, as slugify leaves it ("Identificación" gives "identificacion"): any
        browser and any file system keep it as it is."""
        day = timezone.localtime(self.uploaded_at).date()  # the day as the person lives it, not UTC's
        return f"{slugify(self.get_kind_display())}-{day:%Y-%m-%d}.{self.extension}"

    @property
    def is_current(self) -> bool:
        return self.deleted_at is None and not hasattr(self, "replaced_by")
