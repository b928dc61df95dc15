"""Inputs and fields the forms share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from services.lib.clock_changes import clock_change_message
from services.lib.text import visible_length

MAX_SEARCH = 100
DASHES = "---------"  # Django's label for an empty choice
DJANGO_REQUIRED = forms.Field.default_error_messages["required"]


# A needed list or set of answers with no empty choice is never sent empty by the page: only by a
# forged or broken request. Unnamed in `name_blanks`, it still says what to do, not Django's
# bare "This field is required.".
CHOOSE_FROM_THE_LIST = _("Choose one from the list.")
CHOOSE_AN_ANSWER = _("Choose one of the answers.")


def name_blanks(form: forms.BaseForm, **labels: str) -> None:
    """Words instead of Django's "---------" for every empty choice of the form: `labels` by
    field name, else "Choose…" where a choice is needed and "None" where it is not. A list
    needed and left on its named blank says those words beside it ("Choose the provider."),
    not Django's bare "This field is required.", unless the form has words of its own. A list
    with no empty choice (a role, a status) is named the same way, for its message only; left
    unnamed, it says CHOOSE_FROM_THE_LIST (a set of answers, CHOOSE_AN_ANSWER)."""
    for name, field in form.fields.items():
        label = labels.get(name) or (_("Choose…") if field.required else _("None"))
        if field.required and field.error_messages["required"] == DJANGO_REQUIRED:
            if name in labels:
                field.error_messages = {**field.error_messages, "required": format_lazy("{}.", labels[name])}
            elif _one_choice_without_a_blank(field):
                words = CHOOSE_AN_ANSWER if isinstance(field.widget, forms.RadioSelect) else CHOOSE_FROM_THE_LIST
                field.error_messages = {**field.error_messages, "required": words}
        if isinstance(field, forms.ModelChoiceField):  # its choices are a query: only the label
            if field.empty_label == DASHES:
                field.empty_label = label
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.MultipleChoiceField):
            field.choices = [
                (value, label if value == "" and text == DASHES else text) for value, text in field.choices
            ]


def _one_choice_without_a_blank(field: forms.Field) -> bool:
    """A field of one choice (a list or a set of answers) that offers no empty one."""
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return False
    if isinstance(field, forms.ModelChoiceField):
        return field.empty_label is None
    if not isinstance(field, forms.ChoiceField):
        return False
    # A grouped list (<optgroup>) holds its choices one level down.
    values = [v for value, text in field.choices for v in ([c[0] for c in text] if _grouped(text) else [value])]
    return "" not in values


def _grouped(text: Any) -> bool:
    return isinstance(text, list | tuple)


def whole_number_from(field: forms.IntegerField, low: int, high: int) -> None:
    """One range on the field, its box and every message ("Enter a whole number from 1 to
    60."), rather than Django's "Ensure this value is less than or equal to 60." beside a help
    text in other words."""
    field.widget.attrs |= {"min": low, "max": high}
    words = _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
    field.error_messages |= {"invalid": words}
    others = [v for v in field.validators if not isinstance(v, MinValueValidator | MaxValueValidator)]
    field.validators = [*others, MinValueValidator(low, message=words), MaxValueValidator(high, message=words)]


# Django's "Ensure this value has at most 2000 characters (it has 2113)." in the person's words:
# letters and spaces, not "characters", a word the person may not know in this sense.
TOO_LONG = ngettext_lazy(
    "This is too long: at most %(limit_value)d letter or space. You wrote %(show_value)d.",
    "This is too long: at most %(limit_value)d letters and spaces. You wrote %(show_value)d.",
    "limit_value",
)
# The same for staff (ours, and a program's on the provider's page), in characters: the word of
# the counter below a staff's box (templates/base.html), and one staff know in this sense.
TOO_LONG_IN_CHARACTERS = ngettext_lazy(
    "Please keep this to %(limit_value)d character or fewer. You wrote %(show_value)d.",
    "Please keep this to %(limit_value)d characters or fewer. You wrote %(show_value)d.",
    "limit_value",
)


def one_line_break(text: str) -> str:
    """Every line break as one character, "\n": as a browser sends them ("\r\n") or a lone "\r"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LineBreaksAsOne:
    """A form with a box of several lines (a textarea): each line break in it is one character
    before anything checks its length, and is saved so. The box's maxlength and its counter
    (limits.js) count a line break as one, but a browser sends it as "\r\n": a text typed up
    to the limit with line breaks in it was refused as too long. Every form with a textarea
    has this (tests/test_text_limits.py checks that none is left out)."""

    def full_clean(self) -> None:
        # Here rather than in __init__: a form may add or swap its fields after Django's
        # __init__, and the data is read only once it is cleaned.
        if self.is_bound:
            fields = self.fields.items()
            boxes = [self.add_prefix(name) for name, field in fields if isinstance(field.widget, forms.Textarea)]
            self.data = _line_breaks_as_one(self.data, boxes)
        super().full_clean()


def _line_breaks_as_one(data: Any, names: list[str]) -> Any:
    """The posted data with one kind of line break in the named fields."""
    changed = {name: [one_line_break(v) for v in values_of(data, name)] for name in names}
    changed = {name: values for name, values in changed.items() if values != values_of(data, name)}
    return with_values(data, changed) if changed else data


def values_of(data: Any, name: str) -> list[str]:
    """The texts given for a name in form data: a QueryDict's every value, a plain dict's one."""
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    return [value for value in values if isinstance(value, str)]


def with_values(data: Any, values: dict[str, list[str]], *, without: tuple[str, ...] = ()) -> Any:
    """A copy of form data (a QueryDict, which cannot be changed, or a plain dict) with these
    names given these values, and the names `without` left out."""
    data = data.copy()
    for name in without:
        data.pop(name, None)
    for name, given in values.items():
        if hasattr(data, "setlist"):  # a QueryDict: every value given
            data.setlist(name, given)
        else:
            data[name] = given[-1]  # a QueryDict's one value is its last
    return data


class Lengths(LineBreaksAsOne):
    """A text too long is told beside it in the reader's words (`too_long`), for every field
    with a length limit, whatever the field (Django's field runs its MaxLengthValidator and puts
    the field's own "max_length" message in its place), rather than Django's "Ensure this value
    has at most 150 characters (it has 162).". Every form with a length limit is one of the two
    below (tests/test_text_limits.py checks that none is left out)."""

    too_long: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if getattr(field, "max_length", None) is not None:
                field.error_messages = {**field.error_messages, "max_length": self.too_long}


class PlainLengths(Lengths):
    """A form the person fills in themselves: in letters and spaces (TOO_LONG), as the counter
    below their box says."""

    too_long = TOO_LONG


class StaffLengths(Lengths):
    """A form staff fill in: in characters (TOO_LONG_IN_CHARACTERS), as the counter below their
    box says, and with what to do."""

    too_long = TOO_LONG_IN_CHARACTERS


class HandleField(forms.RegexField):
    """The part of a username before "@<organization's code>": "MLopez" is saved as "mlopez"
    (the forms say so: sign-in takes the username exactly as saved), then held to 3–40 plain
    characters."""

    suffix = ""  # "@<organization's code>", once the form says which organization

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            regex=r"^[a-z0-9_.-]{3,40}$",
            max_length=40,
            error_messages={
                "invalid": _("Use 3–40 letters, digits, dots, dashes or underscores."),
                "required": _("Choose the username they will sign in with."),
            },
            **kwargs,
        )

    def for_organization(self, code: str) -> None:
        """Says the whole username under the box, and takes it typed whole too."""
        self.suffix = f"@{code}"
        self.help_text = _("They sign in as this, in small letters, followed by @%(code)s.") % {"code": code}

    def to_python(self, value: Any) -> str:
        handle = super().to_python(value).lower()
        # The help text shows the whole username ("mlopez@merp"), so a director types it so:
        # the organization's own ending is the one the account gets anyway. Any other ending is
        # refused with the same words, whatever organization it names.
        if self.suffix and handle.endswith(self.suffix):
            return handle.removesuffix(self.suffix)
        if self.suffix and "@" in handle:
            raise ValidationError(
                _("Type only the part before %(suffix)s: it is added for you."),
                code="other_ending",
                params={"suffix": self.suffix},
            )
        return handle

    def run_validators(self, value: Any) -> None:
        """One mistake, one message: a username too long broke both the length and the pattern,
        and said "Please keep this to 40 characters or fewer. You wrote 200." and "Use 3–40
        letters, …" one under the other. The length's comes first (it says how long it was);
        a shortened one with a space in it gets the pattern's next."""
        try:
            super().run_validators(value)
        except ValidationError as error:
            raise ValidationError(error.error_list[:1]) from error


