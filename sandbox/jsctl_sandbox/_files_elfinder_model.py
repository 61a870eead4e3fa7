"""elFinder's wire shapes as KoKo's Go connector (LeeEirc/elfinder) encodes them.

Hashes are ``<volume id>_<base64url-nopad(path)>`` with the volume id the md5 of
``username@client-ip``. Entries and responses keep Go's encoding artefacts: zero-valued
entry fields omitted, ``"options":{"archivers":{}}`` on every entry, and ``cwd``,
``files``, ``options``, ``tree``, ``added`` on every response (null when unset).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

__all__ = [
    "API_VERSION",
    "INIT_OPTIONS",
    "TargetError",
    "entry",
    "hash_path",
    "parse_target",
    "render",
    "volume_id",
]

API_VERSION = 2.105
UPLOAD_MAX_SIZE = "10M"
INIT_OPTIONS: dict[str, Any] = {"separator": "/", "archivers": {}, "copyOverwrite": 1}
_EMPTY_OPTIONS: dict[str, Any] = {"archivers": {}}
_ENTRY_KEYS = ("name", "hash", "phash", "mime", "ts", "size", "dirs", "read", "write")
_ENTRY_TAIL = ("isroot", "locked", "volumeid")
# Response keys in Go's field order; the first five are always present.
_ALWAYS = ("cwd", "files", "options", "tree", "added")
_RESPONSE_KEYS = (
    "api",
    "cwd",
    "files",
    "netDrivers",
    "options",
    "uplMaxFile",
    "uplMaxSize",
    "tree",
    "dim",
    "added",
    "warning",
    "changed",
    "hashes",
    "list",
    "size",
    "zipdl",
    "_name",
    "_chunkmerged",
    "removed",
    "images",
    "content",
    "url",
    "error",
)
_RAW_URL_B64 = re.compile(r"[A-Za-z0-9_-]*")


class TargetError(ValueError):
    """A target hash whose path part is not valid base64url; ``index`` is Go's byte offset."""

    def __init__(self, index: int) -> None:
        super().__init__(f"illegal base64 data at input byte {index}")
        self.index = index


def volume_id(username: str, client_ip: str) -> str:
    """KoKo's volume id: md5 hex of ``username@ip``."""
    return hashlib.md5(f"{username}@{client_ip}".encode()).hexdigest()


def hash_path(vid: str, path: str) -> str:
    """The elFinder hash of a volume path."""
    encoded = base64.urlsafe_b64encode(path.encode("utf-8", "surrogateescape"))
    return f"{vid}_{encoded.decode('ascii').rstrip('=')}"


def _decode(text: str) -> str:
    match = _RAW_URL_B64.match(text)
    assert match is not None
    if match.end() < len(text):
        raise TargetError(match.end())
    if len(text) % 4 == 1:
        raise TargetError(len(text) - 1)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise TargetError(len(text)) from None
    return raw.decode("utf-8", "surrogateescape")


def parse_target(target: str) -> str:
    """The volume path of a target hash ("/" without a path part); raises TargetError."""
    _vid, sep, encoded = target.partition("_")
    if not sep or encoded in ("", "/"):
        return "/"
    return _decode(encoded)


def entry(**fields: Any) -> dict[str, Any]:
    """A FileDir object: zero values dropped, Go's field order, options always present."""
    out = {key: fields[key] for key in _ENTRY_KEYS if fields.get(key)}
    out.update({key: fields[key] for key in _ENTRY_TAIL if fields.get(key)})
    out["options"] = dict(_EMPTY_OPTIONS)
    return out


def render(response: dict[str, Any]) -> dict[str, Any]:
    """A response in Go's field order: the always-present keys, then non-empty others."""
    out: dict[str, Any] = {}
    for key in _RESPONSE_KEYS:
        value = response.get(key)
        if key == "cwd":
            out[key] = value if value is not None else {"options": dict(_EMPTY_OPTIONS)}
        elif key == "options":
            out[key] = value if value is not None else dict(_EMPTY_OPTIONS)
        elif key in _ALWAYS:
            out[key] = value
        elif key == "error":
            if value is not None:  # an interface: only nil is omitted
                out[key] = value
        elif value:
            out[key] = value
    return out
