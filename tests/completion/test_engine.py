"""What the completion engine offers for command lines, from the real generated spec (no daemon)."""

from __future__ import annotations

import pytest

from jsctl_clients._completion_engine import analyse, join_equals
from jsctl_clients.cli._app import commands
from jsctl_clients.completion import candidates, kept_spec

SPEC = kept_spec()


def values(shell: str, *args: str) -> list[str]:
    return [line.split("\t")[1] for line in candidates(shell, list(args))]


def test_top_level_commands_come_from_the_command_index() -> None:
    index = commands()
    assert values("bash", "") == sorted(index)
    assert values("bash", "ex") == ["exec"]
    zsh_lines = candidates("zsh", ["ex"])
    assert zsh_lines == [f"plain\texec\t{index['exec'][2]}"]


def test_nested_groups_and_their_flags() -> None:
    assert "install" in values("bash", "daemon", "")
    assert values("bash", "daemon", "st") == ["start", "status", "stop"]
    assert values("bash", "daemon", "install", "--d") == ["--dry-run"]
    assert values("bash", "--json", "daemon", "sto") == ["stop"]


def test_flags_only_when_a_dash_is_typed() -> None:
    assert values("bash", "exec", "--acc") == ["--account"]
    assert "--profile" in values("bash", "exec", "-")
    assert "-p" in values("bash", "exec", "-")


def test_fixed_choices_are_offered_statically() -> None:
    assert values("bash", "completion", "") == ["bash", "fish", "zsh"]
    assert values("fish", "completion", "f") == ["fish"]


def test_option_values_in_both_spellings() -> None:
    spec = SPEC
    want = analyse(spec, ["exec", "--profile"], "pr")
    assert (want.kind, want.prefix, want.lead) == ("profile", "pr", "")
    want = analyse(spec, ["exec"], "--profile=pr")
    assert (want.kind, want.prefix, want.lead) == ("profile", "pr", "--profile=")


def test_accounts_are_asked_for_the_asset_on_the_line() -> None:
    want = analyse(SPEC, ["exec", "-p", "work", "web-01", "--account"], "ro")
    assert want.kind == "account"
    assert want.context == {"asset": "web-01", "profile": "work"}
    assert analyse(SPEC, ["exec"], "").kind == "asset"
    assert analyse(SPEC, ["attach"], "").kind == "session"
    assert analyse(SPEC, ["profile", "use"], "").kind == "profile"
    assert analyse(SPEC, ["client", "revoke"], "").kind == "client"
    assert analyse(SPEC, ["kill", "a", "b"], "").kind == "session"  # SESSION... takes them all


def test_free_text_and_the_remote_command_get_nothing() -> None:
    assert values("bash", "rename", "s1", "") == []
    assert values("bash", "exec", "web-01", "ls", "") == []
    assert values("bash", "login", "--url", "") == []


def test_after_double_dash_words_are_arguments() -> None:
    assert analyse(SPEC, ["exec", "--"], "-x").kind == "asset"


@pytest.mark.parametrize(
    ("words", "joined"),
    [
        (["exec", "--profile", "=", "wo"], ["exec", "--profile=wo"]),
        (["exec", "--profile", "="], ["exec", "--profile="]),
        (["exec", "--profile", "wo"], ["exec", "--profile", "wo"]),
        (["exec", "a=b"], ["exec", "a=b"]),
    ],
)
def test_bash_equals_split_is_undone(words: list[str], joined: list[str]) -> None:
    assert join_equals(words) == joined
