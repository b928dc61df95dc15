"""Legal holds wherever the record is (issue 23): a director places one from the person's page,
open case or closed, and lifts it there; the person's page shows it to the staff who see the
record, never to the person; one page lists every hold standing in the organization.

That a hold stops the end of retention, placed while the case was open too, is in
tests/test_retention.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from services.actions import restriction
from services.actions import retention as actions
from services.models.audit import AuditEvent
from services.models.people import Exoneree
from services.models.retention import LegalHold
from services.views import retention as views
from tests.conftest import World
from tests.factories import ExonereeFactory, close_case
from tests.test_cases import error_beside

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

REASON = "Civil suit filed in Harris County"
LIFTED = {"reason": "The suit settled"}


def hold_page(world: World) -> str:
    return reverse("exoneree_legal_hold", args=[world.marcus.exoneree.pk])


def lift_url(world: World) -> str:
    return reverse("exoneree_legal_hold_lift", args=[world.marcus.exoneree.pk])


def holds_of(world: World) -> list[LegalHold]:
    return list(LegalHold.objects.filter(exoneree=world.marcus.exoneree).order_by("pk"))


def test_the_director_places_a_hold_on_an_open_case_from_the_persons_page(login, world: World) -> None:
    client = login("director1")
    marcus = world.marcus.exoneree
    assert marcus.case_is_open
    person_page = client.get(marcus.get_absolute_url()).content.decode()
    assert hold_page(world) in person_page  # "Place a legal hold"

    response = client.post(hold_page(world), {"reason": f"  {REASON}  "})

    assert response.status_code == 302 and response.url == marcus.get_absolute_url()
    (hold,) = holds_of(world)
    assert (hold.reason, hold.placed_by, hold.is_active) == (REASON, world.director1, True)
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_REVIEWED, exoneree_id=marcus.pk).latest("pk")
    assert entry.changes == {"legal_hold": "placed"}


@pytest.mark.parametrize("persona", ["director1", "caseworker1"])
def test_the_person_page_says_since_when_by_whom_and_why(login, world: World, persona: str) -> None:
    actions.legal_hold_place(by=world.director1, exoneree=world.marcus.exoneree, reason=REASON)
    hold = holds_of(world)[0]

    page = login(persona).get(world.marcus.exoneree.get_absolute_url()).content.decode()

    assert "On legal hold" in page
    assert REASON in page
    assert world.director1.get_full_name() in page
    assert f"since {date_format(timezone.localtime(hold.placed_at), 'M j, Y')}, placed by" in page
    # Only a director has the way to lift it.
    assert (lift_url(world) in page or hold_page(world) in page) is (persona == "director1")


def test_the_person_page_gives_the_day_the_hold_was_placed_where_the_organization_is(login, world: World) -> None:
    # 3 am in UTC on March 1 is still February 28 in New York, the organization's time zone.
    placed_at = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    LegalHold.objects.create(
        exoneree=world.marcus.exoneree, reason=REASON, placed_by=world.director1, placed_at=placed_at
    )

    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()

    assert "since Feb 28, 2026, placed by" in page


def test_the_person_never_sees_the_hold(login, world: World) -> None:
    actions.legal_hold_place(by=world.director1, exoneree=world.marcus.exoneree, reason=REASON)
    client = login("exoneree1")

    for url in (reverse("my_plan"), reverse("my_copy_json")):
        response = client.get(url)
        assert response.status_code == 200
        assert REASON not in response.content.decode()
        assert "legal hold" not in response.content.decode().lower()


def test_a_hold_without_a_reason_is_refused_beside_the_field(login, world: World) -> None:
    response = login("director1").post(hold_page(world), {"reason": "   "})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_reason_error"' in html and 'aria-invalid="true"' in html
    assert holds_of(world) == []


def test_a_second_hold_is_a_message_not_an_error(login, world: World) -> None:
    """A second director, or an old tab: the page says so and shows the hold that stands."""
    client = login("director1")
    client.post(hold_page(world), {"reason": REASON})

    again = client.post(hold_page(world), {"reason": "Compensation claim pending"})

    assert again.status_code == 409
    html = again.content.decode()
    assert "already on legal hold" in html
    assert REASON in html and lift_url(world) in html
    assert [h.reason for h in holds_of(world)] == [REASON]


def test_the_director_lifts_the_hold_from_the_persons_page(login, world: World) -> None:
    client = login("director1")
    client.post(hold_page(world), {"reason": REASON})
    assert lift_url(world) in client.get(hold_page(world)).content.decode()

    response = client.post(lift_url(world), LIFTED)

    assert response.status_code == 302 and response.url == world.marcus.exoneree.get_absolute_url()
    (hold,) = holds_of(world)
    assert (hold.is_active, hold.lifted_by) == (False, world.director1)
    assert "On legal hold" not in client.get(world.marcus.exoneree.get_absolute_url()).content.decode()
    # Lifted: a new one may be placed.
    assert client.post(hold_page(world), {"reason": "Compensation claim pending"}).status_code == 302
    assert [h.is_active for h in holds_of(world)] == [False, True]


@pytest.mark.parametrize("blank", ["", "   ", "\u200b\ufeff", "\u200b \u200b"])
def test_a_lift_without_a_reason_is_refused_beside_the_field(login, world: World, blank: str) -> None:
    """Lifting lets the record be purged: it needs its reason, refused blank as placing's is."""
    client = login("director1")
    client.post(hold_page(world), {"reason": REASON})

    response = client.post(lift_url(world), {"reason": blank})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_reason_error"' in html and 'aria-invalid="true"' in html
    # The same words whether the box was left empty (the form) or held blanks alone (the action).
    assert "Say why the hold can be lifted: the record may then be removed" in error_beside(response, "reason")
    assert REASON in html  # the hold, still standing
    assert [h.is_active for h in holds_of(world)] == [True]


