"""The directory in HSDS: an upload kept for its preview, the import itself, the mapping of
taxonomy terms to need domains, and the export's entry in the access log."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.access import is_director, organization_of, providers_visible_to, taxonomy_terms_visible_to
from services.choices import NeedDomain
from services.lib.hsds import Row, Tables
from services.models.audit import AuditEvent
from services.models.directory import HsdsImport, Provider, Resource, ResourceDomain, TaxonomyTerm
from services.models.organizations import Organization
from services.selectors.hsds_import import CREATE, UNCHANGED, UPDATE, ImportPlan, Planned, Term, import_plan

Progress = Callable[[int, int], None]


def _director_organization(by: AbstractUser) -> Organization:
    if not is_director(by):
        raise ValidationError(_("Only a director manages the resource directory."))
    return organization_of(by)


def hsds_upload(*, by: AbstractUser, file_name: str, tables: Tables) -> HsdsImport:
    """Keep an uploaded file's rows until its director confirms (or uploads another: the
    one waiting before is dropped, so only the latest can be confirmed)."""
    organization = _director_organization(by)
    rows = {table: [[row.place, row.values, row.bad_shape] for row in found] for table, found in tables.items()}
    with transaction.atomic():
        HsdsImport.objects.filter(organization=organization, applied_at__isnull=True).delete()
        upload = HsdsImport.objects.create(
            organization=organization, uploaded_by=by, file_name=file_name[:200], rows=rows
        )
        # Its new taxonomy terms join the mapping now, so they can be mapped before the confirm.
        _save_terms(organization, import_plan(by, tables).terms)
    return upload


def uploaded_tables(upload: HsdsImport) -> Tables:
    return {
        table: [Row(table, place, values, bad_shape) for place, values, bad_shape in found]
        for table, found in upload.rows.items()
    }


@transaction.atomic
def hsds_import(
    *, by: AbstractUser, tables: Tables, upload: HsdsImport | None = None, progress: Progress | None = None
) -> ImportPlan:
    """Import the tables into the director's directory: all of it, or (any error) none of it.

    The plan is made again here, under the organization's lock, so what is written is what
    the directory holds now, not what it held when the preview was shown (two directors
    confirming at once: the second finds the first's records and updates nothing twice).
    Returns the plan; when it has errors, nothing was written.
    """
    organization = _director_organization(by)
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    plan = import_plan(by, tables)
    if not plan.ok:
        return plan
    _save_terms(organization, plan.terms)
    providers = {p.hsds_id: p for p in providers_visible_to(by)}
    # Updates before creations: a provider renamed in the file frees its old name for a new one.
    steps = [p for p in plan.providers if p.action == UPDATE] + [p for p in plan.providers if p.action == CREATE]
    steps += [p for p in plan.resources if p.action != UNCHANGED]
    for done, planned in enumerate(steps, start=1):
        if planned.provider_hsds_id:  # a resource (providers come first, so its own is there)
            _save_resource(by, organization, planned, providers)
        else:
            provider = _save(by, planned, Provider(organization=organization))
            providers[provider.hsds_id] = provider
        if progress:
            progress(done, len(steps))
    if upload is not None:
        upload.applied_at = timezone.now()
        upload.summary = plan.summary
        upload.rows = {}  # the file's rows are not kept once imported
        upload.save(update_fields=["applied_at", "summary", "rows"])
    return plan


def _save(by: AbstractUser, planned: Planned, new: Any, extra: dict[str, Any] | None = None) -> Any:
    record = planned.existing or new
    before = {} if planned.action == CREATE else audit.stored(record)
    for name, value in planned.values.items():
        setattr(record, name, value)
    record.hsds_id = planned.hsds_id
    try:
        record.full_clean()
    except ValidationError as error:  # the plan checks what the models do; this is the backstop
        raise ValidationError(f"{planned.place}: {'; '.join(error.messages)}") from error
    record.save()
    audit.record_change(by, record, before, exoneree=None, extra=extra)
    return record


def _save_resource(by: AbstractUser, organization: Organization, planned: Planned, providers: dict) -> None:
    resource = planned.existing or Resource(organization=organization)
    resource.provider = providers[planned.provider_hsds_id]
    old = set() if planned.existing is None else {row.domain for row in resource.domain_rows.all()}
    new = old if planned.domains is None else set(planned.domains)
    # Named in words, as the access log's page shows it: "Needs: before Housing, now Housing; Legal".
    extra = {"needs": {"before": _labels(old), "now": _labels(new)}} if old != new else None
    resource = _save(by, planned, resource, extra)
    if old != new:
        resource.domain_rows.exclude(domain__in=new).delete()
        ResourceDomain.objects.bulk_create([ResourceDomain(resource=resource, domain=d) for d in sorted(new - old)])


def _labels(domains: set[str]) -> str:
    return "; ".join(str(NeedDomain(domain).label) for domain in sorted(domains)) or "none"


def _save_terms(organization: Organization, terms: Iterable[Term]) -> None:
    """Terms met for the first time join the mapping (our own domains already mapped); the
    names of known ones follow the file."""
    TaxonomyTerm.objects.bulk_create(
        [
            TaxonomyTerm(
                organization=organization,
                hsds_id=term.hsds_id,
                code=term.code,
                name=term.name,
                taxonomy=term.taxonomy,
                domain=term.domain,
            )
            for term in terms
            if not term.known
        ],
        ignore_conflicts=True,  # another upload of the same terms, at the same moment
    )


@transaction.atomic
def taxonomy_terms_map(*, by: AbstractUser, domains: dict[int, str]) -> int:
    """Set the need domain of the director's taxonomy terms ({term pk: domain or ""});
    the number changed. A later import tags resources by the new mapping."""
    _director_organization(by)
    changed = 0
    for term in taxonomy_terms_visible_to(by).filter(pk__in=domains).select_for_update():
        if term.domain == domains[term.pk]:
            continue
        before = audit.snapshot(term)
        term.domain = domains[term.pk]
        term.full_clean()
        term.save(update_fields=["domain"])
        audit.record_change(by, term, before, exoneree=None, fields=["domain"])
        changed += 1
    return changed


def hsds_export_record(*, by: AbstractUser) -> None:
    """A download of the directory in HSDS leaves the app: logged as an export."""
    audit.record(AuditEvent.Action.EXPORTED, actor=by, target="Resource directory (HSDS datapackage)")
