"""Referring is quick (issue 21 #9): the resource list says where, when and whether consent is
on file, and can be searched; a directory entry offers "Refer someone here"."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from services.choices import ConsentCategory as C
from services.choices import NeedDomain, NeedStatus
from services.forms.referrals import resource_label
from services.models.needs import Need
from tests.factories import NeedFactory, ResourceFactory, consent_for
from tests.test_referral_loop import deliver, send

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def referral_form(login, need):
    return login("caseworker1").get(reverse("referral_create", args=[need.pk])).context["form"]


def test_the_resource_list_shows_city_hours_and_consent_on_file(login, world):
    consented = ResourceFactory(organization=world.org1, name="Rapid rehousing", city="Joliet", hours="Mon–Fri 9–5")
    other = ResourceFactory(organization=world.org1, name="Food pantry", city="", hours="")
    consent_for(world.marcus.exoneree, consented.provider, [C.CONTACT])

    labels = dict(referral_form(login, world.marcus.need).fields["resource"].choices)

    assert labels[consented.pk] == (
        f"Rapid rehousing — {consented.provider.name} · Joliet · Mon–Fri 9–5 · consent on file"
    )
    assert labels[other.pk] == f"Food pantry — {other.provider.name}"


def test_the_providers_phone_is_a_number_to_tap_in_the_directory_and_on_the_referral(login, world):
    """As on the resource's own page and People: a caseworker checking on a referral from a
    phone calls the provider from the list or the referral, without copying the number."""
    resource = world.marcus.referral.resource
    resource.phone = "(312) 555-0121"
    resource.save(update_fields=["phone"])
    client = login("caseworker1")

    for page in (reverse("resource_list"), world.marcus.referral.get_absolute_url()):
        assert '<a href="tel:3125550121">(312) 555-0121</a>' in client.get(page).content.decode(), page


def test_the_resource_list_can_be_searched_in_the_browser(login, world):
    page = login("caseworker1").get(reverse("referral_create", args=[world.marcus.need.pk])).content.decode()

    assert 'data-searchable="Search by name, provider or city"' in page
    assert "services/picker" in page  # the script that makes it searchable (static, CSP-safe)


def test_a_directory_entry_offers_refer_someone_here_to_caseworkers_only(login, world):
    url = reverse("resource_detail", args=[world.marcus.resource.pk])
    refer = reverse("resource_refer", args=[world.marcus.resource.pk])

    assert refer in login("caseworker1").get(url).content.decode()
    assert refer not in login("director1").get(url).content.decode()


def test_refer_someone_here_lists_open_needs_the_resource_serves_first(login, world):
    resource = ResourceFactory(organization=world.org1, domains=[NeedDomain.TRANSPORTATION])
    food = NeedFactory(exoneree=world.marcus.exoneree, domain=NeedDomain.TRANSPORTATION)
    NeedFactory(exoneree=world.marcus.exoneree, domain=NeedDomain.TRANSPORTATION, status=NeedStatus.MET)

    page = login("caseworker1").get(reverse("resource_refer", args=[resource.pk]))

    needs = page.context["needs"]
    assert needs[0] == food and needs[0].serves
    assert [n.status for n in needs] == [NeedStatus.OPEN] * len(needs)
    assert {n.exoneree for n in needs} == {world.marcus.exoneree}  # caseworker1's people only
    link = reverse("referral_create", args=[food.pk]) + f"?resource={resource.pk}"
    assert link in page.content.decode()
    assert referral_form(login, food).fields["resource"].initial is None
    form = login("caseworker1").get(link).context["form"]
    assert str(form["resource"].value()) == str(resource.pk)


def test_a_resource_of_another_organization_in_the_link_is_not_chosen_or_accepted(login, world):
    foreign = ResourceFactory(organization=world.org2)
    link = reverse("referral_create", args=[world.marcus.need.pk]) + f"?resource={foreign.pk}"

    page = login("caseworker1").get(link).content.decode()
    posted = login("caseworker1").post(link, {"resource": foreign.pk, "categories": [C.CONTACT]})

    assert f'value="{foreign.pk}" selected' not in page
    assert posted.status_code == 400
    assert "resource" in posted.context["form"].errors


def test_resource_label_without_consent_annotation(world):
    assert resource_label(world.marcus.resource).startswith(world.marcus.resource.name)


def test_two_needs_of_one_domain_are_told_apart_by_the_day_each_was_recorded(login, world):
    resource = ResourceFactory(organization=world.org1, domains=[NeedDomain.TRANSPORTATION])
    for day in (date(2026, 3, 2), date(2026, 9, 14)):
        NeedFactory(exoneree=world.marcus.exoneree, domain=NeedDomain.TRANSPORTATION, opened_on=day)

    page = unescape(login("caseworker1").get(reverse("resource_refer", args=[resource.pk])).content.decode())

    assert "recorded Mar 2, 2026" in page and "recorded Sep 14, 2026" in page
    assert "(the need recorded Mar 2, 2026)</span></a>" in page  # in the link's name too


def test_the_words_people_search_with_name_the_needs_they_mean():
    from services.selectors.resources import domains_named

    assert domains_named("dentist") == [NeedDomain.MEDICAL]
    assert domains_named("Lawyer") == [NeedDomain.LEGAL]
    assert domains_named("therap") == [NeedDomain.MENTAL_HEALTH]
    assert NeedDomain.HEALTH_COVERAGE in domains_named("health") and NeedDomain.MEDICAL not in domains_named("career")
    assert domains_named("xyz") == []
    for not_a_need in ("IL", "business", "idaho", "the", "an"):  # a state, or a key inside a longer word
        assert domains_named(not_a_need) == [], not_a_need
    assert domains_named("id") == [NeedDomain.IDENTIFICATION] and domains_named("counseling") == [
        NeedDomain.MENTAL_HEALTH
    ]


def test_someone_with_no_need_of_the_kind_is_referred_by_recording_it_first(login, world):
    resource = ResourceFactory(organization=world.org1, name="Metro bus passes", domains=[NeedDomain.TRANSPORTATION])
    client = login("caseworker1")
    page = client.get(reverse("resource_refer", args=[resource.pk])).content.decode()
    link = reverse("need_create", args=[world.marcus.exoneree.pk]) + f"?domain=transportation&resource={resource.pk}"
    assert link.replace("&", "&amp;") in page
    assert world.thomas.exoneree.display_name not in page  # caseworker1's own people only

    form = client.get(link).context["form"]
    assert form["domain"].value() == "transportation"
    saved = client.post(
        link,
        {"domain": "transportation", "description": "Bus pass", "priority": "medium", "opened_on": str(date.today())},
    )

    need = world.marcus.exoneree.needs.latest("pk")
    assert need.domain == NeedDomain.TRANSPORTATION
    assert saved.url == reverse("referral_create", args=[need.pk]) + f"?resource={resource.pk}"
    referral_form = client.get(saved.url).context["form"]
    assert str(referral_form["resource"].value()) == str(resource.pk)


def test_someone_whose_need_this_resource_serves_is_not_offered_again_below(login, world):
    """Marcus's housing need is listed with its own "Refer" link; "record a need for Marcus"
    below it offered the same person a second, duplicate need."""
    served = login("caseworker1").get(reverse("resource_refer", args=[world.marcus.resource.pk]))
    bus = ResourceFactory(organization=world.org1, name="Metro bus passes", domains=[NeedDomain.TRANSPORTATION])
    not_served = login("caseworker1").get(reverse("resource_refer", args=[bus.pk]))

    assert [need.exoneree for need in served.context["needs"]] == [world.marcus.exoneree]
    assert world.marcus.exoneree not in served.context["people"]
    assert "Record a need for" not in served.content.decode()
    assert world.marcus.exoneree in not_served.context["people"]  # housing is not what buses serve


@pytest.mark.parametrize(
    ("intake", "service_email", "provider_email", "told", "emailed_to"),
    [
        (
            "intake@housing.example.org",
            "desk@housing.example.org",
            "front-desk@example.org",
            "Referrals are emailed to the intake address intake@housing.example.org.",
            [["intake@housing.example.org"]],
        ),
        # A directory loaded from HSDS has the service's own email, never an intake address: its
        # referrals reached nobody when the service's organization gave no email of its own.
        (
            "",
            "desk@housing.example.org",
            "",
            "No intake email: referrals are emailed to this service's address desk@housing.example.org.",
            [["desk@housing.example.org"]],
        ),
        (
            "",
            "",
            "front-desk@example.org",
            "No intake email: referrals are emailed to the provider's address front-desk@example.org.",
            [["front-desk@example.org"]],
        ),
        ("", "", "", "No intake email: referrals are not emailed; call or send it yourself.", []),
    ],
)
def test_a_directory_entry_tells_a_caseworker_where_a_referral_is_emailed_as_the_send_does(
    login, world, intake, service_email, provider_email, told, emailed_to
):
    resource = world.marcus.resource
    resource.intake_email = intake
    resource.email = service_email
    resource.save()
    resource.provider.email = provider_email
    resource.provider.save()

    page = unescape(login("caseworker1").get(resource.get_absolute_url()).content.decode())
    send(world)
    deliver()

    assert told in page
    assert [message.to for message in mail.outbox] == emailed_to


def test_the_intake_address_is_shown_only_to_those_who_refer(login, world):
    resource = world.marcus.resource
    send(world)  # on Marcus's plan now, named there

    director_page = login("director1").get(resource.get_absolute_url()).content.decode()
    plan = login("exoneree1").get(reverse("my_plan")).content.decode()

    assert resource.intake_email not in director_page and "How referrals reach it" not in director_page
    assert resource.name in plan and resource.intake_email not in plan
    assert login("exoneree1").get(resource.get_absolute_url()).status_code == 403
    assert login("caseworker3").get(resource.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("domain", NeedDomain)
def test_the_referral_page_names_its_need_once_for_every_domain(login, world, domain: NeedDomain) -> None:
    """It said "for the basic needs need of Marcus Webb": the label was put before a second "need"."""
    referral = world.marcus.referral
    Need.objects.filter(pk=referral.need_id).update(domain=domain)
    person = world.marcus.exoneree

    html = unescape(login("caseworker1").get(referral.get_absolute_url()).content.decode())

    link = f'<a href="{person.get_absolute_url()}">{person.display_name}</a>'
    assert f"for a need of {link}: {domain.label}</p>" in html
    assert not re.search(r"\bneeds? need\b", html, re.IGNORECASE)


@pytest.mark.parametrize("domain", NeedDomain)
def test_the_referral_pages_words_for_its_need_read_well_in_spanish(domain: NeedDomain) -> None:
    template = Template(
        "{% load i18n %}{% blocktranslate with domain=domain url=url name=name %}"
        'for a need of <a href="{{ url }}">{{ name }}</a>: {{ domain }}{% endblocktranslate %}'
    )
    with translation.override("es"):
        said = template.render(Context({"domain": domain.label, "url": "/people/1/", "name": "Marcus Webb"}))
        label = str(domain.label)
    assert said == f'para una necesidad de <a href="/people/1/">Marcus Webb</a>: {label}'
