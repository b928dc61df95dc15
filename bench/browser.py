"""The bench's browser: a signed-in session over HTTP, as a person's browser is, for the
scripts that measure through gunicorn (pages.py, writes.py, scaleout.py).

Cookies are kept by hand (the production cookies are marked Secure, and the bench talks
plain HTTP to 127.0.0.1); signing in passes the second step with a TOTP code from the bench
accounts' known key; a form is read as the page shows it, to post it back changed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import re
import struct
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


def totp(key_hex: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as django-otp's TOTPDevice checks it (SHA-1, 30 s, 6 digits)."""
    counter = int((at or time.time()) // step)
    mac = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


class Session:
    """One signed-in browser: cookies by hand (the production cookies are marked Secure).

    Given several servers' ports, it asks them in turn, one request each, as a round-robin
    load balancer would (the session itself is in the database, valid on every server);
    `server=` sends a request to one of them (an index into the ports)."""

    def __init__(self, *ports: int) -> None:
        self.ports = ports
        self.turns = itertools.count()  # next() on it is atomic: the clients' threads share it
        self.cookies: dict[str, str] = {}
        self.local = threading.local()

    def connection(self, port: int) -> http.client.HTTPConnection:
        if not hasattr(self.local, "connections"):  # each client thread its own connections
            self.local.connections = {}
        if port not in self.local.connections:
            self.local.connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        return self.local.connections[port]

    def hang_up(self, port: int) -> None:
        self.local.connections.pop(port).close()

    def request(
        self, method: str, path: str, body: dict | None = None, *, server: int | None = None
    ) -> tuple[int, dict[str, str], str, float]:
        port = self.ports[next(self.turns) % len(self.ports) if server is None else server]
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        for attempt in range(2):
            conn = self.connection(port)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                text = response.read().decode()
                elapsed = time.perf_counter() - start
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.hang_up(port)
                if attempt:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            self.hang_up(port)
        return response.status, dict(response.headers), text, elapsed

    def form_token(self, path: str) -> tuple[str, str]:
        status, headers, text, _ = self.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        return (match.group(1) if match else ""), text

    def sign_in(self, username: str, password: str, totp_key: str | None) -> None:
        token, _ = self.form_token("/accounts/login/")
        status, headers, text, _ = self.request(
            "POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        if status != 302:
            raise SystemExit(f"Signing in as {username} failed ({status}): run bench/seed.py first?")
        if totp_key:
            verify = "/accounts/two-factor/"
            token, _ = self.form_token(verify)
            status, headers, _, _ = self.request(
                "POST", verify, {"csrfmiddlewaretoken": token, "code": totp(totp_key), "next": "/"}
            )
            if status != 302 or urlsplit(headers.get("Location", "")).path.startswith("/accounts/"):
                raise SystemExit(f"The second factor of {username} was refused ({status}).")


class FormReader(HTMLParser):
    """The fields of the first form posting to `action` and their values as the page shows
    them (what a browser would post if the person changed nothing)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.done = action, False, False
        self.values: dict[str, list[str]] = defaultdict(list)
        self.select: str | None = None
        self.first_option: str | None = None
        self.selected = False
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done and a.get("action", self.action) in (self.action, ""):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values[name].append(a.get("value", "on"))
            elif kind not in {"submit", "button", "file"}:
                self.values[name].append(a.get("value", ""))
        elif tag == "select" and name:
            self.select, self.first_option, self.selected = name, None, False
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in a:
                self.values[self.select].append(value)
                self.selected = True
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select:
            if not self.selected and self.first_option is not None:
                self.values[self.select].append(self.first_option)
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea][-1] += data


def form_of(session: Session, page: str, action: str | None = None) -> dict[str, list[str]]:
    status, _, text, _ = session.request("GET", page)
    if status != 200:
        raise SystemExit(f"GET {page}: {status}")
    reader = FormReader(action or page)
    reader.feed(text)
    if not reader.values:
        raise SystemExit(f"no form posting to {action or page} on {page}")
    return dict(reader.values)
