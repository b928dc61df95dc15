"""An exoneree on a phone (390×844), in the browser: their plan, what is coming up and whom to
call, then the same plan in Spanish; then their own voice (issue 19): asking for help, answering
an appointment, choosing how to be reminded, writing to the caseworker, who answers. Every page
passes axe (see conftest)."""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from services.models.messages import MESSAGE_MAX_LENGTH, Message
from services.models.organizations import StaffMember
from services.models.people import Exoneree
from tests.browser.conftest import DESKTOP, PHONE, authenticator, with_password
from tests.test_i18n import ENGLISH_WORDS, _record_values, _visible_text


@pytest.fixture
def marcus(world):
    """exoneree1 (Marcus) with a password, and a caseworker phone number to call."""
    StaffMember.objects.filter(user=world.caseworker1).update(title="Reentry caseworker", phone="(713) 555-0142")
    return with_password(world.exoneree1)


def test_exoneree_reads_their_plan_on_a_phone(world, marcus, tabs):
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    assert page.url.endswith("/my-plan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Marcus")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    call = page.get_by_role("region", name="Who to call")
    expect(call).to_contain_text("Casey Onewell")
    expect(call.get_by_role("link", name="(713) 555-0142")).to_have_attribute("href", "tel:7135550142")
    coming = page.get_by_role("region", name="Coming up")
    expect(coming).to_contain_text("Visit Marcus at home")
    help_ = page.get_by_role("region", name="What you asked us to help with")
    expect(help_).to_contain_text("Marcus needs an apartment")
    # Staff-only notes never reach the plan.
    expect(page.locator("main")).not_to_contain_text("wary of phones")

    tab.nav().get_by_role("link", name="Account").click()
    tab.check()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_exoneree_switches_their_plan_to_spanish(world, marcus, tabs):
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switch = page.locator("form.language-switch")
    switch.get_by_role("button", name="Español").click()
    tab.check()
    assert page.url.endswith("/my-plan/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Marcus")

    # The choice stays on the next page load, and can be switched back.
    page.reload()
    tab.check()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("form.language-switch").get_by_role("button", name="English").click()
    tab.check()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Marcus")