class VisibleTextField(forms.CharField):
    """Text that must show something: made only of invisible characters (zero-width spaces,
    joiners, direction marks) it counts as empty, so a required field says so beside itself
    rather than save a row that looks blank (the README: only visible characters count)."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        return text if text and visible_length(text) else self.empty_value


# Said beside a box the person may leave empty but filled only with characters nobody sees.
INVISIBLE_ONLY = _("We cannot see any letters in what you wrote. Write it again, or leave this box empty.")


class OwnWordsField(VisibleTextField):
    """The person's own words in a box they may leave empty ("Tell us more…"). Made only of
    invisible characters, it is refused beside the box rather than quietly saved as nothing:
    they meant to say something, and an answer saved without it would also replace the words
    they gave before."""

    default_error_messages = {"invisible": INVISIBLE_ONLY}

    def to_python(self, value: Any) -> Any:
        text = forms.CharField.to_python(self, value)
        if text and not visible_length(text):
            raise ValidationError(self.error_messages["invisible"], code="invisible")
        return text


class NameSearchField(forms.CharField):
    """Part of a name to search for. Searches match letters and numbers, so one typed with
    neither (an emoji, "%", "-") would match everyone: it is refused beside the box instead."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_SEARCH)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value and not any(character.isalnum() for character in value):
            raise ValidationError(_("Type part of a name: letters or numbers."), code="no_letters")
        return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


