"""The demo's data file: the shipped one is sound, and a broken one is refused with the place named."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.choices import ConsentCategory, Language, NeedDomain, ReferralStatus, Role
from services.demo import DATA_FILE, DemoDataError, load, problems
from services.lifecycle import REFERRAL_TRANSITIONS
from services.management.commands.seed_demo import REFERRAL_PATHS
from services.selectors.documents import checklist_data

RAW = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def test_the_shipped_file_loads_with_no_problems():
    demo = load(DATA_FILE)

    assert problems(demo) == []
    assert [org.key for org in demo.organizations] == ["midwest", "gulf"]
    assert {s.username: s.role for s in demo.staff} == {
        "director1": Role.DIRECTOR,
        "caseworker1": Role.CASEWORKER,
        "caseworker2": Role.CASEWORKER,
        "director2": Role.DIRECTOR,
        "caseworker3": Role.CASEWORKER,
    }
    assert len(demo.exonerees) == 7
    assert len(demo.services) >= 30
    # Every domain a service can serve; "something else" is only what a person asked for
    # without choosing an area (issue 19).
    assert {domain for s in demo.services for domain in s.domains} == set(NeedDomain) - {NeedDomain.OTHER}
    used = {ref.status for person in demo.exonerees for need in person.needs for ref in need.referrals}
    assert used == set(ReferralStatus)
    # A transfer can be tried: a provider linked to the other organization, and a consent with it.
    assert {(link.organization, link.member) for link in demo.member_providers} == {
        ("midwest", "gulf"),
        ("gulf", "midwest"),
    }
    [ray] = [person for person in demo.exonerees if person.member_consents]
    assert (ray.legal_name, ray.username) == ("Ray Castillo", "")
    assert ConsentCategory.TRANSFER in ray.member_consents[0].categories


def test_the_demo_needs_name_only_papers_of_the_key_papers_checklist():
    data = checklist_data()
    kinds = {item.kind for item in data.always} | {data.certificate.kind}
    named = [paper for person in load(DATA_FILE).exonerees for need in person.needs for paper in need.papers]

    assert named  # Marcus's "Birth certificate and state ID." is met: his checklist says so
    assert set(named) <= kinds


def test_the_demos_open_follow_ups_past_their_day_are_the_caseworkers_own():
    """A person's plan lists their open dates gone by ("Did you miss one of these?"). In the
    demo those are all the caseworker's calls (a Medicaid application, an SSDI decision), which
    are not the person's to miss: none is shared with them."""
    past = [
        (person.legal_name, f.title)
        for person in load(DATA_FILE).exonerees
        for f in person.follow_ups
        if f.due_in_days < 0 and f.outcome is None and f.shared
    ]

    assert past == []


def test_service_defaults_fill_in_what_a_service_leaves_out():
    demo = load(DATA_FILE)
    by_name = {s.name: s for s in demo.services}

    assert by_name["Weekly grocery pickup"].status == "active"
    assert by_name["Weekly grocery pickup"].application == RAW["service_defaults"]["application"]
    assert by_name["Hot meals and clothing closet"].application == "Walk in; no appointment or paperwork."
    assert by_name["Housing Choice Voucher applications"].status == "temporarily_closed"


