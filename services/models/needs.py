"""A person's needs, one per domain of life the person wants help with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    AskState,
    NeedDomain,
    NeedStatus,
    Priority,
)
from services.fields import EncryptedTextField
from services.models.base import BaseModel
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.validators import validate_past_date, validate_sensible_date


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
    opened_on = models.DateField(default=timezone.localdate, validators=[validate_sensible_date, validate_past_date])
    closed_on = models.DateField(null=True, blank=True, validators=[validate_sensible_date, validate_past_date])
    # The moments behind those days, for the case's history in the order things happened: set
    # when the day is today (a day entered for the past has no moment; nor has older data).
    recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Asked for by the person on their plan (issue 19): blank for a need staff recorded.
    ask_state = models.CharField(_("asked by the person"), max_length=10, choices=AskState.choices, blank=True)
    # The caseworker's answer when they answered the ask instead of taking it on: shown to the
    # person as written.
    ask_answer = EncryptedTextField(_("answer to the person"), blank=True)
    ask_handled_at = models.DateTimeField(null=True, blank=True)
    # The key papers this need is for (document kinds), set when the checklist makes it in one
    # click: the checklist finds it by them whatever its words become, since staff are asked
    # to reword a need for the person. Empty for any other need (and for older ones, which the
    # checklist still knows by the one-click words).
    papers = models.JSONField(_("key papers"), default=list, blank=True, editable=False)

    def is_for_paper(self, kind: str, one_click_words: str) -> bool:
        """Whether this is the need for that key paper: it names it, or (made before needs
        named their papers) it still has the one-click need's words."""
        return kind in self.papers if self.papers else self.description == one_click_words

    class Meta:
        ordering = ["status", "-opened_on", "pk"]
        indexes = [
            models.Index(fields=["exoneree", "status"]),
            models.Index(fields=["domain", "status"]),
            # With the dates the outcomes page counts (INCLUDE, PostgreSQL only): an organization's
            # needs by domain are counted from the index, not from their rows.
            models.Index(
                fields=["organization", "domain", "status"],
                include=["opened_on", "closed_on"],
                name="need_org_domain_status_cover",
            ),
            # The asks still waiting for a caseworker (first on the dashboard): a handful.
            models.Index(
                fields=["exoneree", "opened_on"],
                condition=models.Q(ask_state=AskState.WAITING),
                name="need_ask_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_domain_display()}: {self.description[:60]}"

    @property
    def is_open(self) -> bool:
        return self.status in (NeedStatus.OPEN, NeedStatus.IN_PROGRESS)

    @property
    def asked_by_person(self) -> bool:
        return bool(self.ask_state)
