"""The sandbox against 52 request/response pairs captured from a real JumpServer v4.10.16.

``conformance/captures.json`` (derived from ``real-jumpserver-captures.md`` by
``conformance/extract.py``) holds each captured request, with its per-run values marked, and
the facts of the real answer. The flow is replayed in order against a sandbox whose --config
mirrors the capture's test data; per-run values (cookies, tokens, ids, key secrets) are mapped
to the sandbox's own as its answers produce them. Each answer is compared on status, redirect
target, names of the cookies set, media type, WWW-Authenticate and JSON shape. Every
difference must be declared in ALLOWED with its reason (the same table is in sandbox/README.md),
and every declaration must still be needed.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from conformance.shapes import differences
from test_sandbox_access_keys import sign

from jsctl_sandbox._model import stable_id
from jsctl_sandbox.testing import SandboxInfo, running_sandbox

DATA = json.loads((Path(__file__).parent / "conformance" / "captures.json").read_text())
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORDS = {"alice": "Alice#Pass2024", "refadmin": "RefAdmin#Pass2024"}

# The capture's test data (section B), as a sandbox config.
CONFIG = textwrap.dedent(
    f"""
    [[users]]
    username = "refadmin"
    name = "Reference Admin"
    password = "{PASSWORDS["refadmin"]}"
    is_superuser = true

    [[users]]
    username = "alice"
    name = "Alice Tester"
    password = "{PASSWORDS["alice"]}"
    totp_secret = "{TOTP}"

    [[users]]
    username = "admin"
    name = "Administrator"
    password = "ChangeMe"
    is_superuser = true
    must_change_password = true

    [[orgs]]
    name = "DEFAULT"

    [[assets]]
    name = "ref-web-01"
    address = "127.0.0.1"
    nodes = ["/DEFAULT/RefServers"]

    [[assets]]
    name = "ref-db-01"
    address = "127.0.0.2"
    nodes = ["/DEFAULT/RefServers"]

    [[permissions]]
    name = "ref-perm-alice"
    users = ["alice"]
    nodes = ["/DEFAULT/RefServers"]
    accounts = ["@ALL"]
    """
)

# Deliberate differences: capture number -> (reason, differences allowed; "*" = all of them).
# The same table, for people, is in sandbox/README.md ("Differences from a real server").
_ADMIN_WRITES = (
    "the sandbox has no admin write API for users, nodes, hosts and permissions: its "
    "directory comes from --config (the capture's section B is the reference config here)",
    ["*"],
)
ALLOWED: dict[int, tuple[str, list[str]]] = {
    6: _ADMIN_WRITES,
    7: _ADMIN_WRITES,
    9: _ADMIN_WRITES,
    10: _ADMIN_WRITES,
    11: _ADMIN_WRITES,
}


@pytest.fixture(scope="module")
def reference() -> Iterator[SandboxInfo]:
    """A sandbox holding the capture's users, node, hosts and permission."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "reference.toml"
        config.write_text(CONFIG)
        with running_sandbox("--no-throttle", "--config", str(config)) as info:
            yield info


