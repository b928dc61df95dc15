"""Playwright against pytest-django's live server, driving Debian's Chromium.

No browser is downloaded: Chromium is /usr/bin/chromium (CHROMIUM overrides it). Without it
these tests are skipped, unless CI or REQUIRE_BROWSER=1 is set: then a missing browser fails.

Playwright's sync API runs an asyncio event loop in the test's thread, and Django refuses ORM
calls from a thread with a running loop. The test's own database work (fixtures, checks)
happens in that thread, so DJANGO_ALLOW_ASYNC_UNSAFE is set while a browser test module runs,
and only then. The live server answers from its own thread, where there is no loop.

Every page a journey visits goes through `Tab.check`: axe-core (vendored, see
vendor/README.md) reports no WCAG 2.1 A/AA violation, and the browser logged no error (a
Content-Security-Policy violation is one).

Most tests use the personas of tests/conftest.py (`world`); the crawl of every page and the
README's screenshots use the demo a newcomer sees (`demo`: seed_demo's people and accounts).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from services.demo import DEMO_DEVICE_NAME, Demo, demo_data

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VENDOR = Path(__file__).resolve().parent / "vendor"
# Every run saves its screenshots in var/screenshots/; `make screenshots` points this at
# docs/screenshots/ to refresh the README's pictures (so `make test` leaves the tree clean).
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / os.environ.get("SCREENSHOTS_DIR", "var/screenshots")
PASSWORD = "a browser-test passphrase"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# What scrolls sideways: the page, and every box in it that does (a table's wrapper, when the
# table is too wide), each as "tag.class: scroll width > client width px".
SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('main *')]
    .filter(e => e === document.documentElement || ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
    .filter(e => e.scrollWidth > e.clientWidth)
    .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.scrollWidth} > ${e.clientWidth} px`)"""
# A file input's height and its "Choose File" button's, in whole px (44 at least: a tap target).
FILE_BUTTON_HEIGHTS = """els => els.map(e => [
    Math.min(44, Math.floor(e.getBoundingClientRect().height)),
    Math.min(44, Math.floor(parseFloat(getComputedStyle(e, '::file-selector-button').height))),
])"""


def _browser_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test; skip them only where a browser is
    optional and missing."""
    here = Path(__file__).resolve().parent
    missing = not os.access(CHROMIUM, os.X_OK)
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if missing and not _browser_required():
                item.add_marker(pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (set REQUIRE_BROWSER=1 to fail)"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}, and CI or REQUIRE_BROWSER=1 requires it")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()


def axe_source() -> str:
    """The vendored axe.min.js, after checking it is the file vendor/README.md names."""
    source = (VENDOR / "axe.min.js").read_bytes()
    named = re.search(r"sha256 `([0-9a-f]{64})`", (VENDOR / "README.md").read_text())
    assert named and hashlib.sha256(source).hexdigest() == named.group(1), "axe.min.js differs from vendor/README.md"
    return source.decode()


class Tab:
    """One signed-out browser context and its page, with the checks every page gets."""

    def __init__(
        self,
        browser: Any,
        base_url: str,
        viewport: dict[str, int],
        scale: float = 1,
        *,
        javascript: bool = True,
        touch: bool = False,
    ) -> None:
        # `touch`: a phone's touch screen, not only its width (CSS then reads pointer: coarse,
        # hover: none; a narrow window on a desktop keeps its mouse).
        self.context = browser.new_context(
            base_url=base_url,
            viewport=viewport,
            device_scale_factor=scale,
            java_script_enabled=javascript,
            has_touch=touch,
            is_mobile=touch,
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.javascript = javascript
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # A 4xx for the page itself (a form sent back with errors, a 404) is what the test is
        # looking at; it checks the status. A failed stylesheet or script is a problem.
        document = message.location.get("url") == self.page.url
        if document and message.text.startswith("Failed to load resource: the server responded with a status of 4"):
            return
        self.problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def check(self) -> None:
        """No console or page errors so far, and no axe violation on the page as it is now (with
        scripts on: axe waits on timers that a page with scripts off never runs)."""
        page = self.page
        page.wait_for_load_state("networkidle")
        assert not self.problems, f"{page.url}: " + "; ".join(self.problems)
        if not self.javascript:
            return
        violations = self.axe_violations()
        assert not violations, f"axe on {page.url}:\n" + json.dumps(violations, indent=1)

    def axe_violations(self) -> list[dict[str, Any]]:
        """What axe finds against WCAG 2.1 A/AA on the page as it is now: each rule broken,
        with (up to five of) the elements that break it."""
        page = self.page
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # evaluate() runs outside the page's Content-Security-Policy; a <script> tag would not.
            page.evaluate(axe_source())
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            AXE_TAGS,
        )
        return [
            {
                "id": v["id"],
                "help": v["help"],
                "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]

    def goto(self, path: str) -> Any:
        response = self.page.goto(path)
        self.check()
        return response

    def nav(self) -> Any:
        """The header's main navigation, its "Menu" opened first where a phone folds it."""
        menu = self.page.locator("details.site-menu")
        if menu.locator("summary").is_visible() and menu.get_attribute("open") is None:
            menu.locator("summary").click()
        return self.page.get_by_role("navigation", name="Main")

    def screenshot(self, name: str, *, full_page: bool = True) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page, animations="disabled")

    def sign_in(self, username: str, password: str = PASSWORD, device: TOTPDevice | None = None) -> None:
        """Through the real sign-in page, and the code page when the account has a device."""
        page = self.page
        self.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        self.check()
        if device is not None:
            assert "/accounts/two-factor/" in page.url, page.url
            page.get_by_label("Code").fill(current_code(device))
            page.get_by_role("button", name="Continue").click()
            self.check()

    def close(self) -> None:
        self.context.close()


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):0{device.digits}d}"


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def authenticator(user: Any) -> TOTPDevice:
    """A confirmed TOTP device, as after enrolment; its key computes the sign-in code."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


@pytest.fixture
def tabs(browser: Any, live_server: Any) -> Iterator[Any]:
    """`tabs(viewport)` opens a fresh signed-out Tab on the live server (`javascript=False`: a
    browser with scripts off; `touch=True`: a phone's touch screen); all close after."""
    opened: list[Tab] = []

    def _open(
        viewport: dict[str, int] = DESKTOP, scale: float = 1, *, javascript: bool = True, touch: bool = False
    ) -> Tab:
        tab = Tab(browser, live_server.url, viewport, scale, javascript=javascript, touch=touch)
        opened.append(tab)
        return tab

    yield _open
    for tab in opened:
        tab.close()


@pytest.fixture
def demo(settings: Any, live_server: Any) -> Demo:
    """The demo, as `manage.py seed_demo` writes it for a newcomer's `make run`, with
    PASSWORD for every account; staff sign in with `demo_device(username)`'s codes."""
    settings.DEBUG = True  # seed_demo is a development tool: it refuses to run without
    call_command("seed_demo", password=PASSWORD, stdout=StringIO(), stderr=StringIO())
    settings.DEBUG = False
    return demo_data()


def demo_device(username: str) -> TOTPDevice:
    """The fixed authenticator seed_demo gives a demo staff account (what demo_code reads)."""
    return TOTPDevice.objects.get(user__username=username, name=DEMO_DEVICE_NAME)
