"""The forms' renderer builds a select's markup in Python (services/forms/renderer.py): it
must be what Django's templates render, text for text, for every kind of select the forms
use, and leave every other widget to them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from services.forms.renderer import FormRenderer
from services.forms.reports import OutcomeFilterForm

DJANGO = DjangoTemplates()
OURS = FormRenderer()

NASTY = 'Ana "the <b>first</b>" & O\'Neil'

SELECTS: list[tuple[str, forms.Widget, Any, dict[str, Any]]] = [
    ("plain", forms.Select(choices=[("", "All"), ("a", "A"), ("b", "B")]), "b", {}),
    ("nothing chosen", forms.Select(choices=[("", "All"), ("a", "A")]), None, {}),
    ("escaped labels and values", forms.Select(choices=[(NASTY, NASTY), ("x", mark_safe("<i>safe</i>"))]), NASTY, {}),
    ("numbers as values", forms.Select(choices=[(1, "One"), (2, "Two"), (1000, 1000)]), 2, {}),
    (
        "lazy labels",
        forms.Select(choices=[("housing", gettext_lazy("Housing")), ("food", gettext_lazy("Food"))]),
        "",
        {},
    ),
    (
        "groups",
        forms.Select(choices=[("", "None"), ("Needs", [("h", "Housing"), ("f", "Food")]), ("Other", [("o", "Other")])]),
        "f",
        {},
    ),
    (
        "attributes",
        forms.Select(choices=[("a", "A")], attrs={"class": "wide", "data-x": NASTY}),
        "a",
        {"id": "id_x", "required": True, "disabled": False, "aria-describedby": "id_x_error", "aria-invalid": "true"},
    ),
    ("several chosen", forms.SelectMultiple(choices=[("a", "A"), ("b", "B"), ("c", "C")]), ["a", "c"], {"id": "m"}),
    ("yes, no or unknown", forms.NullBooleanSelect(), True, {}),
    ("no options at all", forms.Select(choices=[]), None, {}),
]


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.mark.parametrize(("name", "widget", "value", "attrs"), SELECTS, ids=[s[0] for s in SELECTS])
def test_a_select_is_the_markup_djangos_templates_render(name, widget, value, attrs):
    for language in ("en", "es"):
        with override(language):
            ours = widget.render("field", value, attrs, renderer=OURS)
            assert ours == widget.render("field", value, attrs, renderer=DJANGO)
            assert "<option" in ours or not widget.choices


def test_a_select_whose_options_have_a_template_of_their_own_is_left_to_django():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"  # any other template

    widget = Custom(choices=[("a", "A")])
    assert widget.render("field", "a", renderer=OURS) == widget.render("field", "a", renderer=DJANGO)
    assert "<option" not in widget.render("field", "a", renderer=OURS)


def test_every_other_widget_is_rendered_by_djangos_templates():
    for widget, value in [
        (forms.TextInput(), NASTY),
        (forms.RadioSelect(choices=[("a", "A"), ("b", NASTY)]), "b"),
        (forms.CheckboxSelectMultiple(choices=[("a", "A"), ("b", "B")]), ["b"]),
        (forms.SelectDateWidget(years=[2025, 2026]), date(2026, 3, 4)),  # selects inside a template of its own
    ]:
        assert widget.render("field", value, renderer=OURS) == widget.render("field", value, renderer=DJANGO)


def test_the_deployment_renders_its_forms_with_it(world):
    assert settings.FORM_RENDERER == "services.forms.renderer.FormRenderer"
    caseworkers = get_user_model().objects.filter(staff__organization=world.org1).order_by("pk")
    assert caseworkers.count() > 1
    data = {"caseworker": str(caseworkers[0].pk), "domain": "nonsense"}  # an error: described by its message
    ours = OutcomeFilterForm(data, caseworkers=caseworkers, today=date(2026, 6, 1))
    djangos = OutcomeFilterForm(data, caseworkers=caseworkers, today=date(2026, 6, 1), renderer=DJANGO)
    assert not ours.is_valid() and not djangos.is_valid()
    assert type(ours.renderer) is FormRenderer
    for name in ("caseworker", "domain"):
        assert str(ours[name]) == str(djangos[name])
    assert f'<option value="{caseworkers[0].pk}" selected>' in str(ours["caseworker"])
    assert 'aria-describedby="id_domain_error"' in str(ours["domain"])


def test_a_select_holding_something_a_template_would_call_is_left_to_django():
    class Called:
        def __call__(self) -> str:
            return "called"

        def __str__(self) -> str:
            return "not called"

    widget = forms.Select(choices=[("a", "A")], attrs={"data-x": Called()})
    assert 'data-x="called"' in widget.render("field", "a", renderer=OURS)
    assert widget.render("field", "a", renderer=OURS) == widget.render("field", "a", renderer=DJANGO)