class Replay:
    """Replays captured requests, mapping the capture's per-run values to the sandbox's."""

    def __init__(self, info: SandboxInfo) -> None:
        self.info = info
        self.http = httpx.Client(base_url=info.url, verify=info.verify, timeout=20)
        self.values: dict[str, str] = {}
        self.key_secrets: dict[str, str] = {}  # capture key id -> capture secret
        for capture_id, (kind, name) in DATA["seeds"].items():
            self.values[capture_id] = stable_id(kind, name)

    def _map(self, text: str) -> str:
        for capture, ours in sorted(self.values.items(), key=lambda kv: -len(kv[0])):
            if len(capture) >= 8 and capture != ours:
                text = text.replace(capture, ours)
        return text

    def _cookie_value(self, cookie_header: str, name: str) -> str:
        match = re.search(rf"(?:^|; ){re.escape(name)}=([^;]*)", cookie_header)
        return match.group(1) if match else ""

    def _signature(self, marker: str, method: str, target: str, date: str) -> str:
        _, key_id, state, headers = marker.strip("{}").split(":", 3)
        secret = self.values.get(self.key_secrets.get(key_id, ""), "")
        names = headers.split()
        value = sign(method, target, date, self.values.get(key_id, key_id), secret, headers=headers)
        if "accept" in names:  # sign() knows only (request-target) and date: add accept
            import base64
            import hashlib
            import hmac

            lines = []
            for name in names:
                if name == "(request-target)":
                    lines.append(f"(request-target): {method.lower()} {target}")
                elif name == "accept":
                    lines.append("accept: application/json")
                else:
                    lines.append(f"date: {date}")
            digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256)
            good = base64.b64encode(digest.digest()).decode()
            value = re.sub(r'signature="[^"]*"', f'signature="{good}"', value)
        if state == "tampered":
            value = re.sub(r'signature="([^"]{4})', 'signature="AAAA', value)
        return value

    def send(self, request: dict[str, Any]) -> httpx.Response:
        """One captured request, with the sandbox's values in place of the capture's."""
        method = request["method"]
        target = self._map(request["target"])
        date = formatdate(usegmt=True)
        headers: dict[str, str] = {}
        for name, value in request["headers"]:
            value = value.replace("{base}", self.info.url).replace("{date}", date)
            if value.startswith("{signature:"):
                value = self._signature(value, method, target, date)
            headers[name] = self._map(value)
        cookies = headers.get("Cookie", "")
        body = request["body"]
        if body is not None:
            csrf = self._cookie_value(cookies, "jms_csrftoken")
            body = self._map(body).replace("{csrf}", csrf)
            body = body.replace("{totp:alice}", pyotp.TOTP(TOTP).now())
            for user, password in PASSWORDS.items():
                body = body.replace("{password:" + user + "}", password)
        self.http.cookies.clear()
        return self.http.request(method, target, headers=headers, content=body)

    def learn(self, facts: dict[str, Any], response: httpx.Response, got: Any) -> None:
        """Remember which sandbox values stand for the capture's (cookies, ids, tokens)."""
        ours = {c.name: c.value for c in response.cookies.jar if c.value is not None}
        for key, capture in facts["learn"].items():
            if key.startswith("cookie:"):
                if key[7:] in ours:
                    self.values[capture] = ours[key[7:]]
            elif isinstance(got, dict) and isinstance(got.get(key), str):
                self.values[capture] = got[key]
        if "id" in facts["learn"] and "secret" in facts["learn"]:
            self.key_secrets[facts["learn"]["id"]] = facts["learn"]["secret"]


def _media(value: str | None) -> str:
    return (value or "").replace(" ", "").lower()


def compare(facts: dict[str, Any], response: httpx.Response) -> tuple[list[str], Any]:
    """The differences between the captured answer's facts and the sandbox's answer."""
    out = []
    if response.status_code != facts["status"]:
        out.append(f"status: {response.status_code} instead of {facts['status']}")
    location = response.headers.get("location")
    if location != facts["location"]:
        out.append(f"location: {location} instead of {facts['location']}")
    names = sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))
    if names != sorted(facts["cookies"]):
        out.append(f"cookies: {names} instead of {sorted(facts['cookies'])}")
    media = response.headers.get("content-type")
    if _media(media) != _media(facts["media_type"]):
        out.append(f"media type: {media} instead of {facts['media_type']}")
    challenge = response.headers.get("www-authenticate")
    if challenge != facts["www_authenticate"]:
        out.append(f"www-authenticate: {challenge} instead of {facts['www_authenticate']}")
    got: Any = None
    if "json" in facts:
        try:
            got = response.json()
        except ValueError:
            out.append("json: the body is not JSON")
        else:
            out += [f"json {d}" for d in differences(facts["json"], got)]
    return out, got


def test_sandbox_conforms_to_the_real_server(reference: SandboxInfo) -> None:
    replay = Replay(reference)
    found: dict[int, list[str]] = {}
    for pair in DATA["pairs"]:
        response = replay.send(pair["request"])
        diffs, got = compare(pair["response"], response)
        replay.learn(pair["response"], response, got)
        if diffs:
            found[pair["n"]] = diffs
    undeclared = {}
    for number, diffs in found.items():
        allowed = ALLOWED.get(number, ("", []))[1]
        rest = [d for d in diffs if "*" not in allowed and not d.startswith(tuple(allowed))]
        if rest:
            undeclared[number] = rest
    stale = sorted(set(ALLOWED) - set(found))
    report = "\n".join(
        f"#{n} {next(p['title'] for p in DATA['pairs'] if p['n'] == n)}:\n  " + "\n  ".join(d)
        for n, d in sorted(undeclared.items())
    )
    assert not undeclared, f"undeclared differences from the real server:\n{report}"
    assert not stale, f"ALLOWED entries no longer needed: {stale}"
