"""Organizations and their staff."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from services.choices import RetentionMode, Role
from services.models.base import BaseModel
from services.models.validators import validate_timezone

# What a director sets on their organization's settings page (services/forms/organization.py);
# the name, the code and the time zone stay with the operator.
DIRECTOR_SETTINGS = [
    "escalation_days",
    "digest_hour",
    "provider_response_days",
    "completion_days",
    "provider_link_days",
    "retention_years",
    "retention_mode",
    "shares_network_figures",
]


class Organization(BaseModel):
    name = models.CharField(max_length=200, unique=True)
    # Every account made here is named `<handle>@<code>`: usernames are unique across the
    # whole site (they sign in), and a namespace of its own means a director or caseworker
    # choosing a username only ever learns what is taken in their own organization.
    code = models.SlugField(
        _("username ending"),
        max_length=20,
        unique=True,
        db_index=False,  # the unique constraint is the index (a second one clashes on PostgreSQL)
        blank=True,
        help_text=_("New accounts here are named like maria@code. Left blank, it is made from the name."),
    )
    timezone = models.CharField(max_length=64, default="America/New_York", validators=[validate_timezone])
    escalation_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Days a follow-up may stay overdue before the director is told."),
    )
    digest_hour = models.PositiveSmallIntegerField(
        _("morning digest hour"),
        default=8,
        validators=[MaxValueValidator(23)],
        help_text=_("Hour of the day (organization's time) when caseworkers get their digest."),
    )
    # db_default on the referral loop's columns: rows written outside the ORM (bench/seed.py's
    # COPY, an SQL fix) get the same values as a save.
    provider_link_days = models.PositiveSmallIntegerField(
        default=30,
        db_default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Days the link in a referral's email keeps working for the provider."),
    )
    provider_response_days = models.PositiveSmallIntegerField(
        default=5,
        db_default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Days a provider has to answer a referral before they are nudged."),
    )
    completion_days = models.PositiveSmallIntegerField(
        default=30,
        db_default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Days an accepted referral may stay open before the caseworker is reminded."),
    )
    # Retention (issue 23): closed cases are kept this many years after their exit, then
    # purged or de-identified, unless a legal hold stops it.
    retention_years = models.PositiveSmallIntegerField(
        _("keep closed cases for (years)"),
        default=7,
        db_default=7,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    retention_mode = models.CharField(
        _("after that"), max_length=12, choices=RetentionMode.choices, default=RetentionMode.PURGE, db_default="purge"
    )
    # Whether the Network's analysts count this organization's kept counts in the Network's
    # figures (services/outcomes/network.py): counts only, never a record. Off until its
    # director turns it on.
    shares_network_figures = models.BooleanField(_("share counts with the Network"), default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the transaction of every write the director's figures read (services.figures),
    # so a figure cached under an older value is never served again, in any process.
    figures_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Before the unique check: "HL" is taken when "hl" is.
        self.code = self.code.lower()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A full save of an existing organization (the admin's form, say) leaves its
        `figures_version` alone: writing back the number it loaded could undo a bump made
        since, and a figure cached before that write would be served again (services.figures).
        The code is kept in small letters, as every username is typed (services.auth)."""
        self.code = self.code.lower()
        if not self.code:
            self.code = organization_code(self.name, taken=Organization.objects.exclude(pk=self.pk))
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "figures_version"
            ]
        super().save(*args, **kwargs)

    def zone(self) -> zoneinfo.ZoneInfo:
        """The time zone its pages and emails show times in; the site's when the stored name
        is not one this machine knows (a validator checks it, but a row may predate that)."""
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def tomorrow_starts(self, now: datetime) -> datetime:
        """Where the organization's today ends: the first moment of the day after `now`'s, in
        its zone (the morning digest's "due today"; a reopened recorded service is due by then)."""
        zone = self.zone()
        return datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)


def organization_code(name: str, *, taken: models.QuerySet[Organization]) -> str:
    """A short code from the name's initials ("Midwest Exoneree Reentry Project" -> "merp"),
    numbered when another organization has it already."""
    words = [w for w in re.findall(r"[a-z0-9]+", name.lower()) if w not in _SMALL_WORDS]
    base = "".join(w[0] for w in words) if len(words) > 1 else "".join(words)[:12]
    base = base or "org"
    used = set(taken.filter(code__startswith=base).values_list("code", flat=True))
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}{n}"
    return candidate


_SMALL_WORDS = frozenset({"a", "an", "and", "for", "of", "the", "in", "on", "at"})


class StaffMember(BaseModel):
    """A user's job at one organization: caseworker or director."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()} ({self.get_role_display()})"

    @property
    def is_director(self) -> bool:
        return self.role == Role.DIRECTOR

    @property
    def is_caseworker(self) -> bool:
        return self.role == Role.CASEWORKER
