from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from services.choices import SCORE_LABELS, NeedDomain, NeedStatus, plain_domain
from services.lib import kept_forms, message_tags, once
from services.lib.days import day_as, plain_day
from services.lib.sql import split
from services.lifecycle import NEED_TRANSITIONS
from services.models.needs import Need
from services.models.referrals import Referral
from services.selectors import plans, records
from services.selectors.records import CaseworkerName, split_names

register = template.Library()


@register.simple_tag
def next_need_statuses(need: Need) -> list[tuple[str, str]]:
    """The statuses a need may move to from where it is (services.lifecycle)."""
    allowed = NEED_TRANSITIONS[need.status]
    return [(value, label) for value, label in NeedStatus.choices if value in allowed]


@register.filter
def score_label(score: int) -> str:
    return SCORE_LABELS.get(score, "")


@register.filter
def dollars(amount: Decimal | int | None) -> str:
    """An amount of money as people write it: "$170,000", "$1,234.50"."""
    if amount is None:
        return ""
    cents = Decimal(amount).quantize(Decimal("0.01"))
    return f"${cents:,.0f}" if cents == cents.to_integral_value() else f"${cents:,.2f}"


@register.filter
def round_tens(percent: int) -> int:
    """A percentage rounded to a multiple of ten: bar widths are CSS classes (no inline style)."""
    return int(round(percent / 10) * 10)


@register.filter
def plain_status(obj: Need | Referral) -> str:
    """The status said in everyday words, for the person's own plan."""
    return plans.plain_status(obj)


@register.filter
def names(joined: str) -> list[CaseworkerName]:
    """Names joined in one column by the query (selectors.records.caseworker_names), by name."""
    return split_names(joined)


@register.filter
def nobody_assigned(caseworkers: list[CaseworkerName]) -> bool:
    return records.nobody_assigned(caseworkers)


@register.filter
def domain_labels(joined: str) -> list[str]:
    """Need domains joined in one column by the query, as labels in the domains' own order."""
    values = set(split(joined, ","))
    return [label for value, label in NeedDomain.choices if value in values]


@register.filter
def tel(phone: str) -> str:
    """A phone number as a tel: link wants it: digits and a leading plus only."""
    return re.sub(r"[^0-9+]", "", phone)


@register.filter
def undo_follow_up(message: object) -> int | None:
    """The follow-up a "Marked done" message can undo (services.lib.message_tags.undo_tag), or None."""
    return message_tags.undo_of(message)


@register.filter
def plan_next_follow_up(message: object) -> str:
    """The "Schedule the next one" link of a "Marked done" message (message_tags.plan_next_tag), or ''."""
    return message_tags.plan_next_of(message)


@register.filter
def is_past(moment: datetime) -> bool:
    """Whether a time has passed: an open follow-up's due time, in lists that load no more of
    the row than they show (`FollowUp.is_overdue` would read `done_at`, one query a row)."""
    return moment < timezone.now()


@register.filter
def get_item(mapping: dict | None, key: object) -> object:
    """`mapping[key]` in a template (None when absent), e.g. a form's errors per record."""
    return (mapping or {}).get(key)


@register.filter
def typed(form: Any, field: str) -> object:
    """What was typed into a field of a refused form, to show it again ("" if nothing), or
    None when there is no refused form (then the page shows what is stored)."""
    return None if form is None else form.data.get(field, "")


@register.simple_tag(takes_context=True)
def back_here(context: template.Context) -> str:
    """Where a form in the page's frame (the language switch, "Stay signed in") comes back to:
    this page, opened again. A form sent back with its errors comes back to the page it was on:
    the view names it (`page_url`, when the form was posted to an address that takes only
    forms), or it is the address posted to, when the form was on that very page. Home when
    neither is known (a button's action refused: services.views.common.action_refused) and
    from an address that takes only forms (services.middleware.FormOnlyAddressMiddleware):
    those cannot be opened again."""
    request = context["request"]
    if context.get("form_only_address"):
        return reverse("home")
    if page_url := context.get("page_url"):
        return page_url
    if request.method == "GET" or kept_forms.posted_from_itself(request):
        return request.get_full_path()
    return reverse("home")


@register.simple_tag
def form_once() -> SafeString:
    """The key that makes a form that creates something save once when sent twice, new each
    time the form is shown (services.middleware.FormSentOnceMiddleware)."""
    return format_html('<input type="hidden" name="{}" value="{}">', once.FIELD, once.new_token())


# The header's links for each role, in their order (URL name, label); Messages, Notifications and
# Account follow them in templates/base.html, which adds their badges.
HEADER_LINKS: dict[str, list[tuple[str, str]]] = {
    "caseworker": [
        ("dashboard", gettext_lazy("My dashboard")),
        ("follow_up_list", gettext_lazy("My follow-ups")),
        ("need_list", gettext_lazy("Open needs")),
        ("exoneree_list", gettext_lazy("People")),
        ("resource_list", gettext_lazy("Resources")),
        ("emergency_access_request", gettext_lazy("Emergency access")),
    ],
    "director": [
        ("director_dashboard", gettext_lazy("Overview")),
        ("outcome_dashboard", gettext_lazy("Outcomes")),
        ("exoneree_list", gettext_lazy("People")),
        ("staff_list", gettext_lazy("Staff")),
        ("audit_log", gettext_lazy("Access log")),
        ("emergency_reviews", gettext_lazy("Emergency reviews")),
        ("resource_list", gettext_lazy("Resources")),
    ],
    "exoneree": [("my_plan", gettext_lazy("My plan"))],
    "analyst": [("network_figures", gettext_lazy("The Network's figures"))],
}


