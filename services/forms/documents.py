"""Uploading a paper: the caseworker's form and the person's, from a phone."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from services.forms.widgets import DateInput, OwnWordsField, PlainLengths, StaffLengths, name_blanks
from services.lib.uploads import Cleaned, Refused, clean
from services.models.documents import Document, DocumentKind
from services.models.people import Exoneree

# What the file picker offers; the bytes decide (services.lib.uploads), never this list.
ACCEPT = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,application/pdf"

# What a person may upload themselves: their papers, not medical or staff records.
PERSON_KINDS = [
    DocumentKind.BIRTH_CERTIFICATE,
    DocumentKind.SOCIAL_SECURITY_CARD,
    DocumentKind.STATE_ID,
    DocumentKind.PASSPORT,
    DocumentKind.COURT_ORDER,
    DocumentKind.CERTIFICATE_OF_INNOCENCE,
    DocumentKind.BENEFITS_LETTER,
    DocumentKind.OTHER,
]


def cleaned_upload(upload: UploadedFile | None, *, plain: bool = False) -> Cleaned:
    """The file checked and made safe, or a ValidationError in words for the person; `plain`:
    in words without the names of file formats, for the person's own upload."""
    if upload is None:
        raise forms.ValidationError(_("Choose a file."), code="required")
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _too_large()
    upload.seek(0)
    data = upload.read(limit + 1)  # the size the client declared is not trusted either
    if len(data) > limit:
        raise _too_large()
    try:
        return clean(data, name=upload.name or "")
    except Refused as refused:
        raise forms.ValidationError(refused.plain if plain else refused.message, code="refused") from None


def _too_large() -> forms.ValidationError:
    return forms.ValidationError(too_large_message(), code="size")


def too_large_message() -> str:
    """What the server says of a file over the limit; the page's script says the same, early."""
    return _("This file is too large. The limit is %(limit)s.") % {
        "limit": whole_file_size(settings.DOCUMENT_MAX_BYTES)
    }


def whole_file_size(size: int) -> str:
    """A size as Django's filesizeformat says it, without the decimal that says nothing:
    "20 MB" for a whole 20 MB, as people say it ("20.5 MB" stays as it is). The separator is
    the language's own (a comma in Spanish), and a non-breaking space stands before the unit."""
    return WHOLE_DECIMAL.sub("", filesizeformat(size))


# ".0" or ",0" just before the unit's space.
WHOLE_DECIMAL = re.compile(r"[.,]0(?=\s)")


class UploadField(forms.FileField):
    """A file input whose empty file gets our message (Django's says the same, less plainly)."""

    def __init__(self, *, capture: bool = False, **kwargs: Any) -> None:
        attrs = {"accept": ACCEPT}
        if capture:
            attrs["capture"] = "environment"  # a phone opens its back camera
        kwargs.setdefault("widget", forms.FileInput(attrs=attrs))
        kwargs.setdefault(
            "error_messages", {"empty": _("The file is empty. Choose the file again."), "required": _("Choose a file.")}
        )
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["data-max-bytes"] = str(settings.DOCUMENT_MAX_BYTES)  # the page's script warns early
        return attrs


CHOOSE_AGAIN = _("Please choose the file again. It was not kept while you fix the other mistake.")


class FileChosenAgain:
    """A page sent back for any mistake cannot keep the file that was chosen (browsers never
    fill a file input), so say so beside it, as the Social Security number does, rather than
    let the next press of Save answer "Choose a file"."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        if field != "file" and "file" not in self._errors and self.files.get("file"):  # type: ignore[attr-defined]
            super().add_error(
                "file", _("Please choose the file again. It was not kept while you fix the other mistake.")
            )  # type: ignore[misc]
            self.retype_only = {"file"}  # marked, but not a mistake to count (templates/services/_form_errors.html)


class DocumentForm(FileChosenAgain, StaffLengths, forms.ModelForm):
    """The caseworker's: any kind, the dates, on the plan or not, its consent."""

    file = UploadField(
        label=_("File"), help_text=_("A photo (JPEG, PNG or HEIC) or a PDF. Photos lose their location data.")
    )

    class Meta:
        model = Document
        fields = ["kind", "title", "issued_on", "expires_on", "shown_on_plan", "consent", "claim", "certificate"]
        widgets = {"issued_on": DateInput(), "expires_on": DateInput()}

    def __init__(self, *args: Any, exoneree: Exoneree, replacing: Document | None = None, **kwargs: Any) -> None:
        if replacing is not None:
            kwargs.setdefault(
                "initial",
                {
                    "kind": replacing.kind,
                    "title": replacing.title,
                    "shown_on_plan": replacing.shown_on_plan,
                    "consent": replacing.consent_id,
                    "claim": replacing.claim_id,
                    "certificate": replacing.certificate_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["consent"].queryset = exoneree.consents.select_related("provider").order_by("-signed_on", "-pk")
        self.fields["consent"].help_text = _("For a signed release: the consent it records.")
        # A court order or the certificate itself, with the legal record it proves (the Legal page).
        self.fields["claim"].queryset = exoneree.compensation_claims.order_by("pk")
        self.fields["claim"].label_from_instance = lambda claim: (
            _("Compensation claim: %(where)s") % {"where": claim.jurisdiction_name or _("jurisdiction not known yet")}
        )
        self.fields["claim"].help_text = _("For a court order or a certificate of innocence: the claim it supports.")
        self.fields["certificate"].queryset = exoneree.innocence_certificates.order_by("pk")
        self.fields["certificate"].label_from_instance = lambda certificate: " · ".join(
            part for part in (str(certificate.get_status_display()), certificate.court) if part
        )
        self.fields["certificate"].help_text = _("For the certificate itself: its record on the Legal page.")
        self.instance.exoneree = exoneree
        self.order_fields(["file", "kind"])
        name_blanks(
            self,
            kind=_("Choose the kind of paper"),
            consent=_("Not a signed release"),
            claim=_("Not for a claim"),
            certificate=_("Not a certificate"),
        )

    def clean_file(self) -> Cleaned:
        return cleaned_upload(self.cleaned_data.get("file"))


class MyDocumentForm(FileChosenAgain, PlainLengths, forms.ModelForm):
    """The person's own, from a phone: what the paper is, and the photo."""

    file = UploadField(
        label=_("Photo or file"),
        capture=True,
        help_text=_(
            "Take a photo of the paper, or choose a scan of it. We keep the photo without the place where it was taken."
        ),
    )

    class Meta:
        model = Document
        fields = ["kind", "title"]
        labels = {"kind": _("What paper is it?"), "title": _("A few words about it (you can leave this empty)")}
        field_classes = {"title": OwnWordsField}

    def __init__(self, *args: Any, exoneree: Exoneree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Choose…")), *[(kind.value, kind.label) for kind in PERSON_KINDS]]
        self.fields["kind"].error_messages["required"] = _("Choose what paper it is.")
        self.fields["title"].help_text = ""
        self.instance.exoneree = exoneree
        self.instance.shown_on_plan = True  # their own upload is theirs to see
        self.order_fields(["kind", "file"])

    def clean_file(self) -> Cleaned:
        return cleaned_upload(self.cleaned_data.get("file"), plain=True)
