"""Languages: the Spanish catalog covers every exoneree-facing template, the compiled catalog
is the committed one, the Spanish plan has no English left, switching works and stays, and
staff templates have no text left unmarked."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import polib
import pytest
from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.template import engines
from django.template.base import FilterExpression, Lexer, Node, TokenType, VariableNode
from django.template.loader import render_to_string
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from services import audit
from services.choices import NeedDomain, ReferralStatus, ReminderStatus
from services.forms.reports import AuditLogFilterForm
from services.lib.email import send_templated_email
from services.models.audit import AuditEvent
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors.users import is_site_language
from tests.conftest import World

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# What an exoneree can see: their pages, the pages they pass through to sign in, the pages
# every signed-in person shares, and the emails sent to them.
EXONEREE_FACING = [
    "base.html",
    "403.html",
    "404.html",
    "405.html",
    "429.html",
    "500.html",
    "services/my_plan.html",
    "services/_plan_legal.html",
    "services/_my_asks.html",
    "services/_my_ask.html",
    "services/_ask_for_help.html",
    "services/my_asks.html",
    "services/_radio_field.html",
    "services/my_contact_wishes.html",
    "services/my_messages.html",
    "services/my_visits.html",
    "services/_visit.html",
    "services/_my_appointment_answer.html",
    "services/_my_voice_links.html",
    "_nav_messages.html",
    "services/plan_pdf.html",
    "services/own_copy_pdf.html",
    "services/confirm.html",
    "services/_field.html",
    "services/_form_errors.html",
    "registration/account.html",
    "registration/backup_codes.html",
    "registration/invitation_accept.html",
    "registration/invitation_done.html",
    "registration/locked_out.html",
    "registration/login.html",
    "registration/password_change_done.html",
    "registration/password_change_form.html",
    "registration/password_reset_complete.html",
    "registration/password_reset_confirm.html",
    "registration/password_reset_done.html",
    "registration/password_reset_email.html",
    "registration/password_reset_form.html",
    "registration/password_reset_subject.txt",
    "registration/simple_form.html",
    "registration/two_factor_setup.html",
    "registration/two_factor_verify.html",
    "emails/invitation.html",
    "emails/invitation.txt",
    "emails/invitation_subject.txt",
    "emails/reminder_appointment.html",
    "emails/reminder_appointment.txt",
    "emails/reminder_appointment_subject.txt",
    "emails/reminder_document.html",
    "emails/reminder_document.txt",
    "emails/reminder_document_subject.txt",
    # The person's papers on their plan, and the upload from their phone.
    "services/_my_documents.html",
    "services/_document_checklist.html",
    "services/document_form.html",
    "services/document_unreadable.html",
    "emails/new_message.html",
    "emails/new_message.txt",
    "emails/new_message_subject.txt",
]


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def _walk(nodelist: list[Node]):
    for node in nodelist:
        yield node
        for attr in node.child_nodelists:
            yield from _walk(getattr(node, attr, None) or [])
        if hasattr(node, "conditions_nodelists"):  # {% if %}: every branch
            for _condition, branch in node.conditions_nodelists:
                yield from _walk(branch)


def _filter_literals(expression: FilterExpression) -> list[str]:
    """Strings marked with _("…") in a variable or its filters' arguments."""
    found = []
    values = [expression.var] + [arg for _func, args in expression.filters for _is_var, arg in args]
    for value in values:
        if getattr(value, "translate", False) and isinstance(getattr(value, "literal", None), str):
            found.append(value.literal)  # {{ _("…") }}: kept as a Variable
        elif isinstance(value, Promise):
            found.append(value._args[0])  # a filter's _("…") argument: resolved to gettext_lazy
    return found


def translatable_strings(name: str) -> set[str]:
    """Every msgid a template asks gettext for, read with Django's own template machinery
    (the same strings makemessages extracts)."""
    template = engines["django"].engine.get_template(name)
    found: set[str] = set()
    for node in _walk(template.nodelist):
        if isinstance(node, TranslateNode):
            found.add(node.filter_expression.var.literal)
        elif isinstance(node, BlockTranslateNode):
            found.add(node.render_token_list(node.singular)[0])
            for expression in node.extra_context.values():
                found.update(_filter_literals(expression))
        elif isinstance(node, VariableNode):
            found.update(_filter_literals(node.filter_expression))
    return found