def test_every_referral_status_has_a_path_the_lifecycle_allows():
    """seed_demo walks each referral from draft to the status the file gives it."""
    assert set(REFERRAL_PATHS) == set(ReferralStatus)
    for status, path in REFERRAL_PATHS.items():
        steps = [ReferralStatus.DRAFT, *path]
        assert steps[-1] == status
        for before, after in zip(steps, steps[1:], strict=False):
            assert after in REFERRAL_TRANSITIONS[before], (status, before, after)


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A change to the raw file: `path` is dotted keys and list indexes, e.g. "exonerees.0.ssn"."""

    def change(raw: dict) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is DELETE:
            del node[last]
        else:
            node[last] = value

    return change


DELETE = object()
FIRST_NEED = "exonerees.0.needs.0"  # Marcus Webb's housing need, in progress, with two referrals
RAY = "exonerees.3"  # Ray Castillo, who consented to a transfer to the other organization


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # Keys and types.
        (_set("exonerees.0.nickname", "M"), "exonerees[0]: unknown key(s) nickname"),
        (_set("exonerees.0.ssn", DELETE), "exonerees[0]: missing key(s) ssn"),
        (_set("exonerees.0.ssn", 900123456), "exonerees[0].ssn: expected str"),
        (_set("exonerees.0.ok_to_leave_message", "yes"), "exonerees[0].ok_to_leave_message: expected bool"),
        (_set("exonerees.0.years_inside", True), "exonerees[0].years_inside: expected int"),
        (_set("exonerees.0.needs", {"domain": "housing"}), "exonerees[0].needs: expected a list"),
        # Choices.
        (_set(f"{FIRST_NEED}.status", "done"), "exonerees[0].needs[0].status: 'done' is not one of open,"),
        (_set("services.0.domains.0", "food"), "services[0].domains[0]: 'food' is not one of basic,"),
        (_set("staff.0.role", "manager"), "staff[0].role: 'manager' is not one of"),
        (_set("exonerees.0.language", "fr"), "exonerees[0].language: 'fr' is not one of en, es"),
        (_set("exonerees.0.assessments.0.kind", "final"), "exonerees[0].assessments[0].kind: 'final'"),
        # References.
        (_set("staff.0.organization", "east"), "staff[0].organization: no organization 'east'"),
        (_set("exonerees.0.organization", "east"), "exonerees[0].organization: no organization 'east'"),
        (_set("exonerees.0.caseworker", "caseworker3"), "exonerees[0].caseworker: 'caseworker3' is no caseworker"),
        (_set("exonerees.0.caseworker", "director1"), "exonerees[0].caseworker: 'director1' is no caseworker"),
        (_set("exonerees.0.county", "Cook"), "exonerees[0].county: 'Cook' is not one of DuPage"),
        (_set(f"{FIRST_NEED}.referrals.0.service", "Valet parking"), "no service named 'Valet parking'"),
        (_set("exonerees.0.follow_ups.2.need", "legal"), "follow_ups[2].need: 'legal' is not one of this person's"),
        (_set("member_providers.0.member", "east"), "member_providers[0]: no organization 'east'"),
        (_set("member_providers.0.member", "midwest"), "member_providers[0].member: an organization is no provider"),
        (_set(f"{RAY}.member_consents.0.member", "midwest"), "member_consents[0].member: the directory of 'midwest'"),
        (_set(f"{RAY}.member_consents.0.categories", []), "member_consents[0].categories: needs at least one"),
        (_set(f"{RAY}.member_consents.0.categories.0", "all"), "member_consents[0].categories[0]: 'all' is not one"),
        # Duplicates.
        (_set("exonerees.1.legal_name", "Marcus Webb"), "exonerees[].legal_name: 'Marcus Webb' appears more"),
        (_set("exonerees.1.username", "caseworker1"), "usernames: 'caseworker1' appears more than once"),
        (_set("services.1.name", "Weekly grocery pickup"), "services[].name: 'Weekly grocery pickup' appears"),
        (_set("exonerees.0.needs.1.domain", "housing"), "exonerees[0].needs[].domain: 'housing' appears"),
        (_set("staff.1.role", "director"), "organizations[0]: has 2 directors"),
        # Values that cannot be.
        (_set("exonerees.0.ssn", "123456789"), "exonerees[0].ssn: '123456789' is not nine digits starting with 9"),
        (_set("exonerees.0.phone_suffix", "0250"), "exonerees[0].phone_suffix: '0250' is not in 0100-0199"),
        (_set("organizations.0.cities.0.postal_code", "606"), "organizations[0].cities[0].postal_code"),
        (_set("exonerees.0.born", {"age": 50, "month": 2, "day": 29}), "exonerees[0].born: 2/29"),
        (_set("exonerees.0.assessments.0.scores", "1112"), "exonerees[0].assessments[0].scores: needs 17 digits"),
        (_set("exonerees.0.assessments.0.scores", "11121 12112 25223 36"), "assessments[0].scores: needs 17"),
        (_set(f"{FIRST_NEED}.closed_days_ago", 3), "exonerees[0].needs[0].closed_days_ago: give it exactly when"),
        (_set("exonerees.0.needs.1.closed_days_ago", DELETE), "exonerees[0].needs[1].closed_days_ago"),
        (_set(f"{FIRST_NEED}.referrals.0.days_ago", 50), "needs[0].referrals[0]: needs last_change_days_ago <="),
        (_set(f"{FIRST_NEED}.referrals.0.decline_reason", "Full"), "referrals[0].decline_reason: give it exactly"),
        (_set("exonerees.0.needs.1.referrals.0.got_service", None), "referrals[0].got_service: give it exactly"),
        (_set("exonerees.0.follow_ups.1.outcome", "Done"), "follow_ups[1].outcome: only a follow-up in the past"),
        (_set("exonerees.0.follow_ups.1.hour", 24), "follow_ups[1].hour: 24 is not an hour of the day"),
        (_set("exonerees.0.check_ins_done.1.days", 90), "check_ins_done[1].days: only a check-in whose day has"),
        (_set("exonerees.0.check_ins_done.1.days", 7), "exonerees[0].check_ins_done[].days: '7' appears more"),
    ],
)
def test_a_broken_file_is_refused_with_the_place_named(tmp_path: Path, change: Callable[[dict], None], message: str):
    raw = copy.deepcopy(RAW)
    change(raw)
    broken = tmp_path / "demo.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    with pytest.raises(DemoDataError) as refused:
        load(broken)
    assert message in str(refused.value)


def test_every_place_a_spanish_reader_is_sent_to_has_its_hours_in_spanish():
    """Delia's and Rosa's plans said "Horario: Mon–Fri 7am–3:30pm" and "Mon, Wed, Fri 10am–3pm"
    (a walk of their pages in Spanish): a place they were sent to had no Spanish hours, and the
    plan falls back to the English ones (Resource.hours_to_read)."""
    demo = load(DATA_FILE)
    hours_es = {service.name: service.hours_es for service in demo.services}
    sent_to = {
        referral.service
        for person in demo.exonerees
        if person.language == Language.SPANISH
        for need in person.needs
        for referral in need.referrals
    }

    assert sent_to and sorted(name for name in sent_to if not hours_es[name]) == []
