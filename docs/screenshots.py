"""Take the README screenshots of Reentry from a running demo server.

Signs in through the real login form as caseworker1, director1 and exoneree1 and saves
full-page PNGs into docs/screenshots/. Needs `pip install playwright` and Debian's chromium
(no `playwright install`). From the repository root:

    rm -rf /tmp/shots && mkdir /tmp/shots \
      && REENTRY_VAR_DIR=/tmp/shots DEBUG=1 .venv/bin/python manage.py migrate \
      && REENTRY_VAR_DIR=/tmp/shots DEBUG=1 .venv/bin/python manage.py seed_demo --password demo-pass-2026 \
      && REENTRY_VAR_DIR=/tmp/shots DEBUG=1 .venv/bin/python manage.py runserver 127.0.0.1:8765 &
    DEMO_PASSWORD=demo-pass-2026 .venv/bin/python docs/screenshots.py [BASE_URL]

BASE_URL defaults to http://127.0.0.1:8765; CHROMIUM overrides /usr/bin/chromium.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import Browser, sync_playwright

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


class Shot(NamedTuple):
    username: str
    path: str
    filename: str
    width: int
    height: int
    scale: float = 1


SHOTS = [
    Shot("caseworker1", "/dashboard/", "caseworker-dashboard.png", 1280, 900),
    Shot("director1", "/director/", "director-dashboard.png", 1280, 900),
    # A phone; scale 1.5 rather than 2 keeps this long page's PNG under MAX_BYTES.
    Shot("exoneree1", "/my-plan/", "exoneree-plan.png", 390, 844, scale=1.5),
]


def take(browser: Browser, base_url: str, password: str, shot: Shot) -> Path:
    """Sign in as shot.username in a fresh context and save a full-page screenshot."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": shot.width, "height": shot.height},
        device_scale_factor=shot.scale,
    )
    try:
        page = context.new_page()
        page.goto(f"/accounts/login/?next={shot.path}")
        page.get_by_label("Username").fill(shot.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        if not page.url.startswith(base_url.rstrip("/") + shot.path):
            raise SystemExit(f"{shot.username}: expected {shot.path}, landed on {page.url}")
        target = OUT_DIR / shot.filename
        page.screenshot(path=str(target), full_page=True, animations="disabled")
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