def test_exoneree_speaks_up_and_the_caseworker_answers(world, marcus, tabs):
    """Issue 19: on a phone he asks for help, answers an appointment, switches his reminders to
    text with quiet hours and writes to his caseworker; she sees all four on her dashboard and
    answers."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(phone="(713) 555-0177")
    visit = world.marcus.follow_up
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")

    def fits() -> None:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url

    # Ask for help: one button on the plan's first screen opens the form.
    ask = page.get_by_role("region", name="Ask for help")
    expect(ask.get_by_label("I need help with…")).to_be_hidden()
    ask.get_by_text("Write what you need").click()
    ask.get_by_label("I need help with…").fill("A winter coat before it gets cold")
    ask.get_by_label("Food, clothes or a phone").check()
    ask.get_by_label("This week").check()
    ask.get_by_role("button", name="Send to my caseworker").click()
    tab.check()
    fits()
    expect(page.get_by_role("region", name="What you asked for")).to_contain_text("A winter coat")

    # Answer an appointment
    appointment = page.locator(f"#appointment-{visit.pk}")
    appointment.get_by_label("I need another time").check()
    words = appointment.get_by_label("Tell us more, in your own words (you can leave this empty)")
    expect(words).to_be_hidden()  # folded while empty: the plan stays short on a phone
    appointment.get_by_text("Tell us more (you can skip this)").click()
    words.fill("I work mornings")
    appointment.get_by_role("button", name="Send my answer").click()
    tab.check()
    expect(page.locator(f"#appointment-{visit.pk}")).to_contain_text("You said “I need another time”")
    answered = page.locator(f"#appointment-{visit.pk}")
    expect(answered.get_by_label("I'll be there")).to_be_hidden()  # the answer is one line…
    answered.get_by_text("Change").click()
    expect(answered.get_by_label("I'll be there")).to_be_visible()  # …that "Change" opens

    # Reminders by text, with quiet hours
    page.get_by_role("link", name="How to reach me").click()
    tab.check()
    fits()
    page.get_by_label("Send me a text message").check()
    page.get_by_label("Remind me before my appointments").check()
    page.get_by_label("Text message", exact=True).check()
    page.get_by_label("Do not send reminders after…").fill("21:00")
    page.get_by_label("…until").fill("08:00")
    page.get_by_role("button", name="Save").click()
    tab.check()
    person = Exoneree.objects.get(pk=world.marcus.exoneree.pk)
    assert (person.contact_preference, person.appointment_reminders, person.reminder_channel) == ("text", True, "sms")
    assert (person.quiet_hours_start, person.quiet_hours_end) == (time(21), time(8))

    # A message
    tab.nav().get_by_role("link", name="Messages").click()
    tab.check()
    fits()
    page.get_by_label("Your message").fill("Can we move the visit to the afternoon?")
    page.get_by_role("button", name="Send").click()
    tab.check()
    expect(page.locator(".thread")).to_contain_text("Can we move the visit to the afternoon?")
    tab.screenshot("exoneree-messages.png")

    # The caseworker sees all four on her dashboard, and answers.
    staff = tabs(DESKTOP)
    desk = staff.page
    staff.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    news = desk.get_by_role("region", name="News from your people")
    for said in ("asked for help", "answered “I need another time”", "changed how they want to be reached"):
        expect(news).to_contain_text(said)
    expect(news).to_contain_text("sent you a message")
    expect(desk.get_by_role("region", name=re.compile("Asked by your people"))).to_contain_text("Marcus")
    expect(desk.get_by_role("region", name=re.compile("Messages from your people"))).to_contain_text("Marcus")
    expect(desk.get_by_role("region", name=re.compile("Due in the next 7 days"))).to_contain_text("I need another time")
    staff.screenshot("caseworker-dashboard-voice.png")

    desk.get_by_role("region", name=re.compile("Messages from your people")).get_by_role("link").first.click()
    staff.check()
    desk.get_by_label("Your message").fill("Yes, 2 pm on the same day works.")
    desk.get_by_role("button", name="Send").click()
    staff.check()
    desk.get_by_role("link", name="Marcus", exact=False).first.click()
    staff.check()
    desk.get_by_role("link", name="Answer with a message").click()
    staff.check()
    desk.get_by_label("Your answer to them").fill("The church on 5th St gives out coats on Saturdays.")
    desk.get_by_role("button", name="Send the answer").click()
    staff.check()

    page.reload()
    tab.check()
    expect(page.locator(".thread")).to_contain_text("Yes, 2 pm on the same day works.")
    page.get_by_role("link", name="My plan").first.click()
    tab.check()
    expect(page.get_by_role("region", name="What you asked for")).to_contain_text("coats on Saturdays")


def test_the_spanish_journey_has_no_english_but_what_staff_typed(world, marcus, tabs):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    page.get_by_role("region", name="Pedir ayuda").get_by_text("Escriba lo que necesita").click()
    page.get_by_role("region", name="Pedir ayuda").get_by_label("Necesito ayuda con…").fill("Un abrigo")
    page.get_by_role("button", name="Enviar a mi trabajador social").click()
    tab.check()
    for link in ("Mensajes con mi trabajador social", "Cómo contactarme"):
        page.get_by_role("link", name=link).first.click()
        tab.check()
        text = _visible_text(page.content())
        for value in _record_values(world.marcus.exoneree):
            text = text.replace(value, " ")
        leftovers = sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)})
        assert not leftovers, f"English on {page.url}: {leftovers} in {text!r}"
        page.go_back()


def test_a_long_link_in_a_message_or_an_ask_does_not_widen_the_phone_page(world, marcus, tabs):
    link = "https://maps.example.com/place/" + "Harbor+Light+Reentry+Center+" * 12 + "@29.7604,-95.3698,17z"
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    tab.goto("/my-plan/messages/")
    page.locator("#id_text").fill(f"The clinic is here: {link}")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".thread")).to_contain_text("The clinic is here")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_box_says_how_much_room_is_left_and_that_a_long_paste_was_cut(world, marcus, tabs):
    """The ask takes 2,000 characters; the browser cuts a longer paste silently."""
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    page.get_by_role("region", name="Ask for help").get_by_text("Write what you need").click()
    box = page.get_by_role("region", name="Ask for help").get_by_label("I need help with…")
    left = page.locator("#id_words_left")

    box.fill("A coat. ")
    expect(left).to_be_hidden()  # plenty of room: nothing said
    box.fill("x" * 1950)
    expect(left).to_have_text("Letters and spaces left: 50 of 2,000.")
    expect(box).to_have_attribute("aria-describedby", re.compile(r"\bid_words_left\b"))
    expect(page.locator("#limits-live")).to_have_text("Letters and spaces left: 50 of 2,000.")  # the step of 50
    box.fill("x" * 1945 + "\n" * 5)  # a line break is one character, for the box and the server
    expect(left).to_have_text("Letters and spaces left: 50 of 2,000.")
    box.fill("")
    box.focus()
    page.evaluate(
        """text => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const box = document.activeElement;
            box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
            box.value = text.slice(0, 2000);  // what the browser keeps of a real paste
            box.dispatchEvent(new Event("input", {bubbles: true}));
        }""",
        "y" * 2500,
    )
    expect(left).to_contain_text("What you pasted was too long: this box takes 2,000 letters and spaces")
    box.press("Backspace")
    expect(left).to_have_text("Letters and spaces left: 1 of 2,000.")
    tab.check()


def test_a_message_typed_up_to_the_limit_with_line_breaks_is_sent(world, marcus, tabs):
    """The box took 4,000 characters with its line breaks counted as one; the browser sent each
    as two and the server refused the message as too long."""
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    tab.goto("/my-plan/messages/")
    lines = "Dear Casey,\n\nThe clinic called.\n"
    page.locator("#id_text").fill(lines + "x" * (MESSAGE_MAX_LENGTH - len(lines)))
    expect(page.locator("#id_text_left")).to_have_text("Letters and spaces left: 0 of 4,000.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".thread")).to_contain_text("The clinic called.")
    assert Message.objects.get().text.startswith("Dear Casey,\n\nThe clinic called.\nxxx")


def test_switching_language_keeps_the_page_and_what_was_typed(world, marcus, tabs):
    """The switch loads the same page again in the other language, with the words typed and not
    sent back in their boxes; from a form sent back with an error, the form's own page."""
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")

    # Typing a message, then switching: the same page, the same words, the same choice.
    page.goto("/my-plan/messages/")
    tab.check()
    page.get_by_label("Your message").fill("Can we meet on Tuesday instead?")
    about = page.get_by_label("It is about (you can skip this)")
    chosen = about.locator("option").nth(1).get_attribute("value")
    about.select_option(chosen)
    page.locator("form.language-switch").get_by_role("button", name="Español").click()
    tab.check()
    assert page.url.endswith("/my-plan/messages/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#id_text")).to_have_value("Can we meet on Tuesday instead?")
    expect(page.locator("#id_about")).to_have_value(chosen)
    # Taken once: opening the page again shows it empty.
    assert page.evaluate("Object.keys(window.sessionStorage).filter(key => key.startsWith('reentry'))") == []
    page.reload()
    tab.check()
    expect(page.locator("#id_text")).to_have_value("")

    # An ask sent back for its missing words (at /my-plan/ask/, which takes only forms): the
    # switch comes back to the plan, with the choices made.
    page.goto("/my-plan/")
    tab.check()
    ask = page.locator("#ask")
    ask.locator("summary").click()  # the page is in Spanish here
    area = ask.locator("input[name=domain]").nth(1)
    area.check()
    ask.locator("input[name=priority]").first.check()
    soon = ask.locator("input[name=priority]").first.get_attribute("value")
    ask.locator("button[type=submit]").click()
    tab.check()
    assert page.url.endswith("/my-plan/ask/")
    expect(page.locator("#id_words_error")).to_be_visible()  # sent back: shown open, with why
    page.locator("form.language-switch").get_by_role("button", name="English").click()
    tab.check()
    assert page.url.endswith("/my-plan/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#ask input[name=domain]").nth(1)).to_be_visible()  # the kept choices unfolded
    expect(page.locator("#ask input[name=domain]").nth(1)).to_be_checked()
    expect(page.locator(f"#ask input[name=priority][value='{soon}']")).to_be_checked()