def catalog() -> polib.POFile:
    return polib.pofile(str(PO))


def _translated(entry: polib.POEntry) -> bool:
    """A Spanish text, or one for every plural form of a counted one."""
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(text.strip() for text in entry.msgstr_plural.values())
    return bool(entry.msgstr.strip())


@pytest.mark.parametrize("name", EXONEREE_FACING)
def test_spanish_catalog_is_complete_for_exoneree_facing_templates(name: str) -> None:
    entries = {entry.msgid: entry for entry in catalog() if not entry.obsolete}
    strings = translatable_strings(name)
    missing = sorted(s for s in strings if s not in entries or not _translated(entries[s]))
    fuzzy = sorted(s for s in strings if s in entries and entries[s].fuzzy)
    assert not missing, f"{name}: no Spanish for {missing}"
    assert not fuzzy, f"{name}: fuzzy Spanish for {fuzzy}"


def test_every_exoneree_facing_template_is_checked() -> None:
    assert (TEMPLATES / "services" / "my_plan.html").exists()
    for name in EXONEREE_FACING:
        assert (TEMPLATES / name).exists(), name
    assert len(translatable_strings("services/my_plan.html")) > 20


def test_compiled_catalog_matches_the_source() -> None:
    compiled = polib.mofile(str(MO))
    translated = {entry.msgid: entry.msgstr for entry in catalog().translated_entries()}
    in_mo = {entry.msgid: entry.msgstr for entry in compiled if entry.msgid}
    assert in_mo == translated, "run `make messages` and commit locale/es/LC_MESSAGES/django.mo"


ENGLISH_WORDS = re.compile(
    r"\b(the|you|your|with|what|who|call|help|coming|nothing|done|notes|phone|sign out|account|"
    r"share|sharing|stop|looked|open|address|asked|sent)\b",
    re.IGNORECASE,
)


