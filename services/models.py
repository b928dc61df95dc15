"""The domain: organizations, staff, exonerees and what is done for them.

Every person's record hangs off an Exoneree, and every Exoneree belongs to exactly one
Organization. Access to all of it goes through `services.access`; object permissions on
Exoneree live in the direct foreign-key tables at the bottom of this module (never
guardian's generic ones, which cannot be joined efficiently).
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from services.choices import (
    AssessmentDomain,
    AssessmentKind,
    CompensationStatus,
    ConsentCategory,
    ConsentRevokedHow,
    ConsentSignedHow,
    ContactPreference,
    EmergencyReview,
    Language,
    NeedDomain,
    NeedStatus,
    NoteVisibility,
    Priority,
    ReferralStatus,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    ResourceStatus,
    Role,
)
from services.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
    index_name_and_birth_date,
    index_ssn,
)
from services.lib.sql import split
from services.lifecycle import REFERRAL_OPEN


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known timezone, like America/Chicago.") from None


ssn_validator = RegexValidator(r"^[0-9]{9}$", _("Enter the 9 digits of the Social Security number."))

# Dates outside these years are typing mistakes, and near the ends of the calendar a
# timezone conversion would overflow.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def validate_sensible_date(value: date) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a date between %(EARLIEST_YEAR)s and %(LATEST_YEAR)s.")
            % {"EARLIEST_YEAR": EARLIEST_YEAR, "LATEST_YEAR": LATEST_YEAR}
        )


# The fields of an exonerees's profile that the intake/edit form changes; an edit saves only
# these, so it cannot undo a concurrent change to anything else (such as a new login).
EXONEREE_PROFILE_FIELDS = [
    "legal_name",
    "preferred_name",
    "pronouns",
    "preferred_language",
    "phone",
    "email",
    "address",
    "contact_preference",
    "ok_to_leave_message",
    "contact_notes",
    "date_of_birth",
    "ssn",
    "conviction_state",
    "conviction_county",
    "conviction_date",
    "release_date",
    "exoneration_date",
    "compensation_status",
    "compensation_deadline",
    "appointment_reminders",
    "reminder_channel",
    "quiet_hours_start",
    "quiet_hours_end",
]
# What an edit writes: the profile and the blind indexes derived from it.
EXONEREE_SAVED_FIELDS = [*EXONEREE_PROFILE_FIELDS, "ssn_index", "name_dob_index", "updated_at"]


class BaseModel(models.Model):
    """The base of our models: `get_<field>_display()` translates one label, not all of them.

    Django's own builds a dict of every choice on each call, and hashing a lazy label
    translates it: a page showing 60 statuses translated 500 labels (bench/README.md).
    """

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field) -> Any:  # noqa: N802 (Django's name)
        labels = field.__dict__.get("_labels_by_value")
        if labels is None:
            labels = field.__dict__["_labels_by_value"] = dict(field.flatchoices)
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, value)
        except TypeError:  # an unhashable value: Django's way
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)


class Organization(BaseModel):
    name = models.CharField(max_length=200, unique=True)
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
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the transaction of every write the director's figures read (services.figures),
    # so a figure cached under an older value is never served again, in any process.
    figures_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A full save of an existing organization (the admin's form, say) leaves its
        `figures_version` alone: writing back the number it loaded could undo a bump made
        since, and a figure cached before that write would be served again (services.figures)."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "figures_version"
            ]
        super().save(*args, **kwargs)


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


class Exoneree(BaseModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="exonerees")
    legal_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=200, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=10, choices=Language.choices, default=Language.ENGLISH)

    email = EncryptedEmailField(blank=True)
    phone = EncryptedCharField(max_length=30, blank=True)
    address = EncryptedTextField(blank=True)
    contact_preference = models.CharField(
        max_length=20, choices=ContactPreference.choices, default=ContactPreference.PHONE
    )
    ok_to_leave_message = models.BooleanField(_("OK to leave a message"), default=False)
    contact_notes = EncryptedCharField(max_length=300, blank=True, help_text=_("Best times, who else may answer."))

    date_of_birth = EncryptedDateField(null=True, blank=True, validators=[validate_sensible_date])
    ssn = EncryptedCharField(_("Social Security number"), max_length=9, blank=True, validators=[ssn_validator])
    # Exact-match lookup without decrypting: the duplicate check at intake.
    ssn_index = BlindIndexField(purpose="ssn", sources=["ssn"], normalize=index_ssn)
    name_dob_index = BlindIndexField(
        purpose="name_dob", sources=["legal_name", "date_of_birth"], normalize=index_name_and_birth_date
    )

    conviction_state = models.CharField(max_length=2, blank=True)
    conviction_county = models.CharField(max_length=100, blank=True)
    conviction_date = models.DateField(null=True, blank=True, validators=[validate_sensible_date])
    release_date = models.DateField(null=True, blank=True, validators=[validate_sensible_date])
    exoneration_date = models.DateField(null=True, blank=True, validators=[validate_sensible_date])

    compensation_status = models.CharField(
        max_length=20, choices=CompensationStatus.choices, default=CompensationStatus.NOT_YET_FILED
    )
    compensation_deadline = models.DateField(
        _("compensation filing deadline"), null=True, blank=True, validators=[validate_sensible_date]
    )

    # Reminders of their own appointments: off unless they asked; never when they chose
    # "do not contact"; never in their quiet hours (organization's time).
    appointment_reminders = models.BooleanField(
        _("remind them of their appointments"), default=False, help_text=_("Only if they asked for reminders.")
    )
    reminder_channel = models.CharField(
        _("remind them by"), max_length=10, choices=ReminderChannel.choices, default=ReminderChannel.EMAIL
    )
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text=_("No reminders from this time… (for example 21:00)")
    )
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text=_("…until this time (for example 08:00)."))

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exoneree",
    )
    caseworkers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="caseload", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_name", "pk"]
        indexes = [models.Index(fields=["organization", "legal_name"])]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A save of only some fields still refreshes a blind index whose source it writes,
        # or the duplicate check would look for the old value.
        if (update_fields := kwargs.get("update_fields")) is not None:
            update_fields = set(update_fields)
            for field in self._meta.concrete_fields:
                if isinstance(field, BlindIndexField) and update_fields & set(field.sources):
                    update_fields.add(field.name)
            kwargs["update_fields"] = update_fields
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("exoneree_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.conviction_date and self.release_date and self.release_date < self.conviction_date:
            errors["release_date"] = _("Release cannot be before conviction.")
        if self.conviction_date and self.exoneration_date and self.exoneration_date < self.conviction_date:
            errors["exoneration_date"] = _("Exoneration cannot be before conviction.")
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            errors["quiet_hours_end"] = _("Give both ends of the quiet hours, or neither.")
        if errors:
            raise ValidationError(errors)

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.legal_name

    @property
    def first_name(self) -> str:
        """What to call them: the preferred name, else the first word of the legal name."""
        return self.preferred_name or self.legal_name.split(" ", 1)[0]

    @property
    def ssn_masked(self) -> str:
        return f"•••-••-{self.ssn[-4:]}" if self.ssn else ""

    @property
    def years_wrongfully_incarcerated(self) -> float | None:
        """From conviction to release; None until both dates are known."""
        if not (self.conviction_date and self.release_date) or self.release_date < self.conviction_date:
            return None
        return round((self.release_date - self.conviction_date).days / 365.25, 1)

    def days_to_compensation_deadline(self, today: date | None = None) -> int | None:
        if not self.compensation_deadline:
            return None
        return (self.compensation_deadline - (today or timezone.localdate())).days


class ExonereeUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="user_permissions")

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class ExonereeGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="group_permissions")


class Need(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="needs")
    # The person's organization, copied when the need is recorded (a person never changes
    # organization), so the director's counts read one index instead of joining the people.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    domain = models.CharField(max_length=30, choices=NeedDomain.choices)
    description = EncryptedTextField(help_text=_("What is needed, in plain words."))
    own_words = EncryptedTextField(
        _("in their own words"), blank=True, help_text=_("What the person said they want, as they said it.")
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=20, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    opened_on = models.DateField(default=timezone.localdate, validators=[validate_sensible_date])
    closed_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["status", "-opened_on", "pk"]
        indexes = [
            models.Index(fields=["exoneree", "status"]),
            models.Index(fields=["domain", "status"]),
            models.Index(fields=["organization", "domain", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_domain_display()}: {self.description[:60]}"

    @property
    def is_open(self) -> bool:
        return self.status in (NeedStatus.OPEN, NeedStatus.IN_PROGRESS)


class Provider(BaseModel):
    """An organization that offers services (HSDS `organization`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="providers")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="provider_unique_name")]

    def __str__(self) -> str:
        return self.name


