"""Merging two records of one person: each field that differs, chosen side by side."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from services.actions.merges import MERGE_FIELDS
from services.models.people import Exoneree

KEPT, DUPLICATE = "kept", "duplicate"


def shown(exoneree: Exoneree, name: str) -> str:
    """A field's value as the page shows it: the SSN's last four digits only, never in full."""
    if name == "ssn":
        return exoneree.ssn_masked or "—"
    field = Exoneree._meta.get_field(name)
    value = getattr(exoneree, field.attname)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value)) if value else "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "—" if value in (None, "") else str(value)


class MergeForm(forms.Form):
    """One choice per differing field: this record's value (the default, unless it is blank)
    or the other record's."""

    def __init__(self, *args: Any, kept: Exoneree, duplicate: Exoneree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = []
        for name in MERGE_FIELDS:
            field = Exoneree._meta.get_field(name)
            if getattr(kept, field.attname) == getattr(duplicate, field.attname):
                continue
            ours, theirs = shown(kept, name), shown(duplicate, name)
            self.fields[name] = forms.ChoiceField(
                label=field.verbose_name.capitalize(),
                choices=[(KEPT, ours), (DUPLICATE, theirs)],
                widget=forms.RadioSelect,
                initial=DUPLICATE if ours == "—" else KEPT,
            )
            self.rows.append(name)

    def from_duplicate(self) -> list[str]:
        return [name for name in self.rows if self.cleaned_data[name] == DUPLICATE]