class _NamesApart(ModelChoiceIterator):
    """The choices as Django gives them, but read once first: colleagues who share a name are
    told apart by their username ("Maria Garcia (mgarcia2@hl)")."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        users = list(self.queryset)
        counted = Counter(_name(user) for user in users)
        self.field.names_shared = {name for name, n in counted.items() if n > 1}
        for user in users:
            yield self.choice(user)


class _StaffLabels:
    """A staff picker's label: the name, and the username beside a name two colleagues share."""

    iterator = _NamesApart
    names_shared: frozenset[str] | set[str] = frozenset()

    def label_from_instance(self, obj: Any) -> str:
        name = _name(obj)
        return f"{name} ({obj.get_username()})" if name in self.names_shared else name


class StaffChoiceField(_StaffLabels, forms.ModelChoiceField):
    pass


# The largest id any of our databases stores (a 64-bit signed integer).
MAX_ID = 2**63 - 1


class ModelsChoiceField(forms.ModelMultipleChoiceField):
    """Django's multiple choice of records, safe with an id no database holds."""

    def _check_values(self, value: Any) -> QuerySet[Any]:
        # Django's `pk__in` passes a huge number to SQLite as is, which overflows (a 500); no
        # id is that big, so it is simply not one of the choices.
        for pk in value if isinstance(value, list | tuple) else ():
            if isinstance(pk, str) and pk.strip().lstrip("-").isdigit() and not 0 < int(pk) <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


class StaffMultipleChoiceField(_StaffLabels, ModelsChoiceField):
    pass


YES_NO = [("", "—"), ("yes", "Yes"), ("no", "No")]


def _with_caseload(name: str, user: Any) -> str:
    """ "Casey Onewell (12 people)" when the queryset counted caseloads (caseload_size); "Bo Chen
    (0 people; invited, has not signed in yet)" for one who has not taken up the invitation."""
    size = getattr(user, "caseload_size", None)
    if size is None:
        return name
    waiting = "; invited, has not signed in yet" if not getattr(user, "signed_in", True) else ""
    return f"{name} ({size} {'person' if size == 1 else 'people'}{waiting})"


class CaseworkerChoiceField(StaffChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _with_caseload(super().label_from_instance(obj), obj)


class CaseworkerMultipleChoiceField(StaffMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _with_caseload(super().label_from_instance(obj), obj)


class LocalDateTimeField(forms.DateTimeField):
    """A day and time on the organization's clock. A time its clocks skip (02:30 on the
    spring-forward day) or show twice (01:30 on the fall-back day) is refused beside the field
    in plain words, not with Django's message naming the zone's key and the raw value."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "ambiguous_timezone":
                raise
            naive = error.params["datetime"]
            message = clock_change_message(naive, timezone.get_current_timezone())
            raise ValidationError(message, code="clock_change") from error


@dataclass(frozen=True)
class FieldGroup:
    """Fields the form page (services/form.html) shows apart, after the others, in a fieldset of
    their own: a form offers one as `field_group()` (an assessment's scores, a resource's words
    in Spanish)."""

    legend: str
    fields: list[forms.BoundField]
    css: str = ""
    help: str = ""

    @property
    def names(self) -> set[str]:
        return {field.name for field in self.fields}