def _visible_text(html: str) -> str:
    """The words a reader sees: no tags, attributes, the person's own data is removed by the caller."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text)


def _spanish_marcus(world: World) -> Exoneree:
    """Marcus reads Spanish; his plan has a sent referral, an appointment coming up, a shared
    note and someone who opened his file."""
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(preferred_language="es")
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=ReferralStatus.SENT)
    audit.record(AuditEvent.Action.RECORD_VIEWED, actor=world.caseworker1, exoneree=marcus, target="Exoneree")
    return marcus


def test_spanish_plan_has_no_english_left(login, world: World) -> None:
    marcus = _spanish_marcus(world)
    html = login("exoneree1").get(reverse("my_plan")).content.decode()
    assert '<html lang="es">' in html
    assert "Hola, Marcus" in html
    text = _visible_text(html)
    # What staff typed (names, descriptions, titles) stays as typed: take it out.
    for value in _record_values(marcus):
        text = text.replace(value, " ")
    leftovers = sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)})
    assert not leftovers, f"English on the Spanish plan: {leftovers} in {text!r}"
    assert "Un lugar para vivir" in text  # a need's kind, in the words the person asks with
    assert "Le pedimos que le ayuden" in text  # the referral's status, in everyday words


# The person as the object of our verbs: "le", which is everyone's; "lo" (him) was not.
HIM = re.compile(r"\b[Ll]o (enviamos|invitó|llamamos|ayudamos|esperamos|atendemos|referimos)\b")


def test_spanish_says_where_we_sent_the_person_without_calling_them_him(login, world: World) -> None:
    _spanish_marcus(world)
    text = _visible_text(login("exoneree1").get(reverse("my_plan")).content.decode())
    assert "Muestra a dónde le enviamos" in text
    assert "Le enviamos a" in text
    assert not [entry.msgid for entry in catalog() if HIM.search(entry.msgstr)]


def _record_values(marcus: Exoneree) -> list[str]:
    values = [marcus.first_name, marcus.display_name, marcus.organization.name, "English", "Reentry"]
    for need in marcus.needs.all():
        values += [need.description, need.own_words]
        for referral in need.referrals.all():
            resource = referral.resource
            values += [resource.name, resource.provider.name, resource.address, resource.city, resource.hours]
            values += [resource.phone]
    values += [follow_up.title for follow_up in marcus.follow_ups.all()]
    values += [note.text for note in marcus.notes.all()]
    for user in marcus.caseworkers.all():
        values += [user.get_full_name(), user.email, user.username, user.staff.title, user.staff.phone]
    values += ["Casey Onewell", "exoneree1"]
    return sorted((value for value in values if value), key=len, reverse=True)


def test_switching_language_persists_and_is_audited(login, world: World) -> None:
    client = login("exoneree1")
    marcus = world.marcus.exoneree
    before = AuditEvent.objects.count()
    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("my_plan")})
    assert response.status_code == 302
    assert response["Location"] == reverse("my_plan")
    marcus.refresh_from_db()
    assert marcus.preferred_language == "es"
    assert AuditEvent.objects.count() == before + 1
    entry = AuditEvent.objects.latest("pk")
    assert entry.action == AuditEvent.Action.RECORD_CHANGED
    assert entry.exoneree_id == marcus.pk
    # Every later request is in Spanish, with no cookie asking for it, whatever the browser says.
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    html = client.get(reverse("my_plan"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hola, Marcus" in html
    assert 'class="language-switch"' in html
    # Back to English.
    client.post(reverse("set_language"), {"language": "en"})
    assert "Hello, Marcus" in client.get(reverse("my_plan")).content.decode()


def test_the_language_switch_on_a_refused_forms_page_leads_back_to_the_plan(login, world: World) -> None:
    client = login("exoneree1")
    refused = client.post(reverse("my_ask"), {"words": "", "domain": "", "priority": ""})  # an empty ask
    assert refused.status_code == 400
    # Not /my-plan/ask/, which takes only forms, nor home: the plan the ask form was on.
    assert _switch_next(refused) == reverse("my_plan")
    answer = client.post(reverse("set_language"), {"language": "es", "next": _switch_next(refused)}, follow=True)
    assert answer.status_code == 200 and "Hola, Marcus" in answer.content.decode()
    assert answer.redirect_chain == [(reverse("my_plan"), 302)]
    # On a page of its own, the switch comes back to it.
    page = client.get(reverse("my_contact_wishes")).content.decode()
    assert f'name="next" value="{reverse("my_contact_wishes")}"' in page


def test_the_language_switch_on_a_form_sent_back_to_its_own_page_comes_back_to_it(login, world: World) -> None:
    client = login("exoneree1")
    messages_url = reverse("my_messages")
    refused = client.post(messages_url, {"text": "", "about": ""}, HTTP_REFERER="http://testserver" + messages_url)
    assert refused.status_code == 400
    assert _switch_next(refused) == messages_url
    # Posted from somewhere else (or with no Referer): not known to be a page, so home.
    elsewhere = client.post(messages_url, {"text": "", "about": ""}, HTTP_REFERER="http://evil.example" + messages_url)
    assert _switch_next(elsewhere) == reverse("home")
    # A Referer no browser sends (urlsplit refuses it) is not known to be a page either.
    malformed = client.post(messages_url, {"text": "", "about": ""}, HTTP_REFERER="http://[oops" + messages_url)
    assert malformed.status_code == 400
    assert _switch_next(malformed) == reverse("home")


def _switch_next(response: Any) -> str:
    switch = re.search(r'class="language-switch">.*?name="next" value="([^"]*)"', response.content.decode(), re.S)
    assert switch is not None
    return switch.group(1)


def test_a_person_whose_record_says_spanish_gets_the_sign_in_page_in_spanish_after_signing_out(
    login, world: World
) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")  # chosen at intake
    client = login("exoneree1")
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)  # never pressed the switch
    plan = client.get(reverse("my_plan"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Hola, Marcus" in plan.content.decode()
    assert plan.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "Hola, Marcus" in client.get(reverse("my_plan")).content.decode()
    client.post(reverse("logout"))
    sign_in = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="es"' in sign_in.content.decode()
    # Once the cookie says it, pages do not set it again.
    client.force_login(world.exoneree1)
    assert settings.LANGUAGE_COOKIE_NAME not in client.get(reverse("my_plan")).cookies


def test_switching_to_the_same_language_records_nothing(login, world: World) -> None:
    client = login("exoneree1")
    before = AuditEvent.objects.count()
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert AuditEvent.objects.count() == before


def test_unknown_language_is_refused_with_a_reason(login, world: World) -> None:
    response = login("exoneree1").post(reverse("set_language"), {"language": "fr"})
    assert response.status_code == 400
    assert "English or Spanish" in response.content.decode()
    world.marcus.exoneree.refresh_from_db()
    assert world.marcus.exoneree.preferred_language == "en"


def test_switching_never_leaves_the_site(login, world: World) -> None:
    response = login("exoneree1").post(reverse("set_language"), {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == reverse("my_plan")


def test_anyone_signed_out_switches_the_sign_in_page_to_spanish(client) -> None:
    """A person whose phone is set to English, before they can sign in."""
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="language-switch"' in page and f'name="next" value="{reverse("login")}"' in page

    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("login")})

    assert response.status_code == 302 and response["Location"] == reverse("login")
    sign_in = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in sign_in
    reset = client.get(reverse("password_reset"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in reset and 'class="language-switch"' in reset
    # And back.
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert '<html lang="en">' in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/login", ""])
def test_a_signed_out_switch_never_leaves_the_site(client, next_url: str) -> None:
    response = client.post(reverse("set_language"), {"language": "es", "next": next_url})

    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_a_signed_out_switch_to_an_unknown_language_is_refused_with_a_reason(client) -> None:
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("login")})

    assert response.status_code == 400 and "English or Spanish" in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(("code", "ours"), [("en", True), ("es", True), ("fr", False), ("", False), ("ES", False)])
def test_one_predicate_says_which_languages_are_the_sites(code: str, ours: bool) -> None:
    """The language switches (the site's and the provider page's) and the provider page's
    cookie ask it, instead of writing `in dict(settings.LANGUAGES)` each."""
    assert is_site_language(code) is ours


def test_a_page_elsewhere_cannot_switch_a_signed_out_visitors_language(world: World) -> None:
    """CSRF: the switch takes only a post carrying the token of our own sign-in page."""
    guarded = Client(enforce_csrf_checks=True)

    forged = guarded.post(reverse("set_language"), {"language": "es", "next": reverse("login")})

    assert forged.status_code == 403
    assert settings.LANGUAGE_COOKIE_NAME not in forged.cookies
    guarded.get(reverse("login"))
    token = guarded.cookies[settings.CSRF_COOKIE_NAME].value
    sent = guarded.post(reverse("set_language"), {"language": "es", "csrfmiddlewaretoken": token})
    assert sent.status_code == 302 and sent.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_staff_pages_stay_english_whatever_the_browser_says(login, world: World) -> None:
    html = login("caseworker1").get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in html
    assert "My dashboard" in html


def test_sign_in_page_follows_the_browser(client) -> None:
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in html
    assert "Iniciar sesión" in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "capital letters count in the password, not in the username"),
        ("es", "las mayúsculas cuentan en la contraseña, no en el nombre de usuario"),
    ],
)
def test_a_wrong_password_is_said_in_the_apps_words_not_djangos(client, world: World, language, words) -> None:
    """Django's "both fields may be case-sensitive" is not true of the username here."""
    response = client.post(
        reverse("login"), {"username": "caseworker1", "password": "not it"}, HTTP_ACCEPT_LANGUAGE=language
    )

    html = unescape(response.content.decode())
    assert words in html
    assert "case-sensitive" not in html and "Por favor, introduzca" not in html


