"""Follow-ups, case notes and assessments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    SCORE_LABELS,
    AssessmentDomain,
)
from services.forms.dates import refuse_years_ago, refuse_years_ahead
from services.forms.people import CaseworkerFilterField
from services.forms.widgets import (
    DateInput,
    DateTimeInput,
    FieldGroup,
    LocalDateTimeField,
    StaffChoiceField,
    StaffLengths,
    VisibleTextField,
    name_blanks,
)
from services.models.casework import Assessment, CaseNote
from services.models.follow_ups import FollowUp
from services.models.people import Exoneree
from services.models.referrals import Referral

User = get_user_model()


class FollowUpForm(StaffLengths, forms.ModelForm):
    assigned_to = StaffChoiceField(queryset=User.objects.none(), label=_("Assigned to"))

    class Meta:
        model = FollowUp
        fields = ["title", "due_at", "assigned_to", "need", "referral", "details", "shared_with_exoneree"]
        field_classes = {"title": VisibleTextField, "due_at": LocalDateTimeField}
        widgets = {"due_at": DateTimeInput(), "details": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "title": {"required": _("Say what is to be done, in a few words.")},
            "due_at": {"required": _("Give the day and time it is due.")},
        }
        help_texts = {
            "title": _(
                "Short, like “Housing visit”: it shows in lists and reminders. Put anything private in Details."
            ),
            "details": _("Kept encrypted; shown only on this person's pages."),
        }

    def __init__(self, *args: Any, exoneree: Exoneree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The person's caseworkers (and whoever holds it now, so an edit need not reassign).
        self.fields["assigned_to"].queryset = (
            User.objects.filter(
                Q(caseload=exoneree, is_active=True) | Q(pk=self.instance.assigned_to_id if self.instance.pk else None)
            )
            .distinct()
            .order_by("first_name", "last_name")
        )
        _about_their_needs(self, exoneree)

    def clean_due_at(self) -> datetime:
        """A day set long past or far ahead is a slip of the year: a follow-up is still to do,
        and not in another lifetime. Over the whole calendar, so 9999 reads as 2099 does. Only
        when the day is set or changed, so an old overdue follow-up can still be edited."""
        due_at = self.cleaned_data["due_at"]
        # Unchanged: the stored day to the minute (the form shows no seconds).
        if self.instance.pk and abs(due_at - self.instance.due_at) < timedelta(minutes=1):
            return due_at
        if due_at < timezone.now() - FOLLOW_UP_LATE_ENTRY:
            raise forms.ValidationError(
                _(
                    "This is more than %(days)s days ago: check the year. Something already done is recorded "
                    "with “Record something already done” on their page."
                )
                % {"days": FOLLOW_UP_LATE_ENTRY.days}
            )
        refuse_years_ahead(due_at, FOLLOW_UP_YEARS_AHEAD)
        return due_at


def _about_their_needs(form: forms.ModelForm, exoneree: Exoneree) -> None:
    """The need and referral a follow-up may be about: the person's own, or none."""
    form.fields["need"].queryset = exoneree.needs.all()
    form.fields["referral"].queryset = Referral.objects.filter(need__exoneree=exoneree).select_related("resource")
    form.fields["need"].required = False
    form.fields["referral"].required = False
    name_blanks(form, need=_("Not about one need"), referral=_("Not about a referral"))


