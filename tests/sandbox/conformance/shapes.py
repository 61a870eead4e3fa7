"""Compare a JSON value with a captured shape: key names and value types, recursively."""

from __future__ import annotations

from typing import Any

# Keys whose value is a date that is null until something happens (first login, first use).
_DATE_KEYS = ("date_", "last_login")


def kind(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _scalar_ok(want: str, got: str, key: str) -> bool:
    if want == got:
        return True
    return key.startswith(_DATE_KEYS) and {want, got} == {"null", "string"}


def differences(want: Any, got: Any, path: str = "$", key: str = "") -> list[str]:
    """Every way ``got`` departs from the shape ``want`` (open containers allow more)."""
    if isinstance(want, str):
        have = kind(got)
        return [] if _scalar_ok(want, have, key) else [f"{path}: {have} instead of {want}"]
    if "object" in want:
        if not isinstance(got, dict):
            return [f"{path}: {kind(got)} instead of object"]
        out = []
        for name, sub in want["object"].items():
            if name not in got:
                out.append(f"{path}.{name}: missing")
            else:
                out += differences(sub, got[name], f"{path}.{name}", name)
        if not want.get("open"):
            known = want["object"]
            out += [f"{path}.{name}: not in the capture" for name in got if name not in known]
        return out
    if not isinstance(got, list):
        return [f"{path}: {kind(got)} instead of array"]
    items = want["array"]
    complete = [item for item in items if not (isinstance(item, dict) and item.get("open"))]
    if not items:
        return []
    out = []
    for index, item in enumerate(got):
        # Same length and complete: element by element (arrays may mix shapes); otherwise
        # every element against the first complete one.
        if not want.get("open") and len(items) == len(got):
            template = items[index]
        else:
            template = complete[0] if complete else items[0]
        out += differences(template, item, f"{path}[{index}]", key)
    return sorted(set(out), key=out.index)
