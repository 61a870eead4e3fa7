"""Approval rules: which calls of an agent client wait for a person's consent.

A rule is one or more conditions joined by ``&`` (all must hold); a call is held when any of
the client's rules matches it. Conditions:

- ``kind:run|input|files-write|files-delete|close|*`` (``|`` separates alternatives)
- ``command:GLOB`` (glob on the whole command text) or ``command~REGEX`` (a search)
- ``asset:GLOB``, ``account:GLOB``, ``user:GLOB`` (the effective remote user, e.g. after sudo -i)
- presets: ``writes`` (anything that is not read-only), ``all`` or ``*`` (every action)
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass

from ._errors import BadRule

KINDS = ("run", "input", "files-write", "files-delete", "close")
PRESETS = ("writes", "all", "*")

# Programs that only look. Anything else (and anything with a redirection, a substitution or
# a program given commands to run) counts as a write: the classifier errs on the side of asking.
_READ_ONLY_WORDS = """
    ls ll dir cat head tail less more grep egrep fgrep zgrep rg wc stat file du df free uptime
    w who whoami id groups uname date pwd ps pgrep pstree top htop vmstat
    iostat mpstat sar lsof ss netstat lsblk blkid findmnt lscpu lsmem lspci lsusb dmesg
    journalctl last lastlog echo printf true test [ md5sum sha1sum sha256sum sha512sum cksum
    sort uniq cut tr column nl od xxd hexdump strings which type readlink realpath
    basename dirname getent nproc arch tree jq yq diff cmp zcat bzcat xzcat dig host
    nslookup ping traceroute
"""
_READ_ONLY = frozenset(_READ_ONLY_WORDS.split())
_SUBCOMMANDS = {
    "systemctl": {
        "status",
        "is-active",
        "is-enabled",
        "is-failed",
        "list-units",
        "show",
        "cat",
        "list-unit-files",
        "list-timers",
    },
    "git": {"status", "log", "diff", "show", "branch", "remote", "rev-parse", "describe"},
    "docker": {"ps", "logs", "inspect", "images", "version", "info", "stats"},
    "kubectl": {"get", "describe", "logs", "version", "top", "explain"},
    "ip": {"addr", "a", "address", "route", "r", "link", "l", "neigh", "-br", "-s"},
    "apt": {"list", "show", "policy", "search"},
    "dpkg": {"-l", "-L", "-s", "--list", "--status"},
    "rpm": {"-q", "-qa", "-qi", "-ql"},
}
_FORBIDDEN_WORDS = {
    "find": {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls"},
    "sed": set(),  # see _sed_ok
    "sort": {"-o"},
    "date": {"-s", "--set"},
    "ip": {"add", "del", "delete", "set", "flush", "change", "replace"},
}
_SPLIT = re.compile(r"\|\||&&|[|;&\n]")
_HARMLESS_REDIRECT = re.compile(r"\d?>&\d|\d?>\s*/dev/null")


def _segment_read_only(segment: str) -> bool:
    try:
        words = shlex.split(segment)
    except ValueError:
        return False
    if not words:
        return True
    program = words[0].rsplit("/", 1)[-1]
    if program in _SUBCOMMANDS:
        rest = [w for w in words[1:] if w]
        if not rest or rest[0] not in _SUBCOMMANDS[program]:
            return False
    elif program == "sed":
        if any(w == "-i" or w.startswith(("-i", "--in-place")) for w in words[1:]):
            return False
    elif program == "hostname":  # with a name it renames the host
        if any(not w.startswith("-") for w in words[1:]):
            return False
    elif program == "find" or program in _READ_ONLY:
        pass
    else:
        return False
    forbidden = _FORBIDDEN_WORDS.get(program, set())
    return not any(w in forbidden for w in words[1:])


def read_only(command: str) -> bool:
    """True only for commands known to change nothing (pipes of looking programs)."""
    if "`" in command or "$(" in command or "<(" in command or ">(" in command:
        return False
    stripped = _HARMLESS_REDIRECT.sub(" ", command)
    if ">" in stripped:
        return False
    return all(_segment_read_only(part) for part in _SPLIT.split(stripped))


@dataclass(frozen=True)
class Action:
    """What an agent asks to do, as the rules see it."""

    kind: str
    asset: str
    account: str
    command: str = ""  # the command text (runs), the typed text (input), or a path (files)
    user: str = ""  # the effective remote user (after sudo -i, su -), when known


@dataclass(frozen=True)
class _Condition:
    key: str
    value: str

    def holds(self, action: Action) -> bool:
        key, value = self.key, self.value
        if key == "preset":
            if value in ("all", "*"):
                return True
            return action.kind != "run" or not read_only(action.command)  # "writes"
        if key == "kind":
            return value == "*" or action.kind in value.split("|")
        if key == "command":
            return fnmatch.fnmatchcase(action.command, value)
        if key == "command~":
            return re.search(value, action.command) is not None
        if key == "asset":
            return fnmatch.fnmatchcase(action.asset, value)
        if key == "user":
            return fnmatch.fnmatchcase(action.user or action.account, value)
        return fnmatch.fnmatchcase(action.account, value)  # account


@dataclass(frozen=True)
class Rule:
    """One --confirm rule: its text and its conditions (all must hold)."""

    text: str
    conditions: tuple[_Condition, ...]

    def matches(self, action: Action) -> bool:
        """Whether this rule holds ``action`` for approval."""
        return all(condition.holds(action) for condition in self.conditions)


def _bad(text: str, why: str) -> BadRule:
    return BadRule(
        f"bad --confirm rule {text[:80]!r}: {why[:120]}. Rules are presets (writes, all) or "
        "conditions joined by '&': kind:run|input|files-write|files-delete|close|*, command:GLOB, "
        "command~REGEX, asset:GLOB, account:GLOB, user:GLOB",
    )


def _condition(text: str, part: str) -> _Condition:
    part = part.strip()
    if part in PRESETS:
        return _Condition("preset", part)
    for prefix in ("command~", "cmd~"):
        if part.startswith(prefix):
            pattern = part[len(prefix) :]
            try:
                re.compile(pattern)
            except re.error as exc:
                raise _bad(
                    text, f"the regular expression {pattern!r} does not compile ({exc})"
                ) from None
            return _Condition("command~", pattern)
    key, colon, value = part.partition(":")
    key = {"cmd": "command"}.get(key, key)
    if not colon or key not in ("kind", "command", "asset", "account", "user") or not value:
        raise _bad(text, f"{part!r} is not a condition")
    if key == "kind":
        unknown = [k for k in value.split("|") if k not in (*KINDS, "*")]
        if unknown:
            raise _bad(text, f"unknown kind(s) {', '.join(unknown)}")
    return _Condition(key, value)


def parse_rule(text: str) -> Rule:
    """A rule from its text; BAD_PARAMS says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise _bad(str(text), "it is empty")
    return Rule(text, tuple(_condition(text, part) for part in text.split("&")))


def first_match(rules: list[Rule], action: Action) -> Rule | None:
    """The first rule that holds ``action``, if any."""
    return next((rule for rule in rules if rule.matches(action)), None)
