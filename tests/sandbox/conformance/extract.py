"""Derive ``captures.json`` from the captured real-server exchanges (run by hand, not by pytest).

    python tests/sandbox/conformance/extract.py ../shared/real-jumpserver-captures.md

Reads the 52 request/response pairs of ``real-jumpserver-captures.md`` and writes, per pair,
the request with its per-run values replaced by markers (``{base}``, ``{csrf}``, ``{date}``,
``{totp:alice}``, ``{password:alice}``, ``{signature:KEY:valid|tampered}``) and the facts the
conformance test compares: status, redirect target, names of the cookies set, media type and
the JSON shape (key names and value types, recursively; containers cut short by the capture's
trimming are marked open). Ids, tokens, secrets and cookie values stay as captured: the test
maps them to the sandbox's own as the flow produces them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

BASE = "http://127.0.0.1:8080"
_SECTION = re.compile(r"^### (\d+)\. (.+)$", re.M)
_BLOCK = re.compile(r"```http\n(.*?)\n```", re.S)
_TRIMMED = re.compile(r"\n\.\.\. \[trimmed, \d+ bytes total\]\s*$")

# Objects the capture's admin created (section B), by what they are; the test maps them to
# the sandbox's objects of the same names (its --config mirrors that test data).
SEEDS = {
    "867f476d-dcfa-43db-8500-215a0bf3a26f": ["user", "refadmin"],
    "c22ac3ad-fcc0-4473-8578-0b05a7de4588": ["user", "alice"],
    "92ed0afe-e960-45d4-a210-7c62bf6ad51e": ["node", "/DEFAULT"],
    "55e8d57f-c91e-4294-9a56-4b60d231656c": ["node", "/DEFAULT/RefServers"],
    "25aa1c72-47ea-40fa-85c0-36250ec2735b": ["asset", "ref-web-01"],
    "2cbb6446-a9ac-414e-8f95-5616edfb7196": ["asset", "ref-db-01"],
    "71ed919f-5527-439b-9bb4-302f4d440659": ["account", "ref-web-01/root"],
    "21e2eb38-1f58-4b74-814c-eac2a3897aef": ["account", "ref-web-01/deploy"],
    "90dd8ad5-94b0-4f9d-9b32-b4272662b207": ["account", "ref-db-01/deploy"],
    "cf24219c-7ecc-4e61-baa1-9a7096156ef6": ["perm", "ref-perm-alice"],
}


class _Cut(Exception):
    """The input ended (the capture was trimmed)."""


class _Partial:
    """A JSON reader that survives a trimmed document: what was cut off is marked open."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def _ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1
        if self.i >= len(self.text):
            raise _Cut

    def value(self) -> Any:
        self._ws()
        ch = self.text[self.i]
        if ch == "{":
            return self._object()
        if ch == "[":
            return self._array()
        if ch == '"':
            return ("string", self._string())
        match = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(self.text, self.i)
        if not match:
            raise ValueError(f"bad JSON at {self.i}: {self.text[self.i : self.i + 20]!r}")
        self.i = match.end()
        token = match.group(0)
        if self.i >= len(self.text) and token[0] in "-0123456789":
            raise _Cut  # a number may have been cut
        kind = {"true": "boolean", "false": "boolean", "null": "null"}.get(token, "number")
        return (kind, token)

    def _string(self) -> str:
        end = self.i + 1
        while True:
            if end >= len(self.text):
                raise _Cut
            if self.text[end] == "\\":
                end += 2
                continue
            if self.text[end] == '"':
                break
            end += 1
        raw = self.text[self.i : end + 1]
        self.i = end + 1
        return str(json.loads(raw))

    def _object(self) -> dict[str, Any]:
        self.i += 1
        keys: dict[str, Any] = {}
        node: dict[str, Any] = {"object": keys}
        try:
            self._ws()
            if self.text[self.i] == "}":
                self.i += 1
                return node
            while True:
                self._ws()
                key = self._string()
                self._ws()
                self.i += 1  # ':'
                try:
                    keys[key] = self.value()
                except _Cut as cut:
                    inner = getattr(cut, "partial", None)
                    if inner is not None:
                        keys[key] = inner
                    raise
                self._ws()
                sep = self.text[self.i]
                self.i += 1
                if sep == "}":
                    return node
        except _Cut:
            node["open"] = True
            cut = _Cut()
            cut.partial = node  # type: ignore[attr-defined]
            raise cut from None

    def _array(self) -> dict[str, Any]:
        self.i += 1
        items: list[Any] = []
        node: dict[str, Any] = {"array": items}
        try:
            self._ws()
            if self.text[self.i] == "]":
                self.i += 1
                return node
            while True:
                try:
                    items.append(self.value())
                except _Cut as cut:
                    inner = getattr(cut, "partial", None)
                    if inner is not None:
                        items.append(inner)
                    raise
                self._ws()
                sep = self.text[self.i]
                self.i += 1
                if sep == "]":
                    return node
        except _Cut:
            node["open"] = True
            cut = _Cut()
            cut.partial = node  # type: ignore[attr-defined]
            raise cut from None


def shape(node: Any) -> Any:
    """Types only: ("string", v) -> "string"; containers keep keys, element shapes, openness."""
    if isinstance(node, tuple):
        return node[0]
    if "object" in node:
        out: dict[str, Any] = {"object": {k: shape(v) for k, v in node["object"].items()}}
    else:
        out = {"array": [shape(v) for v in node["array"]]}
    if node.get("open"):
        out["open"] = True
    return out


