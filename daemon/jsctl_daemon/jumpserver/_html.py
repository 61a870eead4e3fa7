"""Just enough HTML reading for JumpServer's login pages (ids, classes and field names only).

We never look at localised text to decide anything; error texts are only carried along so a
person can read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["LoginPage", "MfaOption", "parse_login_page"]

_VOID = frozenset({"input", "img", "br", "hr", "meta", "link", "source", "wbr", "area", "col"})


@dataclass(frozen=True)
class MfaOption:
    """One ``<option>`` of the MFA type selector."""

    value: str
    disabled: bool = False
    needs_bind: bool = False


@dataclass
class LoginPage:
    """What a login or MFA page tells a client."""

    form_ids: set[str] = field(default_factory=set)
    inputs: dict[str, str] = field(default_factory=dict)
    captcha_image: str | None = None
    mfa_options: list[MfaOption] = field(default_factory=list)
    form_errors: list[str] = field(default_factory=list)
    field_errors: list[str] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)

    @property
    def is_login_form(self) -> bool:
        """The JumpServer login form is on the page."""
        return "login-form" in self.form_ids or (
            "username" in self.inputs and "csrfmiddlewaretoken" in self.inputs
        )

    @property
    def has_captcha(self) -> bool:
        """The form asks for a captcha answer."""
        return "captcha_0" in self.inputs and self.captcha_image is not None

    @property
    def is_mfa_form(self) -> bool:
        """The MFA code form is on the page."""
        return bool(self.mfa_options) or ("mfa_type" in self.inputs and "code" in self.inputs)

    @property
    def errors(self) -> list[str]:
        """All error texts, form-level first."""
        return self.form_errors + self.field_errors


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = LoginPage()
        self._in_mfa_select = False
        # Error element being captured: (tag, depth of that tag, is form-level, text parts).
        self._capture: tuple[str, int, bool, list[str]] | None = None
        self._depth: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: (value or "") for name, value in attrs}
        classes = set(attr.get("class", "").split())
        self.page.classes |= classes
        if tag not in _VOID:
            self._depth[tag] = self._depth.get(tag, 0) + 1
        if tag == "form" and attr.get("id"):
            self.page.form_ids.add(attr["id"])
        elif tag in ("input", "textarea") and attr.get("name"):
            self.page.inputs[attr["name"]] = attr.get("value", "")
        elif tag == "img" and "captcha" in classes and attr.get("src"):
            self.page.captcha_image = attr["src"]
        elif tag == "select":
            self._in_mfa_select = attr.get("name") == "mfa_type" or attr.get("id") == "mfa-select"
            if self._in_mfa_select:
                self.page.inputs.setdefault("mfa_type", "")
        elif tag == "option" and self._in_mfa_select and attr.get("value"):
            self.page.mfa_options.append(
                MfaOption(
                    value=attr["value"],
                    disabled="disabled" in attr,
                    needs_bind=attr.get("data-needs-bind", "").lower() == "true",
                )
            )
        is_error = "red-fonts" in classes or "help-block" in classes
        if self._capture is None and is_error and tag not in _VOID:
            self._capture = (tag, self._depth[tag], "red-fonts" in classes, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._in_mfa_select = False
        depth = self._depth.get(tag, 0)
        if self._capture is not None and self._capture[0] == tag and self._capture[1] == depth:
            _, _, form_level, parts = self._capture
            text = " ".join("".join(parts).split())
            if text:
                (self.page.form_errors if form_level else self.page.field_errors).append(text)
            self._capture = None
        if depth:
            self._depth[tag] = depth - 1

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture[3].append(data)


def parse_login_page(html: str) -> LoginPage:
    """Parse a login/MFA page; never raises on malformed HTML."""
    collector = _Collector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):  # html.parser is lenient; be safe on garbage anyway
        pass
    return collector.page