@pytest.mark.parametrize("blank", ["", "   ", "\u200b\ufeff"])
def test_a_hold_without_a_reason_is_refused_beside_the_field_in_words_that_say_what_to_give(
    login, world: World, blank: str
) -> None:
    """Left empty, it said Django's bare "This field is required."; blanks alone, the action's words."""
    response = login("director1").post(hold_page(world), {"reason": blank})

    assert response.status_code == 400
    beside = error_beside(response, "reason")
    assert "Say why the record must be kept: staff who open the record read it with the hold." in beside
    assert "This field is required." not in beside
    assert holds_of(world) == []


@pytest.mark.parametrize("address", [hold_page, lift_url])
def test_a_hold_reason_too_long_is_told_in_characters_with_what_to_do(login, world: World, address) -> None:
    client = login("director1")
    if address is lift_url:
        client.post(hold_page(world), {"reason": REASON})

    response = client.post(address(world), {"reason": "x" * 301})

    assert response.status_code == 400
    assert "Please keep this to 300 characters or fewer. You wrote 301." in error_beside(response, "reason")
    assert [h.is_active for h in holds_of(world)] == ([True] if address is lift_url else [])


def test_the_lift_reason_is_kept_and_shown_with_the_holds_lifted(login, world: World) -> None:
    client = login("director1")
    client.post(hold_page(world), {"reason": REASON})

    client.post(lift_url(world), {"reason": "  The suit settled  "})

    (hold,) = holds_of(world)
    assert (hold.is_active, hold.lift_reason) == (False, "The suit settled")
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_REVIEWED, exoneree_id=hold.exoneree_id)
    assert entry.latest("pk").changes == {"legal_hold": "lifted"}
    page = client.get(hold_page(world)).content.decode()
    history = page[page.index('id="holds-lifted"') :]
    assert REASON in history and "The suit settled" in history and world.director1.get_full_name() in history


def test_a_lift_reason_is_required_by_the_action_too(world: World) -> None:
    actions.legal_hold_place(by=world.director1, exoneree=world.marcus.exoneree, reason=REASON)

    with pytest.raises(ValidationError) as refused:
        actions.legal_hold_lift(by=world.director1, exoneree=world.marcus.exoneree, reason="\u200b")

    assert "reason" in refused.value.error_dict
    assert [h.is_active for h in holds_of(world)] == [True]


def test_lifting_a_lifted_hold_is_a_message_not_an_error(login, world: World) -> None:
    client = login("director1")
    client.post(hold_page(world), {"reason": REASON})
    client.post(lift_url(world), LIFTED)

    again = client.post(lift_url(world), LIFTED)

    assert again.status_code == 409
    html = again.content.decode()
    assert "not on legal hold" in html
    assert 'name="reason"' in html  # the form to place one, as the record now stands
    assert [h.is_active for h in holds_of(world)] == [False]


