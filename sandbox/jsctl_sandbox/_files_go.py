"""Go standard-library behaviour KoKo's file APIs show on the wire.

Path helpers follow ``path/filepath`` (Base, Dir, Join), ``go_atoi`` follows
``strconv.Atoi``, ``go_mode_string`` follows ``os.FileMode.String`` and
``decode_struct`` follows ``encoding/json`` decoding an object into a Go struct,
including its error texts.
"""

from __future__ import annotations

import json
import posixpath
import re
import stat
from typing import Any

__all__ = [
    "decode_struct",
    "go_atoi",
    "go_base",
    "go_clean",
    "go_dir",
    "go_ext",
    "go_join",
    "go_json",
    "go_mode_string",
    "go_parse_bool",
]

_INT64 = (-(2**63), 2**63 - 1)
_ATOI = re.compile(r"[+-]?[0-9]+")


def go_base(path: str) -> str:
    """``filepath.Base``: last element, "." for empty, "/" for all slashes."""
    if not path:
        return "."
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rsplit("/", 1)[-1]


def go_clean(path: str) -> str:
    """``filepath.Clean``: like normpath, but a leading "//" becomes "/" too."""
    cleaned = posixpath.normpath(path)
    return cleaned[1:] if cleaned.startswith("//") else cleaned


def go_dir(path: str) -> str:
    """``filepath.Dir``: everything but the last element, cleaned ("." when none)."""
    head = path[: path.rfind("/") + 1]
    return go_clean(head) if head else "."


def go_join(*parts: str) -> str:
    """``filepath.Join``: non-empty parts joined with "/" and cleaned ("" when none)."""
    kept = [p for p in parts if p]
    return go_clean("/".join(kept)) if kept else ""


def go_atoi(text: str) -> int:
    """``strconv.Atoi`` (64-bit); ValueError carries Go's message."""
    if not _ATOI.fullmatch(text):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value


def go_parse_bool(text: str) -> bool | None:
    """``strconv.ParseBool``; None for text it rejects."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return None


# os.FileMode type letters in Go's order, with the st_mode test that sets each.
_TYPE_LETTERS: tuple[tuple[str, int], ...] = (
    ("d", stat.S_IFDIR),
    ("L", stat.S_IFLNK),
    ("D", stat.S_IFBLK),
    ("p", stat.S_IFIFO),
    ("S", stat.S_IFSOCK),
)


def go_mode_string(mode: int) -> str:
    """``os.FileMode.String`` of a unix st_mode as pkg/sftp converts it, e.g. ``drwxr-xr-x``."""
    kind = stat.S_IFMT(mode)
    letters = "".join(letter for letter, fmt in _TYPE_LETTERS if kind == fmt)
    if kind == stat.S_IFCHR:
        letters += "Dc"
    letters += "u" if mode & stat.S_ISUID else ""
    letters += "g" if mode & stat.S_ISGID else ""
    letters += "t" if mode & stat.S_ISVTX else ""
    perms = "".join(ch if mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
    return (letters or "-") + perms


def _json_kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "array" if isinstance(value, list) else "object"


def _syntax_error(text: str, exc: json.JSONDecodeError) -> str:
    if exc.pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    return f"invalid character {text[exc.pos]!r} looking for beginning of value"


def _field_value(value: Any, kind: type) -> Any:
    """The Go value for a JSON value, or raise TypeError with the JSON kind Go names."""
    if kind is bool and isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is int and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise TypeError(f"number {value}")
        if not _INT64[0] <= int(value) <= _INT64[1]:
            raise TypeError(f"number {value}")
        return int(value)
    raise TypeError(_json_kind(value))


def decode_struct(
    text: str, fields: dict[str, type], struct: str, package: str = "httpd"
) -> dict[str, Any]:
    """Decode a JSON object into Go struct fields (name -> bool/int/str), zero values default.

    Keys match exactly or case-insensitively, unknown keys are ignored, JSON null leaves
    the zero value. ValueError carries encoding/json's message for the first problem.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(_syntax_error(text, exc)) from None
    zero = {name: kind() for name, kind in fields.items()}
    if value is None:
        return zero
    if not isinstance(value, dict):
        kind = _json_kind(value)
        raise ValueError(f"json: cannot unmarshal {kind} into Go value of type {package}.{struct}")
    by_lower = {name.lower(): name for name in fields}
    decoded = dict(zero)
    for key, item in value.items():
        name = key if key in fields else by_lower.get(key.lower())
        if name is None or item is None:
            continue
        try:
            decoded[name] = _field_value(item, fields[name])
        except TypeError as exc:
            go_type = {bool: "bool", int: "int64", str: "string"}[fields[name]]
            raise ValueError(
                f"json: cannot unmarshal {exc} into Go struct field {struct}.{name} "
                f"of type {go_type}"
            ) from None
    return decoded


def go_ext(name: str) -> str:
    """``filepath.Ext``: from the last dot of the last element (".bashrc" is all extension)."""
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 and "/" not in name[dot:] else ""


def go_json(value: Any) -> str:
    """``json.Marshal``: compact, UTF-8, with Go's HTML-safe escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