def test_emails_to_an_exoneree_are_in_their_language(world: World, mailoutbox) -> None:
    send_templated_email(
        to="marcus@example.org",
        template="reminder_appointment",
        context={"due_at": timezone.now(), "link": "https://example.org/my-plan/"},
        language="es",
    )
    message = mailoutbox[-1]
    assert "cita" in message.subject
    assert "Hola" in message.body
    assert "Hello" not in message.body


# Staff templates: translation-ready. A simple check: no text node outside {% translate %}
# still holds a word (Django's parser sees exactly what a reader would).
WORD = re.compile(r"[A-Za-z]{2,}")


def _unmarked_text(name: str) -> list[str]:
    """Lines of a template with words outside {% translate %} / {% blocktranslate %}."""
    depth = 0
    kept = []
    for token in Lexer((TEMPLATES / name).read_text()).tokenize():
        if token.token_type == TokenType.BLOCK:
            tag = token.contents.split()[0]
            depth += tag in ("blocktranslate", "comment") and 1 or -(tag in ("endblocktranslate", "endcomment"))
            kept.append(" ")
        elif token.token_type == TokenType.TEXT and not depth:
            kept.append(token.contents)
        elif token.token_type == TokenType.VAR:
            kept.append("{}")
    text = re.sub(r"<!--.*?-->|<[^>]*>|&\w+;", " ", "".join(kept), flags=re.S)
    # Languages are named in themselves on purpose ("Español" stays "Español" in English).
    own_names = {name for _code, name in settings.LANGUAGES}
    return [line.strip() for line in text.splitlines() if WORD.search(line) and line.strip() not in own_names]


