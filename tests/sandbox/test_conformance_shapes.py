"""The shape comparison the conformance test relies on finds what it should."""

from __future__ import annotations

from conformance.extract import parse_body
from conformance.shapes import differences


def test_complete_objects_need_the_same_keys_and_types() -> None:
    want, trimmed = parse_body('{"id": "x", "n": 1, "ok": true, "tags": [], "who": null}')
    assert not trimmed
    assert differences(want, {"id": "y", "n": 2.5, "ok": False, "tags": ["a"], "who": None}) == []
    got = {"id": 3, "n": 1, "ok": True, "tags": [], "extra": 1}
    assert differences(want, got) == [
        "$.id: number instead of string",
        "$.who: missing",
        "$.extra: not in the capture",
    ]


def test_trimmed_captures_allow_more_but_not_less() -> None:
    text = (
        '{\n "a": {"b": 1, "c": "x"},\n "list": [\n  {"k": 1},\n  {"k": 2, "l"'
        "\n... [trimmed, 900 bytes total]"
    )
    want, trimmed = parse_body(text)
    assert trimmed and want["open"] and want["object"]["list"]["open"]
    assert differences(want, {"a": {"b": 0, "c": ""}, "list": [{"k": 5}], "more": 1}) == []
    assert differences(want, {"a": {"b": 0}, "list": [{"k": "5"}]}) == [
        "$.a.c: missing",
        "$.list[0].k: string instead of number",
    ]


def test_dates_may_be_null_until_used_and_arrays_compare_by_position() -> None:
    want, _ = parse_body('{"last_login": null, "x": [{"a": 1}, {"b": 2}]}')
    assert (
        differences(want, {"last_login": "2026/01/01 00:00:00 +0000", "x": [{"a": 1}, {"b": 3}]})
        == []
    )
    assert differences(want, {"last_login": 1, "x": [{"b": 2}, {"a": 1}]}) == [
        "$.last_login: number instead of null",
        "$.x[0].a: missing",
        "$.x[0].b: not in the capture",
        "$.x[1].b: missing",
        "$.x[1].a: not in the capture",
    ]