def test_a_closed_case_is_held_and_lifted_the_same_way(login, world: World) -> None:
    close_case(world.thomas.exoneree, timezone.localdate())
    client = login("director1")
    pk = world.thomas.exoneree.pk

    placed = client.post(reverse("exoneree_legal_hold", args=[pk]), {"reason": REASON})
    lifted = client.post(reverse("exoneree_legal_hold_lift", args=[pk]), LIFTED)

    assert (placed.status_code, lifted.status_code) == (302, 302)
    assert [h.is_active for h in LegalHold.objects.filter(exoneree_id=pk)] == [False]


# --- every hold standing --------------------------------------------------------------------------


def test_the_list_shows_every_hold_standing_of_the_organization(login, world: World) -> None:
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    close_case(thomas, timezone.localdate())
    actions.legal_hold_place(by=world.director1, exoneree=marcus, reason=REASON)
    actions.legal_hold_place(by=world.director1, exoneree=thomas, reason="Records requested by a court")
    actions.legal_hold_lift(
        by=world.director1, exoneree=thomas, reason="The court released the records"
    )  # lifted: not listed
    anita = world.anita.exoneree  # another organization's
    actions.legal_hold_place(by=world.director2, exoneree=anita, reason="Compensation claim pending")

    response = login("director1").get(reverse("legal_hold_list"))

    assert response.status_code == 200
    html = response.content.decode()
    listed = {h.exoneree_id for h in response.context["page"]}
    assert marcus.pk in listed and not listed & {thomas.pk, anita.pk}
    assert marcus.display_name in html and REASON in html and world.director1.get_full_name() in html
    assert '<td data-label="Case">Open</td>' in html  # his case, still open
    assert reverse("exoneree_legal_hold", args=[marcus.pk]) in html  # the way to lift it
    assert "Records requested by a court" not in html and "Compensation claim pending" not in html


def test_a_restricted_person_on_hold_is_listed_to_the_directors(login, world: World) -> None:
    """A director sees every record of their organization, restricted ones included: the list
    names them (and says they are restricted); nobody else opens the list."""
    marcus = world.marcus.exoneree
    restriction.restriction_set(by=world.director1, exoneree=marcus, restricted=True, reason="Victim safety")
    actions.legal_hold_place(by=world.director1, exoneree=marcus, reason=REASON)

    html = login("director1").get(reverse("legal_hold_list")).content.decode()

    assert marcus.display_name in html and "Restricted" in html
    assert login("caseworker1").get(reverse("legal_hold_list")).status_code == 403
    assert marcus.display_name not in login("director2").get(reverse("legal_hold_list")).content.decode()


def test_a_long_list_comes_in_pages(login, world: World, monkeypatch) -> None:
    monkeypatch.setattr(views, "HOLDS_PAGE_SIZE", 2)
    client = login("director1")
    before = client.get(reverse("legal_hold_list")).context["page"].paginator.count
    people = [ExonereeFactory(organization=world.org1) for _ in range(3)]
    for person in people:
        actions.legal_hold_place(by=world.director1, exoneree=person, reason=REASON)

    first = client.get(reverse("legal_hold_list"))
    numbers = first.context["page"].paginator.page_range
    pages = [client.get(reverse("legal_hold_list") + f"?page={n}") for n in numbers]

    assert first.context["page"].paginator.count == before + 3
    assert "?page=2" in first.content.decode()
    listed = [h.exoneree_id for page in pages for h in page.context["page"]]
    assert [pk for pk in listed if pk in {p.pk for p in people}] == [p.pk for p in people]  # the oldest first


def test_the_list_is_linked_from_retention_and_the_overview(login, world: World) -> None:
    client = login("director1")

    for page in ("retention_review", "director_dashboard"):
        assert reverse("legal_hold_list") in client.get(reverse(page)).content.decode()


def href_of(html: str, words: str) -> str:
    """The address of the link whose text starts with `words`."""
    match = re.search(rf'<a href="([^"]+)">{re.escape(words)}', html)
    assert match, words
    return unescape(match.group(1))


def back_link(html: str) -> tuple[str, str]:
    """The page's way back: its address and its words."""
    href, words = re.search(r'<p class="back"><a href="([^"]+)">← ([^<]+)</a>', html).groups()
    return unescape(href), words