@register.simple_tag
def header_links(role: str | None) -> list[tuple[str, str]]:
    """The header's links for a role (none for no role: a session that still owes its code)."""
    return HEADER_LINKS.get(role or "", [])


@register.simple_tag(takes_context=True)
def current_page(context: template.Context, url_name: str) -> str:
    """` aria-current="page"` on the header's link to the page being shown (by its URL name),
    so a screen reader says which one it is and the stylesheet can mark it; else nothing."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return mark_safe(' aria-current="page"') if match is not None and match.url_name == url_name else ""


@register.filter
def short_day(value: date | datetime | None) -> str:
    """ "Mar 4" this year, "Mar 4, 2025" any other: an old date never passes for a recent one."""
    return day_as(value, "M j", "M j, Y")


@register.filter(name="plain_day")
def plain_day_of(value: date | datetime | None, printed: object = "") -> str:
    """A day on the person's pages: "December 9" this year, "December 9, 2027" any other; with
    the year always when `printed` (a copy kept on paper is read in a later year)."""
    return plain_day(value, always_year=bool(printed))


@register.filter
def plain_weekday(value: date | datetime | None) -> str:
    """The same with the day's name first: "Wednesday, December 9"."""
    return plain_day(value, weekday=True)


@register.filter
def fields_to_correct(form: Any) -> int:
    """The fields with a mistake to correct: not a box marked only to be typed again (a form's
    `retype_only`, such as the Social Security number, never shown back). Such a box that has a
    mistake of its own too (a number of 3 digits) is counted: the note is put first, before its
    own check runs."""
    return sum(1 for name, errors in form.errors.items() if not _only_to_retype(form, name, errors))


@register.filter
def only_to_retype(field: Any) -> bool:
    """Whether a field is marked only to be typed again, with no mistake of its own (see
    fields_to_correct): services/_field.html says so, and first_error.js leaves the focus to a
    mistake."""
    return _only_to_retype(field.form, field.name, field.errors)


def _only_to_retype(form: Any, name: str, errors: Any) -> bool:
    return name in getattr(form, "retype_only", ()) and len(errors) == 1


@register.filter(name="plain_domain")
def plain_domain_of(need: Need) -> str:
    """A need's kind in the person's words, as they pick it when they ask ("Food, clothes or a
    phone", not "Basic needs")."""
    return plain_domain(need.domain)


# Messages said where the person lands (services.lib.said_here): the page is rendered before
# the frame's messages, so those shown at their place are not said again at the top.
SAID_IN_PLACE = "said_in_place"


class PageFirstNode(template.Node):
    child_nodelists = ("nodelist",)  # so {% extends %} finds the {% block %} inside

    def __init__(self, nodelist: template.NodeList, name: str) -> None:
        self.nodelist = nodelist
        self.name = name

    def render(self, context: template.Context) -> str:
        context[SAID_IN_PLACE] = set()
        context[self.name] = mark_safe(self.nodelist.render(context))  # noqa: S308 (the engine rendered it, escaping as it went)
        return ""


@register.tag
def page_first(parser: template.base.Parser, token: template.base.Token) -> PageFirstNode:
    """`{% page_first as page %}…{% endpage_first %}`: render the page into `page` now, to show later."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("usage: {% page_first as name %}…{% endpage_first %}")
    nodelist = parser.parse(("endpage_first",))
    parser.delete_first_token()
    return PageFirstNode(nodelist, bits[2])


@register.simple_tag(takes_context=True)
def said_here(context: template.Context, *parts: object) -> str:
    """The messages said at this place (an element's id, its parts joined by "-": `"referral" 12`),
    shown here as the top shows its own (templates/_messages.html), and so not at the top.
    Outside base.html's page_first (an include with `only`, an htmx partial) nothing: the top
    says them. Where nothing is said here, not even a line break: the place's markup stays as
    it was (a phone's reader, a test reading it, a CSS `:first-child`)."""
    place = "-".join(str(part) for part in parts)
    said = context.get(SAID_IN_PLACE)
    if said is None:
        return ""
    here = [message for message in context.get("messages") or () if message_tags.place_of(message) == place]
    if not here:
        return ""
    said.update(id(message) for message in here)
    # The request gives an Undo (a form) its CSRF token and its way back.
    return render_to_string("_messages.html", {"shown": here, "in_place": True}, request=context.get("request"))


@register.simple_tag(takes_context=True)
def said_in(context: template.Context, prefix: str, objects: Any) -> bool:
    """Whether a message is said at one of `objects`' places (`<prefix>-<pk>`): a folded
    <details> that holds such a place opens, so that its message is read, not hidden."""
    places = {f"{prefix}-{obj.pk}" for obj in objects or ()}
    return any(message_tags.place_of(message) in places for message in context.get("messages") or ())


@register.filter
def said_at_top(messages: Any, said: set[int] | None) -> list[Any]:
    """The messages not already said at their place on the page."""
    return [message for message in messages or () if id(message) not in (said or set())]
