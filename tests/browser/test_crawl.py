"""Every page a demo role can reach passes axe, not only the pages the journeys visit.

The demo is seeded as `make run` seeds it (seed_demo). Each role signs in through the real
pages (staff with the code of their demo authenticator) and follows, breadth first, every
link of this site that a page shows it: by GET only, never submitting a form, never signing
out, never downloading (a PDF, a calendar, a CSV, a JSON copy). Pages of one kind (the same URL name and
the same query-parameter names) are visited at most PER_KIND times: every kind of page, two
people's worth, in two or three minutes.

Every page must pass axe (WCAG 2.1 A/AA), with its folded <details> opened (closed needs and
done follow-ups are folded), log no browser error (a Content-Security-Policy violation is
one) and answer without an error status: a link a page shows must lead somewhere. All
problems are collected and reported together, each with its page, rule and element.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.urls import Resolver404, resolve
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import DESKTOP, PHONE, Tab, demo_device

PER_KIND = 2
# Pages a link may lead to that are not pages: files to download. (Signing out is a form.)
DOWNLOADS = {
    "exoneree_plan_pdf",
    "my_plan_pdf",
    "my_plan_ics",
    "document_download",
    "my_document_download",
    "exoneree_copy_pdf",
    "exoneree_copy_json",
    "my_copy_pdf",
    "my_copy_json",
    "hsds_export",
}
DOWNLOAD_FORMATS = {"csv", "pdf", "ics"}
# The API's reference is Swagger UI, a third-party developer tool with its own colours and
# nested controls (axe finds both), and the schema a download: not the app's pages, not crawled.
NOT_OURS = {"api-docs", "api-schema"}
LINKS = "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)"


def url_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return path  # an unknown address is still visited: its 404 is reported


def kind(path: str, query: str) -> tuple[str, ...] | None:
    """The kind of page a URL shows (its URL name and query-parameter names), or None for a
    download."""
    name = url_name(path)
    params = parse_qsl(query, keep_blank_values=True)
    if name in DOWNLOADS | NOT_OURS or any(key == "format" and value in DOWNLOAD_FORMATS for key, value in params):
        return None
    return (name, *sorted({key for key, _ in params}))


def crawl(tab: Tab, origin: str, start: str) -> tuple[list[str], set[str]]:
    """Every problem on the pages reachable from `start`, and the URL names of those pages."""
    page = tab.page
    queue = deque([origin + start])
    queued = set(queue)
    visits: Counter[tuple[str, ...]] = Counter()
    problems: list[str] = []
    seen: set[str] = set()
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        tab.problems.clear()
        try:
            response = page.goto(url)
        except PlaywrightError as error:  # a download the link did not announce, or no answer
            problems.append(f"{parts.path}?{parts.query}: not a page ({error.message.splitlines()[0]})")
            continue
        where = page.url.removeprefix(origin)
        seen.add(url_name(urlsplit(page.url).path))
        if response is None or response.status >= 400:
            problems.append(f"{where}: status {response.status if response else 'none'}")
        if "text/html" not in (response.headers.get("content-type", "") if response else ""):
            continue
        # Folded content (closed needs, more details) is checked as if unfolded.
        page.eval_on_selector_all("details:not([open])", "els => els.forEach(d => { d.open = true; })")
        problems.extend(f"{where}: {problem}" for problem in tab.problems)
        for violation in tab.axe_violations():
            for node in violation["nodes"]:
                # axe's own words for this element, e.g. "insufficient color contrast of 4.35 (...)"
                why = node["summary"].strip().splitlines()[-1].strip() if node["summary"] else violation["help"]
                problems.append(f"{where}: {violation['id']} at {' '.join(node['target'])}: {why}")
        for href in page.eval_on_selector_all("a[href]", LINKS):
            link = urlsplit(href)._replace(fragment="")
            if f"{link.scheme}://{link.netloc}" != origin or link.geturl() in queued:
                continue
            page_kind = kind(link.path, link.query)
            if page_kind is None or visits[page_kind] >= PER_KIND:
                continue
            visits[page_kind] += 1
            queued.add(link.geturl())
            queue.append(link.geturl())
    return problems, seen


def test_every_page_each_demo_role_reaches_passes_axe(demo, tabs, live_server: Any):
    origin = live_server.url
    # Who signs in (with a code or not), on what screen, where the crawl starts, and pages it
    # must reach (so a crawl that went nowhere does not pass).
    roles = [
        ("caseworker1", True, DESKTOP, "/", {"exoneree_detail", "referral_detail", "consent_create", "need_create"}),
        ("director1", True, DESKTOP, "/", {"director_dashboard", "outcome_records", "audit_log", "caseload_edit"}),
        ("exoneree1", False, PHONE, "/", {"my_plan", "my_messages", "my_contact_wishes"}),
        ("", False, PHONE, "/accounts/login/", {"login", "password_reset"}),  # signed out
    ]
    found: list[str] = []
    for username, staff, viewport, start, expected in roles:
        tab = tabs(viewport)
        if username:
            tab.sign_in(username, device=demo_device(username) if staff else None)
        problems, seen = crawl(tab, origin, start)
        assert expected <= seen, f"{username or 'signed out'} never reached {', '.join(sorted(expected - seen))}"
        found.extend(f"{username or 'signed out'} {problem}" for problem in problems)
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)