def parse_body(text: str) -> tuple[Any, bool]:
    """(shape, trimmed) of a JSON body that may have been trimmed."""
    trimmed = bool(_TRIMMED.search(text))
    text = _TRIMMED.sub("", text)
    reader = _Partial(text)
    try:
        value = reader.value()
    except _Cut as cut:
        value = cut.partial  # type: ignore[attr-defined]
    return shape(value), trimmed


def _message(block: str) -> tuple[str, list[tuple[str, str]], str]:
    head, _, body = block.partition("\n\n")
    lines = head.split("\n")
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return lines[0], headers, body.strip("\n")  # type: ignore[return-value]


def _signature_valid(
    header: str, method: str, target: str, date: str, secrets: dict[str, str]
) -> tuple[str, bool]:
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    key_id = params["keyId"]
    lines = []
    for name in params["headers"].split():
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            lines.append(f"{name}: {dict(_H)[name]}")
    secret = secrets.get(key_id, "")
    digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    return key_id, base64.b64encode(digest).decode() == params["signature"]


_H: list[tuple[str, str]] = []


def _request(text: str, number: int, secrets: dict[str, str]) -> dict[str, Any]:
    global _H
    first, headers, body = _message(text)
    method, url = first.split(" ", 1)
    target = url.removeprefix(BASE)
    _H = [(k.lower(), v) for k, v in headers]
    out_headers: list[list[str]] = []
    for name, value in headers:
        low = name.lower()
        if low == "date":
            value = "{date}"
        elif low == "authorization" and value.startswith("Signature"):
            params = dict(re.findall(r'(\w+)="([^"]*)"', value))
            valid = True
            if "date" in dict(_H):
                _, valid = _signature_valid(value, method, target, dict(_H)["date"], secrets)
            state = "valid" if valid else "tampered"
            value = f"{{signature:{params['keyId']}:{state}:{params['headers']}}}"
        elif low in ("referer", "origin"):
            value = value.replace(BASE, "{base}")
        out_headers.append([name, value])
    ctype = dict(_H).get("content-type", "")
    if body and "x-www-form-urlencoded" in ctype:
        fields = dict(parse_qsl(body, keep_blank_values=True))
        if "csrfmiddlewaretoken" in fields:
            fields["csrfmiddlewaretoken"] = "{csrf}"
        if "password" in fields and target.startswith("/core/auth/login/"):
            fields["password"] = "{password:" + fields["username"] + "}"
        if "code" in fields and fields["code"] != "000000":
            fields["code"] = "{totp:alice}"
        body = urlencode(fields, safe="{}:")
    elif body:
        data = json.loads(body)
        for key in ("code", "secret_key"):
            if re.fullmatch(r"\d{6}", str(data.get(key, ""))) and data[key] != "000000":
                data[key] = "{totp:alice}"
        body = json.dumps(data)
    return {"method": method, "target": target, "headers": out_headers, "body": body or None}


def _response(text: str) -> tuple[dict[str, Any], Any]:
    first, headers, body = _message(text)
    status = int(first.split()[1])
    cookies = []
    cookie_values = {}
    location = None
    media = None
    for name, value in headers:
        low = name.lower()
        if low == "set-cookie":
            cookie, _, rest = value.partition("=")
            cookies.append(cookie)
            cookie_values[cookie] = rest.split(";", 1)[0]
        elif low == "location":
            location = value
        elif low == "content-type":
            media = value
    out: dict[str, Any] = {
        "status": status,
        "location": location,
        "cookies": cookies,
        "media_type": media,
        "www_authenticate": dict((k.lower(), v) for k, v in headers).get("www-authenticate"),
    }
    values: Any = None
    if media and media.startswith("application/json") and body:
        out["json"], out["trimmed"] = parse_body(body)
        if not out["trimmed"]:
            values = json.loads(body)
    # Per-run values the test maps to the sandbox's own (cookie values, ids, tokens, secrets).
    learn = {f"cookie:{k}": v for k, v in cookie_values.items()}
    found = re.findall(r'^ "(id|token|secret|value)": "([^"]+)"', _TRIMMED.sub("", body), re.M)
    learn.update({k: v for k, v in found})
    out["learn"] = learn
    return out, values


def extract(markdown: str) -> dict[str, Any]:
    """The conformance data from the captures' Markdown."""
    sections = list(_SECTION.finditer(markdown))
    pairs = []
    secrets: dict[str, str] = {}
    for index, match in enumerate(sections):
        end = sections[index + 1].start() if index + 1 < len(sections) else len(markdown)
        blocks = _BLOCK.findall(markdown[match.end() : end])
        number = int(match.group(1))
        request = _request(blocks[0], number, secrets)
        response, values = _response(blocks[1])
        if isinstance(values, dict) and "secret" in values and "id" in values:
            secrets[values["id"]] = values["secret"]
        title = match.group(2)
        pairs.append({"n": number, "title": title, "request": request, "response": response})
    if len(pairs) != 52:
        raise SystemExit(f"expected 52 captured pairs, found {len(pairs)}")
    return {
        "source": "real-jumpserver-captures.md (JumpServer v4.10.16, 2026-11-22)",
        "base": BASE,
        "seeds": SEEDS,
        "pairs": pairs,
    }


def main() -> None:
    """Read the Markdown given on the command line, write captures.json beside this file."""
    source = Path(sys.argv[1])
    data = extract(source.read_text())
    target = Path(__file__).with_name("captures.json")
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(data['pairs'])} pairs to {target}")


if __name__ == "__main__":
    main()
