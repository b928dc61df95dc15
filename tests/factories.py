"""Small factory_boy factories for the domain.

Defaults are deterministic (sequences, not Faker) so a failing test prints the same names
every run. Caseworkers are assigned through `services.actions.people.caseload_assign`, never by
touching the many-to-many directly: access is decided by the guardian object permissions
that action grants, and a record without them would be invisible to its own caseworker.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from factory.django import DjangoModelFactory

from services.actions import people
from services.choices import (
    AssessmentKind,
    ConsentCategory,
    ConsentSignedHow,
    ExitReason,
    NeedDomain,
    NoteVisibility,
    ReferralStatus,
    ResourceStatus,
    Role,
)
from services.models.casework import Assessment, AssessmentScore, CaseNote
from services.models.consent import Consent, ConsentCategoryRow
from services.models.directory import Provider, Resource, ResourceDomain
from services.models.enrolments import Enrolment
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral

User = get_user_model()


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    # Tests sign in with force_login; an unusable password skips the (slow) hasher.
    password = factory.LazyFunction(lambda: make_password(None))


class StaffFactory(DjangoModelFactory):
    """A staff role; `StaffFactory(role=Role.DIRECTOR)` or `StaffFactory(director=True)`."""

    class Meta:
        model = StaffMember

    class Params:
        director = factory.Trait(role=Role.DIRECTOR)

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.CASEWORKER


def _some_caseworker(exoneree: Exoneree) -> Any:
    """The exoneree's first caseworker, or a new staff member of its organization."""
    return exoneree.caseworkers.order_by("pk").first() or StaffFactory(organization=exoneree.organization).user


class ExonereeFactory(DjangoModelFactory):
    """`ExonereeFactory(caseworkers=[user, ...])` assigns them with their object permissions."""

    class Meta:
        model = Exoneree
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    legal_name = factory.Sequence(lambda n: f"Person Number{n}")

    @factory.post_generation
    def caseworkers(obj: Exoneree, create: bool, extracted: Iterable[Any] | None, **kwargs: Any) -> None:
        if create and extracted:
            extracted = list(extracted)
            people.caseload_assign(by=extracted[0], exoneree=obj, caseworkers=extracted)

    @factory.post_generation
    def enrolment(obj: Exoneree, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Their case, open from the day they were recorded, as intake opens it (issue 23)."""
        if create:
            Enrolment.objects.create(exoneree=obj, opened_on=timezone.localdate(obj.created_at))


class NeedFactory(DjangoModelFactory):
    class Meta:
        model = Need

    exoneree = factory.SubFactory(ExonereeFactory)
    organization = factory.LazyAttribute(lambda o: o.exoneree.organization)
    domain = NeedDomain.HOUSING
    description = factory.Sequence(lambda n: f"Need number {n}")
    created_by = factory.LazyAttribute(lambda o: _some_caseworker(o.exoneree))


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Provider {n}")


class ResourceFactory(DjangoModelFactory):
    """`ResourceFactory(domains=["housing", ...])` also adds its domain rows."""

    class Meta:
        model = Resource
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    provider = factory.SubFactory(ProviderFactory, organization=factory.SelfAttribute("..organization"))
    name = factory.Sequence(lambda n: f"Service {n}")
    intake_email = factory.Sequence(lambda n: f"intake{n}@example.org")
    city = "Houston"
    status = ResourceStatus.ACTIVE

    @factory.post_generation
    def domains(obj: Resource, create: bool, extracted: Iterable[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            add_domains(obj, extracted)


def add_domains(resource: Resource, domains: Iterable[str]) -> None:
    """Give a resource domain rows (the need domains it serves)."""
    ResourceDomain.objects.bulk_create([ResourceDomain(resource=resource, domain=domain) for domain in domains])


class ReferralFactory(DjangoModelFactory):
    class Meta:
        model = Referral

    need = factory.SubFactory(NeedFactory)
    organization = factory.LazyAttribute(lambda o: o.need.organization)
    resource = factory.SubFactory(ResourceFactory, organization=factory.SelfAttribute("..need.exoneree.organization"))
    status = ReferralStatus.DRAFT
    created_by = factory.LazyAttribute(lambda o: _some_caseworker(o.need.exoneree))


class FollowUpFactory(DjangoModelFactory):
    class Meta:
        model = FollowUp

    exoneree = factory.SubFactory(ExonereeFactory)
    title = factory.Sequence(lambda n: f"Follow-up {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    assigned_to = factory.LazyAttribute(lambda o: _some_caseworker(o.exoneree))
    created_by = factory.SelfAttribute("assigned_to")


class CaseNoteFactory(DjangoModelFactory):
    class Meta:
        model = CaseNote

    exoneree = factory.SubFactory(ExonereeFactory)
    author = factory.LazyAttribute(lambda o: _some_caseworker(o.exoneree))
    text = factory.Sequence(lambda n: f"Note text {n}")
    visibility = NoteVisibility.STAFF


class AssessmentFactory(DjangoModelFactory):
    """`AssessmentFactory(scores={"housing": 2})`; by default two domains are scored."""

    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    exoneree = factory.SubFactory(ExonereeFactory)
    kind = AssessmentKind.INTAKE
    taken_by = factory.LazyAttribute(lambda o: _some_caseworker(o.exoneree))

    @factory.post_generation
    def scores(obj: Assessment, create: bool, extracted: dict[str, int] | None, **kwargs: Any) -> None:
        if create:
            scores = extracted if extracted is not None else {"housing": 2, "income": 3}
            AssessmentScore.objects.bulk_create(
                [AssessmentScore(assessment=obj, domain=domain, score=score) for domain, score in scores.items()]
            )


def consent_for(
    exoneree: Exoneree,
    provider: Any,
    categories: Iterable[str] = (ConsentCategory.CONTACT, ConsentCategory.HOUSING),
    *,
    starts_on: Any = None,
    ends_on: Any = None,
    revoked: bool = False,
) -> Consent:
    """A signed consent (on paper, today until a year from now unless told) naming these categories."""
    today = timezone.localdate()
    consent = Consent.objects.create(
        exoneree=exoneree,
        provider=provider,
        purpose="To find housing",
        starts_on=starts_on or today,
        ends_on=ends_on or today + timedelta(days=365),
        signed_how=ConsentSignedHow.PAPER,
        signed_on=starts_on or today,
        revoked_at=timezone.now() if revoked else None,
    )
    ConsentCategoryRow.objects.bulk_create([ConsentCategoryRow(consent=consent, category=c) for c in categories])
    return consent


def close_case(person: Exoneree, on: date) -> None:
    """The person's case closed on `on`, as closing it leaves it: the person's closing date
    and their enrolment (opened a year before) closed with an exit reason."""
    Enrolment.objects.filter(exoneree=person).delete()
    Enrolment.objects.create(
        exoneree=person, opened_on=on - timedelta(days=400), closed_on=on, exit_reason=ExitReason.GOALS_MET
    )
    Exoneree.objects.filter(pk=person.pk).update(case_closed_on=on)
    person.case_closed_on = on