class FollowUpDoneAlreadyForm(StaffLengths, forms.ModelForm):
    """Something already done for the person, recorded as a follow-up done when it happened
    (services.actions.follow_ups.follow_up_record_done refuses a time still to come)."""

    outcome = forms.CharField(
        label=_("What came of it"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept encrypted; shown only on this person's pages."),
    )

    class Meta:
        model = FollowUp
        fields = ["title", "due_at", "need", "referral", "outcome", "shared_with_exoneree"]
        field_classes = {"title": VisibleTextField, "due_at": LocalDateTimeField}
        widgets = {"due_at": DateTimeInput()}
        error_messages = {
            "title": {"required": _("Say what was done, in a few words.")},
            "due_at": {"required": _("Give the day and time it was done.")},
        }
        labels = {
            "title": _("What was done"),
            "due_at": _("When it was done"),
            "shared_with_exoneree": _("They were there: show it on their plan"),
        }
        help_texts = {
            "title": _("Short, like “Drove him to the SSA office”: it shows in lists. Put the rest below."),
            "due_at": _("Now, or earlier: something still to come is a follow-up to schedule."),
            "shared_with_exoneree": _("Leave it off for work done for them without them, such as a call."),
        }

    def __init__(self, *args: Any, exoneree: Exoneree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Now, the latest time it takes: the page starts there, and the API takes it when left out.
        self.fields["due_at"].initial = _this_minute
        _about_their_needs(self, exoneree)

    def clean_due_at(self) -> datetime:
        """Recorded late from the paper file, as a need is: within a few years, and 1900 is a
        slip of the year (it was listed "Done Jan 1, 1900"). A time still to come is refused
        by the action."""
        due_at = self.cleaned_data["due_at"]
        refuse_years_ago(due_at)
        return due_at


def _this_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


# How far back a follow-up's day may be set: one entered a little late is still one to do.
FOLLOW_UP_LATE_ENTRY = timedelta(days=30)
# How far ahead: past the end of the longest filing window a follow-up may track (six years,
# services/data/compensation_rules.yaml), yet short of a slip of the year such as 2199.
FOLLOW_UP_YEARS_AHEAD = 10


class FollowUpFilterForm(forms.Form):
    """Which open follow-ups the list shows: overdue, due in the next 7 days, or every open one
    (services.selectors.dashboards.open_follow_ups); for a director, one caseworker's (the
    overview's overdue counts link here) or everyone's."""

    # Chosen by the page's links, not a box: a value of an address typed or cut short is said
    # beside those links, with what is listed instead.
    due = forms.ChoiceField(
        label=_("Which follow-ups"),
        required=False,
        choices=[("", _("All open")), ("overdue", _("Overdue")), ("week", _("Due in the next 7 days"))],
        error_messages={
            "invalid_choice": _(
                "Not a choice here: choose Overdue, Due in the next 7 days or All open. All open ones are listed below."
            )
        },
    )
    caseworker = CaseworkerFilterField(
        label=_("Caseworker"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )

    def __init__(self, *args: Any, caseworkers: QuerySet[Any] | None, **kwargs: Any) -> None:
        """`caseworkers`: the organization's, for a director; None for a caseworker, whose list
        is their own."""
        super().__init__(*args, **kwargs)
        if caseworkers is None:
            del self.fields["caseworker"]
        else:
            self.fields["caseworker"].queryset = caseworkers


class FollowUpDoneForm(StaffLengths, forms.Form):
    outcome = forms.CharField(
        label=_("What happened?"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CaseNoteForm(StaffLengths, forms.ModelForm):
    class Meta:
        model = CaseNote
        fields = ["text", "visibility"]
        field_classes = {"text": VisibleTextField}
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
        error_messages = {"text": {"required": _("Write the note.")}}
        help_texts = {"visibility": _("Shared notes appear on the person's own plan.")}

    def __init__(
        self,
        *args: Any,
        check_ins: QuerySet[FollowUp] | None = None,
        offered: Sequence[FollowUp] = (),
        **kwargs: Any,
    ) -> None:
        """`check_ins`: the person's check-ins after release a new note may close (done or not);
        `offered`: the open ones among them, each a box. The boxes appear only when one is
        offered; a post that names one anyway is checked against `check_ins` (another person's
        follow-up is refused beside the field, one already done is accepted and left alone)."""
        super().__init__(*args, **kwargs)
        name_blanks(self, visibility=_("Choose who may read it: staff only, or shared with the person"))
        if check_ins is not None and (offered or (self.is_bound and "check_ins" in self.data)):
            refused = _("Choose one of this person's check-ins after release that is due.")
            field = forms.ModelMultipleChoiceField(
                label=_("Check-in after release"),
                queryset=check_ins,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                error_messages={"invalid_choice": refused, "invalid_pk_value": refused},
            )
            # Only the open ones are shown; the queryset (the one that validates) holds the done too.
            field.widget.choices = [(check_in.pk, check_in_box(check_in)) for check_in in offered]
            self.fields["check_ins"] = field


def check_in_box(check_in: FollowUp) -> str:
    return _("This was the %(days)s-day check-in after release (marks it done)") % {"days": check_in.release_check}


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ["kind", "taken_on"]
        widgets = {"taken_on": DateInput()}
        error_messages = {"taken_on": {"required": _("Give the day the assessment was taken.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        existing = {s.domain: s.score for s in self.instance.scores.all()} if self.instance.pk else {}
        choices = [("", "—")] + [(str(n), f"{n} – {label}") for n, label in SCORE_LABELS.items()]
        for domain in AssessmentDomain:
            self.fields[f"score_{domain.value}"] = forms.TypedChoiceField(
                label=domain.label, choices=choices, coerce=int, required=False, empty_value=None
            )
            if domain.value in existing:
                self.initial[f"score_{domain.value}"] = str(existing[domain.value])
        name_blanks(self, kind=_("Choose the kind of assessment"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.scores():
            raise forms.ValidationError(_("Score at least one domain."))
        return data

    def scores(self) -> dict[str, int]:
        return {
            domain.value: self.cleaned_data[f"score_{domain.value}"]
            for domain in AssessmentDomain
            if self.cleaned_data.get(f"score_{domain.value}") is not None
        }

    def field_group(self) -> FieldGroup:
        return FieldGroup(
            legend=_("Scores"), fields=[self[f"score_{domain.value}"] for domain in AssessmentDomain], css="scores"
        )
