"""The resource directory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import (
    Language,
    NeedDomain,
    ResourceStatus,
)
from services.forms.contact import phone_or_error, postal_code_or_error, state_or_error, when_typed
from services.forms.widgets import MAX_SEARCH, FieldGroup, StaffLengths, name_blanks
from services.models.directory import Provider, Resource
from services.selectors.users import is_site_language


class ResourceForm(StaffLengths, forms.ModelForm):
    new_provider_name = forms.CharField(
        label=_("…or a new provider"), required=False, max_length=200, help_text=_("Type a name to add a new provider.")
    )
    domains = forms.MultipleChoiceField(
        label=_("Needs it serves"), choices=NeedDomain.choices, widget=forms.CheckboxSelectMultiple
    )
    # The provider's, not the resource's (Provider.language): there is no provider form, and
    # this one already chooses or makes the provider. Empty leaves it as it is: a new resource
    # of a provider reading Spanish does not turn it to English by a choice nobody made.
    provider_language = forms.ChoiceField(
        label=_("The provider's language"),
        choices=[("", _("As it is (English for a new provider)")), *Language.choices],
        required=False,
        help_text=_("The referral emails to the provider, and the page their link opens, are in it."),
    )

    class Meta:
        model = Resource
        fields = [
            "provider",
            "name",
            "description",
            "eligibility",
            "fees",
            "application_process",
            "languages",
            "address",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "intake_email",
            "hours",
            "status",
            "hours_es",
        ]
        error_messages = {"name": {"required": _("Name the service, as the provider calls it.")}}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "eligibility": forms.Textarea(attrs={"rows": 2}),
            "application_process": forms.Textarea(attrs={"rows": 2}),
        }

    field_order = ["provider", "new_provider_name", "provider_language", "name", "domains"]

    def __init__(self, *args: Any, providers: QuerySet[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["provider"].required = False
        name_blanks(self, provider=_("Choose a provider"), status=_("Choose whether it is open"))
        if self.instance.pk:
            self.initial["domains"] = [row.domain for row in self.instance.domain_rows.all()]
            self.initial["provider_language"] = self.instance.provider.language

    def field_group(self) -> FieldGroup:
        """The words a person reads on their plan, typed in Spanish too (Resource.hours_to_read)."""
        return FieldGroup(
            legend=_("In Spanish (shown to people who read Spanish)"),
            fields=[self["hours_es"]],
            help=_("Optional: left empty, people who read Spanish see the English."),
        )

    # Checked when typed, so marking an imported resource inactive is never held up.
    def clean_phone(self) -> str:
        return when_typed(self, "phone", phone_or_error)

    def clean_state(self) -> str:
        return when_typed(self, "state", state_or_error)

    def clean_postal_code(self) -> str:
        state = self.cleaned_data.get("state", "")
        return when_typed(self, "postal_code", lambda code: postal_code_or_error(code, state=state), also=("state",))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen, typed = data.get("provider"), data.get("new_provider_name", "").strip()
        if not chosen and not typed:
            self.add_error("provider", _("Choose a provider or type the name of a new one."))
        if chosen and typed:
            # Both given, the typed name used to win without a word: a new provider was made
            # beside the one chosen. Which was meant only the person can say.
            self.add_error("new_provider_name", _("Choose a provider or type a new one, not both."))
        moved = self.instance.pk and (typed or chosen != self.instance.provider)
        if moved and "provider_language" not in self.changed_data:
            # The language shown was the old provider's: left alone, it says nothing of the new one.
            data["provider_language"] = ""
        return data


class ProviderLanguageForm(StaffLengths, forms.Form):
    """The provider's language as the API sets it (PATCH /api/v1/providers/<id>/): one of the
    site's languages, said by its code."""

    language = forms.CharField(max_length=10, error_messages={"required": _("Give the provider's language.")})

    def clean_language(self) -> str:
        language = self.cleaned_data["language"]
        if not is_site_language(language):
            raise forms.ValidationError(
                _("“%(language)s” is not one of the site's languages: %(languages)s.")
                % {"language": language, "languages": ", ".join(f"{code} ({name})" for code, name in Language.choices)},
                code="invalid_choice",
            )
        return language


class ResourceSearchForm(StaffLengths, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_SEARCH)
    domain = forms.ChoiceField(label=_("Need"), required=False, choices=[("", "All needs"), *NeedDomain.choices])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", "Active services"), ("all", "Any status"), *ResourceStatus.choices],
    )
