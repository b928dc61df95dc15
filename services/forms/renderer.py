"""The forms' renderer: Django's, with the select element built in Python.

Django renders a select's every option through two template includes (the option, then its
attributes), about a tenth of a millisecond each: the outcomes page's caseworker filter of a
large organization (a hundred names) cost it some 20 ms a request, and every page with a
long list of staff or resources paid the same. `FormRenderer` builds the same markup, text
for text, escaped as the templates escape it (tests/test_form_renderer.py compares the two
on every kind of select the forms use); any other template, or a select whose options use a
template of their own or hold a callable, is rendered by Django as before.
"""

from __future__ import annotations

from typing import Any

from django.forms import Select
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime

SELECT = Select.template_name
OPTION = Select.option_template_name


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget")
        if template_name == SELECT and isinstance(widget, dict) and _plain_options(widget):
            return mark_safe(select_html(widget))  # noqa: S308 (every text is escaped)
        return super().render(template_name, context, request)


def _plain_options(widget: dict[str, Any]) -> bool:
    """Options of Django's own template, and nothing a template would call (a callable value
    is called by a template: left to Django, which no select of ours needs)."""
    return not any(map(callable, widget["attrs"].values())) and all(
        option["template_name"] == OPTION
        and not callable(option["label"])
        and not callable(option["value"])
        and not any(map(callable, option["attrs"].values()))
        for _, options, _ in widget["optgroups"]
        for option in options
    )


def select_html(widget: dict[str, Any]) -> str:
    """What django/forms/widgets/select.html renders for `widget` (a widget's context)."""
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        parts += (
            f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_shown(option['label'])}</option>\n"
            for option in options
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    return "".join(
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _shown(value: Any) -> str:
    """`{{ value }}`: localized (a number, a date), then escaped unless it is safe."""
    if not isinstance(value, str):
        value = str(localize(template_localtime(value)))
    return conditional_escape(value)


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: the filter keeps a safe value safe, else it is escaped."""
    return str(value) if isinstance(value, SafeData) else escape(value)