@pytest.mark.parametrize(("page", "words"), [("director_dashboard", "Overview"), ("retention_review", "Retention")])
def test_the_list_leads_back_to_the_page_it_was_opened_from(login, world: World, page: str, words: str) -> None:
    """Opened from the overview, its way back was "← Retention" all the same."""
    client = login("director1")
    opened_from = client.get(reverse(page)).content.decode()
    list_url = href_of(opened_from, "Legal holds" if page == "director_dashboard" else "Every legal hold standing")

    html = client.get(list_url).content.decode()

    assert back_link(html) == (reverse(page), words)


@pytest.mark.parametrize(
    "next_url",
    [
        "",
        "https://evil.example/director/",
        "//evil.example/director/",
        "/\\evil.example/director/",
        "http://[",
        reverse("exoneree_list"),  # of this site, but not a way back the list knows
    ],
)
def test_the_lists_way_back_is_retention_unless_a_known_page_of_this_site(login, world: World, next_url: str) -> None:
    response = login("director1").get(reverse("legal_hold_list"), {"next": next_url})

    assert response.status_code == 200
    assert back_link(response.content.decode()) == (reverse("retention_review"), "Retention")


def test_lifted_from_the_list_the_director_is_back_on_the_list(login, world: World, monkeypatch) -> None:
    """The list's "Lift…" opens the person's hold page; lifting there led to the person's page,
    away from the list. Now back to the list, on the same page of it, with its own way back."""
    monkeypatch.setattr(views, "HOLDS_PAGE_SIZE", 1)
    marcus = world.marcus.exoneree
    actions.legal_hold_place(by=world.director1, exoneree=marcus, reason=REASON)
    actions.legal_hold_place(by=world.director1, exoneree=ExonereeFactory(organization=world.org1), reason=REASON)
    client = login("director1")
    list_url = f"{reverse('legal_hold_list')}?next={reverse('director_dashboard')}&page=1"  # Marcus's, the oldest

    hold_page_url = href_of(client.get(list_url).content.decode(), "Lift…")
    assert hold_page_url.startswith(hold_page(world))
    hold_html = client.get(hold_page_url).content.decode()
    assert back_link(hold_html) == (list_url, "Legal holds")
    lift_form = hold_html[hold_html.index(f'action="{lift_url(world)}"') :]
    kept = unescape(re.search(r'<input type="hidden" name="next" value="([^"]+)">', lift_form).group(1))

    response = client.post(lift_url(world), {"next": kept, **LIFTED})

    assert response.status_code == 302 and response.url == list_url
    assert [h.is_active for h in holds_of(world)] == [False]
    back_on_the_list = client.get(response.url).content.decode()
    assert "Legal hold lifted." in back_on_the_list and marcus.display_name not in back_on_the_list
    assert back_link(back_on_the_list) == (reverse("director_dashboard"), "Overview")


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/director/retention/holds/", "//evil.example/director/retention/holds/", "/"]
)
def test_a_lift_goes_back_only_to_the_list_of_this_site(login, world: World, next_url: str) -> None:
    client = login("director1")
    actions.legal_hold_place(by=world.director1, exoneree=world.marcus.exoneree, reason=REASON)

    response = client.post(lift_url(world), {"next": next_url, **LIFTED})

    assert response.status_code == 302 and response.url == world.marcus.exoneree.get_absolute_url()


def test_placed_from_a_hold_page_opened_from_the_list_is_back_on_the_list(login, world: World) -> None:
    """A hold lifted meanwhile (by another director): the page the list opened offers to place one."""
    client = login("director1")
    list_url = reverse("legal_hold_list")

    page = client.get(hold_page(world), {"next": list_url}).content.decode()
    place_form = page[page.index(f'action="{hold_page(world)}"') :]
    assert f'<input type="hidden" name="next" value="{list_url}">' in place_form
    response = client.post(hold_page(world), {"reason": REASON, "next": list_url})

    assert response.status_code == 302 and response.url == list_url
    assert [h.is_active for h in holds_of(world)] == [True]


def test_a_deidentified_record_takes_no_hold(login, world: World) -> None:
    """Who they were is gone already: there is nothing a hold could keep."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(deidentified_at=timezone.now())

    response = login("director1").post(hold_page(world), {"reason": REASON})

    assert response.status_code == 409
    assert "nothing left to hold" in response.content.decode()
    assert holds_of(world) == []


def test_an_empty_list_says_so_once_and_names_the_button(login, world: World) -> None:
    page = login("director1").get(reverse("legal_hold_list")).content.decode()

    assert "0 records are on legal hold" not in page
    assert "No record is on legal hold" in page and "“Place a legal hold”" in page
