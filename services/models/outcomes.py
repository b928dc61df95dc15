"""The kept counts the outcome figures read."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from services.models.base import BaseModel
from services.models.organizations import Organization


class CountCell(BaseModel):
    """One cell of one figure on one day: how many records fall in it (and the sum of a
    measure, such as days to service). `caseworker` is empty for "everyone" and otherwise a
    caseworker whose caseload the records belong to (the assignee, for follow-ups); `domain`
    is empty for "every domain". `until` is set only when a record stops counting after that
    day (a self-sufficiency score replaced by a later assessment). `month`: the row is a
    month's total, filed under the month's first day."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    caseworker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    figure = models.CharField(max_length=20)
    key = models.CharField(max_length=20)
    domain = models.CharField(max_length=30, blank=True)
    day = models.DateField()
    until = models.DateField(null=True, blank=True)
    # A whole month, filed under its first day (follow-ups only: a year of them is then a
    # few thousand rows to sum, not tens of thousands). The days are filed as well.
    month = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.figure} {self.key} on {self.day}: {self.count}"


class OutcomeCount(CountCell):
    """Pre-aggregated numbers behind the outcomes page, kept by services/outcome_counts.py.
    The page sums rows over the period; nothing here is ever shown row by row."""

    class Meta:
        indexes = [
            # Everyone (caseworker empty) or one caseworker, over a period.
            models.Index(fields=["organization", "figure", "caseworker", "domain", "day"]),
            # Follow-ups: every assignee over a period, as whole months and the days around them
            # (month before day, so each part of the period is a range of the index).
            models.Index(fields=["organization", "figure", "domain", "month", "day"]),
        ]


class RetiredCount(CountCell):
    """What people purged under retention (issue 23) had added to the kept counts.

    Their rows are gone, so a recount (services/outcome_counts.py) could no longer find what
    they contributed: it adds these back, and the counts of past periods stay as they were.
    One row per purged person's cell, never shown."""