HEADER_TARGETS = """() => Array.from(document.querySelectorAll(
        "header.site-header a, header.site-header button, header.site-header summary"))
    .filter(target => target.checkVisibility())
    .map(target => {
        const box = target.getBoundingClientRect();
        return {name: target.textContent.trim(), top: box.top, width: box.width, height: box.height};
    })"""
HEADER_HEIGHT = "document.querySelector('header').getBoundingClientRect().height"


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_header_is_easy_to_tap_on_a_phone_and_unchanged_on_a_desktop(world, marcus, tabs, language):
    """WCAG 2.2's target size: on a 390 px phone each link and button of the header is at
    least 44×44 px (the links were 21 px tall), in either language; on a desktop at least 24×24,
    and the header keeps its one line. On the phone the links fold behind "Menu" (the header
    was 226 px tall), and the language switch stays in sight, named in each language."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    phone = tabs(PHONE, scale=1.25)
    phone.sign_in("exoneree1")
    assert phone.page.evaluate(HEADER_HEIGHT) <= 120
    shut = {t["name"] for t in phone.page.evaluate(HEADER_TARGETS)}
    assert shut == {"Reentry", "Menú" if language == "es" else "Menu", "Español", "English"}, shut
    phone.nav()
    targets = phone.page.evaluate(HEADER_TARGETS)
    assert len(targets) == 8  # the name, "Menu", three links, signing out, two languages
    small = [(t["name"], t["width"], t["height"]) for t in targets if t["width"] < 44 or t["height"] < 44]
    assert not small, small
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    desktop = tabs(DESKTOP)
    desktop.sign_in("exoneree1")
    targets = desktop.page.evaluate(HEADER_TARGETS)
    assert len(targets) == 7  # no "Menu": the links are in the row
    small = [(t["name"], t["width"], t["height"]) for t in targets if t["width"] < 24 or t["height"] < 24]
    assert not small, small
    assert desktop.page.evaluate(HEADER_HEIGHT) < 80
    middles = {round(t["top"] + t["height"] / 2) for t in targets}
    assert max(middles) - min(middles) <= 2, targets  # one row, each centred on it
