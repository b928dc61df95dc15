"""The directory in HSDS: the upload, and the mapping of taxonomy terms to need domains."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services.choices import NeedDomain
from services.lib.hsds import MAX_BYTES, HsdsError, read_bytes
from services.models.directory import TaxonomyTerm


class HsdsUploadForm(forms.Form):
    file = forms.FileField(
        label=_("HSDS file"),
        help_text=_("The CSV datapackage as a .zip, or HSDS JSON (at most 50 MB)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.json,application/zip,application/json"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB: too large to import at once."))
        upload.seek(0)
        content = upload.read(MAX_BYTES + 1)  # the size the browser declared is not trusted either
        try:
            self.cleaned_data["tables"] = read_bytes(content)
        except HsdsError as error:
            raise forms.ValidationError(error.message) from None
        return upload


class TaxonomyTermsForm(forms.Form):
    """One choice per term: the need domain it stands for, or none yet."""

    def __init__(self, *args: Any, terms: list[TaxonomyTerm], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Not mapped yet")), *NeedDomain.choices]
        for term in terms:
            label = f"{term.name} ({term.code})" if term.code and term.code != term.name else term.name
            self.fields[f"term_{term.pk}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=term.domain,
                help_text=term.taxonomy,
            )

    def domains(self) -> dict[int, str]:
        return {int(name.removeprefix("term_")): value for name, value in self.cleaned_data.items()}
