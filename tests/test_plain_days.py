"""The days on the person's pages follow one rule: the year only when it is not this year's
(services/lib/days.py). My plan wrote "Last news: November 26, 2026" beside "You said … on
December 5", and "Tuesday, January 26" for an appointment of next year."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from services.choices import ReferralStatus
from services.lib.days import plain_day
from services.models.follow_ups import FollowUp
from services.models.referrals import Referral

NEW_YORK = ZoneInfo("America/New_York")
TODAY = datetime(2026, 12, 7, 12, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("language", "day", "weekday", "always_year", "said"),
    [
        ("en", date(2026, 12, 9), False, False, "December 9"),
        ("en", date(2027, 1, 26), False, False, "January 26, 2027"),
        ("en", date(2025, 5, 21), False, False, "May 21, 2025"),
        ("en", date(2026, 12, 9), True, False, "Wednesday, December 9"),
        ("en", date(2027, 1, 26), True, False, "Tuesday, January 26, 2027"),
        ("en", date(2026, 12, 9), False, True, "December 9, 2026"),
        ("es", date(2026, 12, 9), False, False, "9 de diciembre"),
        ("es", date(2027, 1, 26), True, False, "martes 26 de enero de 2027"),
        ("es", date(2025, 5, 21), False, False, "21 de mayo de 2025"),
    ],
)
def test_a_day_says_its_year_only_when_it_is_not_this_years(language, day, weekday, always_year, said):
    with time_machine.travel(TODAY, tick=False), translation.override(language):
        assert plain_day(day, weekday=weekday, always_year=always_year) == said


def test_a_moment_is_read_in_the_local_time_zone():
    """11 p.m. on New Year's Eve in New York is already the new year in UTC: the day is the
    local one, and so is its year."""
    eve = datetime(2027, 1, 1, 4, tzinfo=ZoneInfo("UTC"))
    with time_machine.travel(TODAY, tick=False), timezone.override(NEW_YORK), translation.override("en"):
        assert plain_day(eve) == "December 31"
        assert plain_day(None) == ""


@pytest.mark.django_db
def test_my_plan_writes_every_day_by_the_one_rule(world, login):
    """On one plan: an appointment of next year with its year, the last news of this year
    without, and the answer to it as the question reads on the form."""
    referral = world.marcus.referral
    with time_machine.travel(TODAY, tick=False):
        Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT, status_changed_at=TODAY)
        FollowUp.objects.filter(pk=world.marcus.follow_up.pk).update(
            due_at=datetime(2027, 1, 26, 10, tzinfo=NEW_YORK), shared_with_exoneree=True, done_at=None
        )
        client = login("exoneree1")
        client.post(reverse("my_referral_answer", args=[referral.pk]), {"answer": "not_yet", "words": ""})
        text = re.sub(r"<[^>]+>|\s+", " ", client.get(reverse("my_plan")).content.decode())

    assert "Tuesday, January 26, 2027 at 10:00 a.m." in text
    assert "Last news: December 7." in text
    provider = referral.resource.provider.name
    assert f"Did you get help from {provider}? You said “Not yet” on December 7." in text
    assert not re.search(r"\b[A-Z][a-z]+,? [A-Z]?[a-z]* ?\d{1,2}, 2026\b", text), "a day of this year with its year"
