"""Take the README screenshots of Reentry from a running demo server.

Signs in through the real login form as caseworker1, director1 and exoneree1 and saves PNGs
into docs/screenshots/: the caseworker's dashboard, the director's overview, the director's
outcomes page, the access log (after caseworker1 has opened a record and shown its full SSN,
so it has something to show) and the exoneree's plan on a phone. Needs `pip install
playwright` and Debian's chromium (`apt-get install chromium`; no `playwright install`).
From the repository root, with a fresh demo server on its own state (web, worker and beat):

    mkdir -p /tmp/shots/var && PORT=8765 REENTRY_VAR_DIR=/tmp/shots/var \
      DEMO_PASSWORD=demo-pass-2026 setsid make run > /tmp/shots/run.log 2>&1 &
    DEMO_PASSWORD=demo-pass-2026 .venv/bin/python docs/screenshots.py [BASE_URL]

then stop the server's process group (`kill -TERM -- -PGID`). BASE_URL defaults to
http://127.0.0.1:8765; CHROMIUM overrides /usr/bin/chromium. A console error or a page error
(a Content-Security-Policy violation would be one) makes the script fail rather than save it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

OUT_DIR = Path(__file__).resolve().parent / "screenshots"
MAX_BYTES = 600 * 1024  # keep the repository light
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def open_record_and_show_ssn(browser: Browser, base_url: str, password: str) -> None:
    """As caseworker1, open Marcus Webb's record (exoneree1's, in the demo) and show the full
    SSN: the access-log screenshot shows both, and the plan's "Who has looked at your file"
    then has someone in it."""
    context, page, problems = signed_in(browser, base_url, password, "caseworker1", "/people/", 1280, 900)
    try:
        page.get_by_role("link", name="Marcus Webb", exact=True).first.click()
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name="Show full number").click()
        page.get_by_text(re.compile("this view is recorded")).wait_for()
        check(problems, "caseworker1", page.url)
    finally:
        context.close()


class Shot(NamedTuple):
    username: str
    path: str
    filename: str
    width: int
    height: int
    scale: float = 1
    full_page: bool = True
    # Run first, in its own signed-in context, so the page has something to show.
    before: Callable[[Browser, str, str], None] | None = None


SHOTS = [
    Shot("caseworker1", "/dashboard/", "caseworker-dashboard.png", 1280, 900),
    Shot("director1", "/director/", "director-dashboard.png", 1280, 900),
    # All eight figures, charts and tables: at scale 1 this long page is about 700 KB, so it is
    # drawn at 0.8 (Chromium lays the text out smaller, it stays sharp) to stay under MAX_BYTES.
    Shot("director1", "/director/outcomes/", "director-outcomes.png", 1280, 900, scale=0.8),
    # The filters and the newest entries; the whole log would be pages of seeding.
    Shot(
        "director1",
        "/director/audit/",
        "director-access-log.png",
        1280,
        1000,
        full_page=False,
        before=open_record_and_show_ssn,
    ),
    # A phone; scale 1.25 rather than 2 keeps this long page's PNG (with its sharing choices) under MAX_BYTES.
    Shot("exoneree1", "/my-plan/", "exoneree-plan.png", 390, 844, scale=1.25),
]


def signed_in(
    browser: Browser, base_url: str, password: str, username: str, path: str, width: int, height: int, scale: float = 1
) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh context signed in as username through the login form, on path; problems
    collects console errors and page errors (a CSP violation is a console error)."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    if not page.url.startswith(base_url.rstrip("/") + path):
        context.close()
        raise SystemExit(f"{username}: expected {path}, landed on {page.url}")
    return context, page, problems


def check(problems: list[str], username: str, url: str) -> None:
    if problems:
        raise SystemExit(f"{username} on {url}:\n  " + "\n  ".join(problems))


def take(browser: Browser, base_url: str, password: str, shot: Shot) -> Path:
    """Sign in as shot.username in a fresh context and save a screenshot of shot.path."""
    if shot.before:
        shot.before(browser, base_url, password)
    context, page, problems = signed_in(
        browser, base_url, password, shot.username, shot.path, shot.width, shot.height, shot.scale
    )
    try:
        check(problems, shot.username, page.url)
        target = OUT_DIR / shot.filename
        page.screenshot(path=str(target), full_page=shot.full_page, animations="disabled")
        return target
    finally:
        context.close()


def main() -> None:
    base_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
    password = os.environ.get("DEMO_PASSWORD")
    if not password:
        raise SystemExit("Set DEMO_PASSWORD to the password given to seed_demo.")
    OUT_DIR.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
        try:
            for shot in SHOTS:
                target = take(browser, base_url, password, shot)
                size = target.stat().st_size
                print(f"{target} ({size // 1024} KB)")
                if size > MAX_BYTES:
                    raise SystemExit(f"{target.name} is over {MAX_BYTES // 1024} KB: lower its scale")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
