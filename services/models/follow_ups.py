"""Follow-ups: the dated tasks and appointments of a case."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import AppointmentAnswer
from services.fields import EncryptedTextField
from services.models.base import BaseModel
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.models.validators import validate_sensible_date

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
    # Off unless staff say it is the person's appointment: a caseworker's own task (a call, a
    # case review) never shows on the plan by accident (issue 19).
    shared_with_exoneree = models.BooleanField(
        _("it is their appointment: show it on their plan"),
        default=False,
        help_text=_("Only for appointments the person goes to. Leave it off for staff tasks."),
    )
    # The person's answer on their plan (issue 19): coming, or another time please, in their words.
    person_answer = models.CharField(max_length=20, choices=AppointmentAnswer.choices, blank=True)
    person_words = EncryptedTextField(blank=True, max_length=2000)
    person_answered_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Who marked it done, for the staff's history; emptied with `done_at` when it is reopened.
    # Empty on follow-ups done before it was kept (and, SET_NULL, if the account is ever deleted:
    # the access log's entries protect the account of anyone who marked one done in the app).
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    outcome = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A check-in of the release cadence: the days after release it was planned for (7, 30, 90,
    # 180, 365; services.actions.release_checks). Empty on every other follow-up.
    release_check = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            # Each check-in once per person, however often intake or an edit plans them.
            models.UniqueConstraint(
                fields=["exoneree", "release_check"],
                condition=models.Q(release_check__isnull=False),
                name="followup_one_release_check",
            ),
        ]
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

    @property
    def is_recorded_service(self) -> bool:
        """Recorded with "Record something already done": done when it happened, that is at its
        due time exactly (services.actions.follow_ups.follow_up_record_done). One marked done
        is done at the moment it was marked, to the microsecond, not at its due minute."""
        return self.done_at is not None and self.done_at == self.due_at
