"""The exoneree's record, and the direct foreign-key object permissions on it.

Object permissions on Exoneree live in the direct foreign-key tables here (never guardian's
generic ones, which cannot be joined efficiently).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from services.choices import (
    ContactPreference,
    Language,
    ReminderChannel,
)
from services.fields import (
    BlindIndexField,
    DerivedMixin,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
    FoldedNameField,
    fold_words,
    index_name_and_birth_date,
    index_phone,
    index_ssn,
    looks_like_phone,
)
from services.models.base import BaseModel
from services.models.organizations import Organization
from services.models.validators import ssn_validator, validate_past_date, validate_sensible_date

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
    "appointment_reminders",
    "reminder_channel",
    "quiet_hours_start",
    "quiet_hours_end",
]

# What the person may set themselves, from their account (issue 19): how to reach them and
# the reminders of their appointments. The reminder planner and sender read these same fields.
CONTACT_WISH_FIELDS = [
    "contact_preference",
    "ok_to_leave_message",
    "appointment_reminders",
    "reminder_channel",
    "quiet_hours_start",
    "quiet_hours_end",
]

# What an edit writes: the profile, and the blind indexes and folded names derived from it.
EXONEREE_SAVED_FIELDS = [
    *EXONEREE_PROFILE_FIELDS,
    "ssn_index",
    "name_dob_index",
    "phone_index",
    "legal_name_folded",
    "preferred_name_folded",
    "updated_at",
]


def name_search(q: str, path: str = "") -> Q:
    """Every word of `q` in the person's legal or preferred name, case, accents and punctuation
    ignored on both sides ("Délia" finds Delia, "Munoz" Muñoz, "oneil" O'Neil). `path` leads to
    the person from another model ("exoneree__")."""
    match = Q()
    for word in fold_words(q):
        match &= Q(**{f"{path}legal_name_folded__contains": word}) | Q(
            **{f"{path}preferred_name_folded__contains": word}
        )
    return match


def person_search(q: str) -> Q:
    """What the People search finds: every word of `q` in a name (`name_search`) and, when `q`
    is a phone number (`looks_like_phone`), the person with that whole number, however either
    was written. Exact only: a blind index cannot match part of a number."""
    match = name_search(q)
    if looks_like_phone(q):
        match |= Q(phone_index__in=Exoneree._meta.get_field("phone_index").candidates(q))
    return match


class ExonereeQuerySet(models.QuerySet):
    def current(self) -> ExonereeQuerySet:
        """The records in use: not a duplicate merged into another (services/actions/merges.py)."""
        return self.filter(merged_into__isnull=True)


class Exoneree(BaseModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="exonerees")
    legal_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=200, blank=True)
    # The names as searches compare them (services.fields.FoldedNameField).
    legal_name_folded = FoldedNameField(source="legal_name")
    preferred_name_folded = FoldedNameField(source="preferred_name")
    pronouns = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=10, choices=Language.choices, default=Language.ENGLISH)

    email = EncryptedEmailField(blank=True)
    phone = EncryptedCharField(max_length=30, blank=True)
    # Exact-match lookup without decrypting: the People search by a number that called.
    phone_index = BlindIndexField(purpose="phone", sources=["phone"], normalize=index_phone)
    address = EncryptedTextField(blank=True)
    contact_preference = models.CharField(
        max_length=20, choices=ContactPreference.choices, default=ContactPreference.PHONE
    )
    ok_to_leave_message = models.BooleanField(_("OK to leave a message"), default=False)
    contact_notes = EncryptedCharField(max_length=300, blank=True, help_text=_("Best times, who else may answer."))

    date_of_birth = EncryptedDateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    ssn = EncryptedCharField(_("Social Security number"), max_length=9, blank=True, validators=[ssn_validator])
    # Exact-match lookup without decrypting: the duplicate check at intake.
    ssn_index = BlindIndexField(purpose="ssn", sources=["ssn"], normalize=index_ssn)
    name_dob_index = BlindIndexField(
        purpose="name_dob", sources=["legal_name", "date_of_birth"], normalize=index_name_and_birth_date
    )

    conviction_state = models.CharField(max_length=2, blank=True)
    conviction_county = models.CharField(max_length=100, blank=True)
    conviction_date = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    release_date = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    exoneration_date = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])

    # The compensation claim, certificate of innocence and record clearance are in
    # services/models/legal.py (the claim's filing deadline is computed from the rules table).

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
    # When the person last set these wishes themselves (issue 19), so staff know whose word they are.
    contact_wishes_set_at = models.DateTimeField(null=True, blank=True, editable=False)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exoneree",
    )
    caseworkers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="caseload", blank=True)
    # The case's state, kept beside its enrolments (services/models/enrolments.py) so lists
    # filter on one column: null while the case is open, the exit date once it is closed.
    case_closed_on = models.DateField(_("case closed on"), null=True, blank=True, editable=False, db_index=True)
    # A restricted record (issue 23): only its assigned caseworkers and the directors see it.
    restricted = models.BooleanField(_("restricted"), default=False, editable=False)
    restricted_reason = models.CharField(_("why it is restricted"), max_length=300, blank=True, editable=False)
    restricted_at = models.DateTimeField(null=True, blank=True, editable=False)
    restricted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    # A duplicate merged into another record (services/actions/merges.py) stays, hidden from
    # every page and list, so that an undo within 30 days can split the two exactly again.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_duplicates", editable=False
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # De-identified under retention (issue 23): who they were is gone, their counts stay.
    deidentified_at = models.DateTimeField(_("de-identified at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExonereeQuerySet.as_manager()

    class Meta:
        ordering = ["legal_name", "pk"]
        indexes = [
            models.Index(fields=["organization", "legal_name"]),
            # The intake's same-name check compares whole folded names (a search's words are
            # found anywhere in a name, which no such index serves).
            models.Index(fields=["organization", "legal_name_folded"], name="exoneree_org_legal_folded"),
            models.Index(fields=["organization", "preferred_name_folded"], name="exoneree_org_preferred_folded"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A save of only some fields still refreshes a blind index or folded name whose source
        # it writes, or the duplicate check and name search would look for the old value.
        if (update_fields := kwargs.get("update_fields")) is not None:
            update_fields = set(update_fields)
            for field in self._meta.concrete_fields:
                if isinstance(field, DerivedMixin) and update_fields & set(field.sources):
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
        elif self.quiet_hours_start is not None and self.quiet_hours_start == self.quiet_hours_end:
            # Read as no quiet time at all (reminder_plans.quiet_until), never as a whole day of it.
            errors["quiet_hours_end"] = _(
                "Quiet time cannot start and end at the same time. Leave both empty for no quiet time."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def case_is_open(self) -> bool:
        return self.case_closed_on is None

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.legal_name

    @property
    def other_legal_name(self) -> str:
        """The legal name when they go by another one (staff lists write it after the name they
        use, "Tony (Anthony Reyes)"), else "": the same name twice says nothing."""
        return self.legal_name if self.preferred_name and self.preferred_name != self.legal_name else ""

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


class ExonereeUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="user_permissions")

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class ExonereeGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="group_permissions")