class Resource(BaseModel):
    """A service a provider offers at a location (HSDS `service` + `location` + `phone`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="resources")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(_("service name"), max_length=200)
    description = models.TextField(blank=True)
    eligibility = models.TextField(blank=True)
    fees = models.CharField(max_length=200, blank=True)
    application_process = models.TextField(blank=True)
    languages = models.CharField(max_length=200, blank=True, help_text=_("For example: English, Spanish"))
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    hours = models.CharField(max_length=200, blank=True, help_text=_("For example: Mon–Fri 9am–5pm"))
    status = models.CharField(max_length=30, choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["organization", "status", "name"])]

    def __str__(self) -> str:
        return f"{self.name} — {self.provider.name}"

    def get_absolute_url(self) -> str:
        return reverse("resource_detail", args=[self.pk])


class ResourceDomain(BaseModel):
    """One need domain a resource serves (a row per domain keeps filtering a plain join)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="domain_rows")
    domain = models.CharField(max_length=30, choices=NeedDomain.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "domain"], name="resource_domain_unique")]
        indexes = [models.Index(fields=["domain", "resource"])]

    def __str__(self) -> str:
        return self.get_domain_display()


class Referral(BaseModel):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="referrals")
    # Its need's organization, copied when it is made (see Need.organization).
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT)
    note = EncryptedTextField(_("note to the provider"), blank=True)
    decline_reason = EncryptedTextField(blank=True)
    got_service = models.BooleanField(_("did they get the service?"), null=True, blank=True)
    helped = models.BooleanField(_("did it help?"), null=True, blank=True)
    feedback = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Set when a consent it relied on was revoked while it was open: the provider must be
    # told to stop using what they were given.
    consent_revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-status_changed_at", "-pk"]
        indexes = [
            models.Index(fields=["need", "status"]),
            models.Index(fields=["status", "status_changed_at"]),
            models.Index(fields=["organization", "status"]),
        ]

    def __str__(self) -> str:
        return _("Referral to %(name)s (%(status)s)") % {
            "name": self.resource.name,
            "status": self.get_status_display(),
        }

    def get_absolute_url(self) -> str:
        return reverse("referral_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in REFERRAL_OPEN


class ReferralCategory(BaseModel):
    """One category of information a referral hands to its provider (contact details are
    always handed over, with or without a row)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="category_rows")
    category = models.CharField(max_length=20, choices=ConsentCategory.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "category"], name="referral_category_unique")]

    def __str__(self) -> str:
        return self.get_category_display()


class ReferralEvent(BaseModel):
    """One status change of a referral: when, by whom, from what to what."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        # The outcomes page counts referrals by the day they were sent (referral: read from the index alone).
        indexes = [models.Index(fields=["to_status", "at", "referral"])]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


FOLLOW_UP_EDITABLE_FIELDS = ["title", "details", "due_at", "assigned_to", "need", "referral", "shared_with_exoneree"]


class FollowUp(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="follow_ups")
    need = models.ForeignKey(Need, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups")
    referral = models.ForeignKey(Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups")
    title = models.CharField("what", max_length=200)
    details = EncryptedTextField(blank=True)
    due_at = models.DateTimeField("when", validators=[validate_sensible_date])
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups_assigned"
    )
    shared_with_exoneree = models.BooleanField(
        _("show on their plan"), default=True, help_text=_("Appointments and check-ins the person should know about.")
    )
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["assigned_to", "done_at", "due_at"]),
            models.Index(fields=["exoneree", "due_at"]),
            # A person's next open follow-up (the people list), their upcoming ones (My plan),
            # the overdue ones per assignee (director's dashboard, from the index alone): done
            # ones, most of the table, are not in it.
            models.Index(
                fields=["exoneree", "due_at", "assigned_to"],
                condition=models.Q(done_at__isnull=True),
                name="followup_open_by_person",
            ),
            # The outcomes page counts the follow-ups due in a period, per assignee, from the index
            # alone (key columns rather than INCLUDE, which SQLite lacks).
            models.Index(fields=["due_at", "exoneree", "assigned_to", "done_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()


class CaseNote(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    visibility = models.CharField(max_length=20, choices=NoteVisibility.choices, default=NoteVisibility.STAFF)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["exoneree", "visibility", "created_at"])]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.created_at:%Y-%m-%d}"


class Assessment(BaseModel):
    """A self-sufficiency assessment: each domain scored 1 (in crisis) to 5 (empowered)."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(max_length=10, choices=AssessmentKind.choices)
    taken_on = models.DateField(default=timezone.localdate, validators=[validate_sensible_date])
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-taken_on", "-pk"]
        # A person's latest assessment by a given day (outcomes: housing, self-sufficiency).
        indexes = [models.Index(fields=["exoneree", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} assessment, {self.taken_on}"


class AssessmentScore(BaseModel):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    domain = models.CharField(max_length=30, choices=AssessmentDomain.choices)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "domain"], name="assessment_domain_unique"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="assessment_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.get_domain_display()}: {self.score}"


# The annotation `selectors.consents_for` adds: a consent's categories, joined by commas.
JOINED_CATEGORIES = "joined_categories"


class Consent(BaseModel):
    """A release of information (45 CFR 164.508(c)): what may be shared, with whom, why,
    from when until when, signed how and when; revocable at any time."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="consents")
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="consents", verbose_name=_("shared with")
    )
    purpose = EncryptedTextField(help_text=_("Why the information is shared, in plain words."))
    starts_on = models.DateField("from", validators=[validate_sensible_date])
    ends_on = models.DateField("until", validators=[validate_sensible_date])
    signed_how = models.CharField("signed", max_length=20, choices=ConsentSignedHow.choices)
    signed_on = models.DateField(_("signed on"), validators=[validate_sensible_date])
    witness = models.CharField(max_length=200, blank=True, help_text=_("Needed when the consent was given verbally."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_how = models.CharField(max_length=10, choices=ConsentRevokedHow.choices, blank=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["exoneree", "provider", "revoked_at"])]

    def __str__(self) -> str:
        return _("Consent to share with %(name)s") % {"name": self.provider.name}

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The end cannot be before the start.")
        if self.signed_how == ConsentSignedHow.VERBAL and not self.witness.strip():
            errors["witness"] = _("Name the witness of a verbal consent.")
        if errors:
            raise ValidationError(errors)

    def is_current(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.revoked_at is None and self.starts_on <= today <= self.ends_on

    @property
    def categories(self) -> list[str]:
        """The categories in their fixed order: from the rows joined into the query that loaded
        the consent when it did (`selectors.consents_for`), else from the (prefetched) rows."""
        if (joined := getattr(self, JOINED_CATEGORIES, None)) is not None:
            return ConsentCategory.in_order(split(joined, ","))
        return ConsentCategory.in_order(row.category for row in self.category_rows.all())

    @property
    def category_labels(self) -> list[str]:
        return [ConsentCategory(value).label for value in self.categories]


class ConsentCategoryRow(BaseModel):
    """One category a consent names; a row each keeps "does a consent cover X" in SQL."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="category_rows")
    category = models.CharField(max_length=20, choices=ConsentCategory.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consent", "category"], name="consent_category_unique")]
        indexes = [models.Index(fields=["category", "consent"])]

    def __str__(self) -> str:
        return self.get_category_display()


class EmergencyAccess(BaseModel):
    """Break-the-glass: a caseworker read a record outside their caseload, for a stated
    reason, for a limited time; a director reviews every one afterwards."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_grants")
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="emergency_grants")
    reason = EncryptedTextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    review = models.CharField(max_length=20, choices=EmergencyReview.choices, default=EmergencyReview.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-granted_at", "-pk"]
        indexes = [models.Index(fields=["user", "expires_at"]), models.Index(fields=["review", "granted_at"])]

    def __str__(self) -> str:
        return f"Emergency access by {self.user} at {self.granted_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class AuditLogIsAppendOnly(Exception):
    """An attempt to change or delete an audit entry."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class AuditEvent(BaseModel):
    """One entry of the access log: who did what to whose record, when, from where.

    Append-only and hash-chained: written by services.audit only (see there).
    """

    class Action(models.TextChoices):
        RECORD_VIEWED = "record_viewed", _("Opened a record")
        SSN_REVEALED = "ssn_revealed", _("Showed the full SSN")
        DUPLICATE_WARNING = "duplicate_warning", _("Was told at intake that this record may be the same person")
        RECORD_CREATED = "record_created", _("Created a record")
        RECORD_CHANGED = "record_changed", _("Changed a record")
        CASELOAD_REASSIGNED = "caseload_reassigned", _("Changed who carries a caseload")
        PERMISSION_CHANGED = "permission_changed", _("Changed a staff role or account")
        EXPORTED = "exported", _("Exported")
        SIGNED_IN = "signed_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed to sign in")
        SIGNED_OUT = "signed_out", _("Signed out")
        EMERGENCY_ACCESS = "emergency_access", _("Opened a record with emergency access")
        EMERGENCY_REVIEWED = "emergency_reviewed", _("Reviewed an emergency access")
        CONSENT_REVOKED = "consent_revoked", _("Revoked a consent to share information")

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The actor's username then, or the one typed at a failed sign-in.
    username = models.CharField(max_length=150, blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)
    exoneree = models.ForeignKey(Exoneree, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target = models.CharField("record", max_length=200, blank=True)
    # For a change: {field: [old, new]}, or {field: "changed"} for an encrypted field.
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        # Related-object access and deletion collection use the base manager: make it the
        # one that refuses updates and deletes too.
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["organization", "at"]),
            models.Index(fields=["exoneree", "at"]),
            # The access log's pages list newest first by id (director's log, a person's log).
            models.Index(fields=["organization", "id"], name="audit_org_newest"),
            models.Index(fields=["exoneree", "id"], name="audit_person_newest"),
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["action", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.username or 'unknown'} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or self.pk is not None:
            raise AuditLogIsAppendOnly("Audit entries cannot be changed.")
        kwargs["force_insert"] = True  # never an UPDATE, whatever the caller asked
        super().save(*args, **kwargs)

    def _do_update(self, *args: Any, **kwargs: Any) -> bool:
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class Reminder(BaseModel):
    """One message to one person at one time, planned ahead as a row (services.reminders).

    The sweep claims due rows with a compare-and-set update and queues their sending; the
    send task moves a row claimed → sending → sent. `key` names what the reminder is about
    (kind, follow-up or exoneree, recipient, day), and its uniqueness makes a second
    reminder for the same thing impossible, even when two planners race.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=ReminderKind.choices)
    key = models.CharField(max_length=120)
    # None only for a reminder to an exoneree without a login (it goes to their contact).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    send_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    # Who holds the row: the sweep's batch, then the one task sending it (a fencing token).
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Why it failed or was skipped, e.g. "SMTPServerDisconnected": never a person's details.
    reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["send_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["key"], name="reminder_unique_key")]
        indexes = [
            models.Index(fields=["status", "send_at"]),
            models.Index(fields=["status", "claimed_at"]),
            models.Index(fields=["claim_token"]),
            models.Index(fields=["organization", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.send_at:%Y-%m-%d %H:%M} UTC ({self.get_status_display()})"


class Notification(BaseModel):
    """An in-app message, behind the login: it may name the person and the follow-up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # One notification per reminder: a redelivered send task cannot add a second.
    reminder = models.OneToOneField(
        Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The unread count, and the list newest first.
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return self.text


class OutcomeCount(BaseModel):
    """Pre-aggregated numbers behind the outcomes page, kept by services/outcome_counts.py.

    One row is how many records (and the sum of a measure, such as days to service) fall
    in one cell of one figure on one day. `caseworker` is empty for "everyone" and
    otherwise a caseworker whose caseload the records belong to (the assignee, for
    follow-ups); `domain` is empty for "every domain". `until` is set only when a record
    stops counting after that day (a self-sufficiency score replaced by a later assessment).
    `month`: the row is a month's total, filed under the month's first day.
    The page sums rows over the period; nothing here is ever shown row by row.
    """

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
        indexes = [
            # Everyone (caseworker empty) or one caseworker, over a period.
            models.Index(fields=["organization", "figure", "caseworker", "domain", "day"]),
            # Follow-ups: every assignee over a period, as whole months and the days around them
            # (month before day, so each part of the period is a range of the index).
            models.Index(fields=["organization", "figure", "domain", "month", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.figure} {self.key} on {self.day}: {self.count}"
