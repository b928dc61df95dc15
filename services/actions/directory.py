"""The resource directory."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from services import audit
from services.access import organization_of
from services.models.directory import Provider, Resource, ResourceDomain

# The resource directory.


@transaction.atomic
def resource_save(
    *,
    by: AbstractUser,
    resource: Resource,
    domains: Iterable[str],
    new_provider_name: str = "",
    provider_language: str = "",
) -> Resource:
    """`provider_language`: the language of the resource's provider from here on (every one of
    its resources: referral emails and the page their link opens); empty leaves it as it is."""
    organization = organization_of(by)
    before = {} if resource._state.adding else audit.stored(resource)
    resource.organization = organization
    if new_provider_name.strip():
        resource.provider, _created = Provider.objects.get_or_create(
            organization=organization, name=new_provider_name.strip()
        )
    if resource.provider_id is None:
        raise ValidationError({"provider": _("Choose a provider or type the name of a new one.")})
    if resource.provider.organization_id != organization.pk:
        raise ValidationError({"provider": _("Choose a provider from your organization's directory.")})
    resource.full_clean()
    resource.save()
    domains = set(domains)
    resource.domain_rows.exclude(domain__in=domains).delete()
    existing = set(resource.domain_rows.values_list("domain", flat=True))
    ResourceDomain.objects.bulk_create(
        [ResourceDomain(resource=resource, domain=domain) for domain in sorted(domains - existing)]
    )
    audit.record_change(by, resource, before, exoneree=None)
    if provider_language and provider_language != resource.provider.language:
        provider_set_language(by=by, provider=resource.provider, language=provider_language)
    return resource


@transaction.atomic
def provider_set_language(*, by: AbstractUser, provider: Provider, language: str) -> Provider:
    """The language of the provider's referral emails and of the page their link opens (the
    resource form, and the API's PATCH of the provider)."""
    before = audit.stored(provider)
    provider.language = language
    provider.full_clean()
    provider.save(update_fields=["language"])
    audit.record_change(by, provider, before, exoneree=None, fields=["language"])
    return provider
