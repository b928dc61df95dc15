"""The organization's settings a director keeps: how long things may wait before someone is
told, when caseworkers get their morning digest, how long closed cases are kept, and whether the
Network's figures count the organization's counts. The time zone stays with the operator
(/admin/): the kept outcome counts are counted by local day."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from services.forms.widgets import name_blanks, whole_number_from
from services.models.organizations import DIRECTOR_SETTINGS, Organization
from services.outcomes.network import MIN_ORGANIZATIONS


class OrganizationSettingsForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = DIRECTOR_SETTINGS
        labels = {
            "escalation_days": _("Tell me when a follow-up is overdue by (days)"),
            "digest_hour": _("Caseworkers' morning digest at (hour of the day)"),
            "provider_response_days": _("Nudge a provider who has not answered a referral after (days)"),
            "completion_days": _("Remind the caseworker of an accepted referral still open after (days)"),
            "provider_link_days": _("A provider's link keeps working for (days)"),
            "retention_years": _("Keep closed cases for (years)"),
            "retention_mode": _("After that"),
            "shares_network_figures": _("Share our counts with the Innocence Network"),
        }
        help_texts = {
            "escalation_days": _("Follow-ups already overdue are planned again with the new number."),
            "digest_hour": _("In the organization's time. The digests already planned move to the new hour."),
            "provider_response_days": _(
                "From a referral's next move on; the outcomes' “stalled now” counts with it at once."
            ),
            "completion_days": _("From a referral's next move on; the outcomes' “stalled now” counts with it at once."),
            "provider_link_days": _("For links sent from now on; links already sent keep their date."),
            "retention_years": _(
                "No case is purged or de-identified before a director confirms it on the retention page."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, retention_mode=_("Choose what happens to a record after that"))
        # The model's range (its validators), not a positive field's 0, on the field, the box,
        # the message and the help text, so that they all say the same numbers.
        for name, field in self.fields.items():
            if not isinstance(field, forms.IntegerField):
                continue
            validators = Organization._meta.get_field(name).validators
            low = next((v.limit_value for v in validators if isinstance(v, MinValueValidator)), 0)
            high = next(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
            whole_number_from(field, low, high)
            field.help_text = f"{_('%(low)s to %(high)s.') % {'low': low, 'high': high}} {field.help_text}"
        # What sharing means, in plain words, with the numbers the Network's page obeys.
        self.fields["shares_network_figures"].help_text = _(
            "The Network's analysts then see our counts added to those of the other organizations that share "
            "theirs: counts only (referrals, follow-ups, housing, self-sufficiency), never a name or a record, "
            "and never our counts on their own. A count from 1 to %(hidden)s is hidden, and no figure is shown "
            "while fewer than %(organizations)s organizations share."
        ) % {"hidden": settings.NETWORK_MIN_CELL - 1, "organizations": MIN_ORGANIZATIONS}