def _all_templates() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*") if path.is_file())


@pytest.mark.parametrize("name", _all_templates())
def test_templates_have_no_unmarked_text(name: str) -> None:
    assert not _unmarked_text(name), f"{name}: text not marked for translation: {_unmarked_text(name)}"


def test_a_choice_is_shown_by_its_label_in_the_active_language_and_an_unknown_one_as_it_is(world):
    from django.utils import translation

    need = world.marcus.need
    need.domain = NeedDomain.HOUSING

    with translation.override("es"):
        spanish = need.get_domain_display()
    with translation.override("en"):
        english = need.get_domain_display()
    need.domain = "not-a-domain"

    assert (english, spanish) == ("Housing", "Vivienda")
    assert need.get_domain_display() == "not-a-domain"


# Counts: English's "1 person / 3 people" is not every language's rule (Spanish has its own
# plural forms), so a count is said with {% blocktranslate count %}, never with `pluralize`,
# whose English endings ("s", "y,ies", "person,people") a translation cannot change.
ENGLISH_PLURAL = re.compile(r"\|\s*pluralize\b")


@pytest.mark.parametrize("name", _all_templates())
def test_no_template_spells_an_english_plural(name: str) -> None:
    assert not ENGLISH_PLURAL.search((TEMPLATES / name).read_text()), f"{name}: use {{% blocktranslate count %}}"


@pytest.mark.parametrize(
    ("language", "count", "q", "words"),
    [
        ("en", 1, "", "1 person"),
        ("en", 3, "", "3 people"),
        ("es", 1, "", "1 persona"),
        ("es", 3, "", "3 personas"),
        ("en", 1, "Ana", "1 match for “Ana”"),
        ("en", 2, "Ana", "2 matches for “Ana”"),
        ("es", 2, "Ana", "2 resultados para “Ana”"),
    ],
)
def test_the_people_list_counts_in_the_readers_language(language: str, count: int, q: str, words: str) -> None:
    page = Paginator(range(count), 25).page(1)
    page.object_list = []  # the count only, no rows to draw
    with translation.override(language):
        html = render_to_string("services/_exoneree_rows.html", {"page": page, "q": q})
    assert words in unescape(html)


def test_the_access_log_filters_any_action_in_the_readers_language() -> None:
    empty = AuditLogFilterForm.base_fields["action"].choices[0]
    with translation.override("es"):
        assert (empty[0], str(empty[1])) == ("", "Cualquier acción")
    with translation.override("en"):
        assert str(empty[1]) == "Any action"


@pytest.mark.parametrize(
    ("language", "data", "words"),
    [
        ("en", {"answer": "ok"}, "Please correct the 1 field marked below."),
        ("en", {}, "Please correct the 2 fields marked below."),
        ("es", {"answer": "ok"}, "Corrija 1 campo marcado abajo."),
        ("es", {}, "Corrija los 2 campos marcados abajo."),
    ],
)
def test_the_count_of_fields_to_correct_is_said_in_the_readers_language(language, data, words) -> None:
    class TwoFields(forms.Form):
        answer = forms.ChoiceField(choices=[("ok", "OK")])
        words = forms.CharField()

    with translation.override(language):
        html = render_to_string("services/_form_errors.html", {"form": TwoFields(data)})
    assert words in unescape(html)


def test_a_reminder_and_a_referral_each_agree_in_gender_in_spanish() -> None:
    """ "Sent" and "Cancelled" are one English word for a referral (la remisión: enviada) and a
    reminder (el recordatorio: enviado); Spanish needs two."""
    with translation.override("es"):
        assert (str(ReferralStatus.SENT.label), str(ReferralStatus.CANCELLED.label)) == ("Enviada", "Cancelada")
        assert (str(ReminderStatus.SENT.label), str(ReminderStatus.CANCELLED.label)) == ("Enviado", "Cancelado")
