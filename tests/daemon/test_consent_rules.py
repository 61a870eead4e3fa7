"""Approval rules: parsing, matching, and the read-only classifier behind `--confirm writes`."""

from __future__ import annotations

import pytest

from jsctl_daemon.consent import Action, BadRule, first_match, parse_rule, read_only


@pytest.mark.parametrize(
    "command",
    [
        "ls -la /var/log",
        "cat /etc/os-release | grep -i id",
        "df -h && free -m; uptime",
        "journalctl -u nginx --since today 2>&1 | tail -50",
        "systemctl status nginx",
        "find / -name '*.log' 2>/dev/null",
        "sed -n 1,10p /etc/hosts",
        "ps aux | sort -k3 | head",
    ],
)
def test_looking_commands_are_read_only(command: str) -> None:
    assert read_only(command)


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /tmp/x",
        "ls > /tmp/listing",
        "echo hi >> ~/.bashrc",
        "cat $(rm -rf /)",
        "ls `reboot`",
        "find / -name x -delete",
        "find . -exec rm {} +",
        "sed -i s/a/b/ /etc/hosts",
        "systemctl restart nginx",
        "sudo ls",
        "ls; rm x",
        "ls && shutdown -h now",
        "sort -o /etc/passwd x",
        "hostname evil",
        "date -s 2020-01-01",
        "FOO=1 ls",
        "command rm x",
        "bash -c ls",
        "git push",
        "ls 'unbalanced",
    ],
)
def test_anything_else_counts_as_a_write(command: str) -> None:
    assert not read_only(command)


def test_rules_match_kind_command_asset_and_account() -> None:
    rm_on_db = Action("run", "db-01", "root", "rm -rf /var/lib/x")
    ls_on_web = Action("run", "web-01", "deploy", "ls")
    typing = Action("input", "web-01", "deploy", "y\\r")
    assert parse_rule("writes").matches(rm_on_db)
    assert not parse_rule("writes").matches(ls_on_web)
    assert parse_rule("writes").matches(typing)
    assert parse_rule("asset:db-*").matches(rm_on_db)
    assert not parse_rule("asset:db-*").matches(ls_on_web)
    assert parse_rule("account:root&kind:run").matches(rm_on_db)
    assert not parse_rule("account:root&kind:input").matches(rm_on_db)
    assert parse_rule("command:rm *").matches(rm_on_db)
    assert parse_rule(r"command~\brm\b.*-r").matches(rm_on_db)
    assert parse_rule("kind:input|close").matches(typing)
    assert parse_rule("*").matches(ls_on_web) and parse_rule("all").matches(ls_on_web)
    rules = [parse_rule("asset:db-*"), parse_rule("writes")]
    assert first_match(rules, ls_on_web) is None
    found = first_match(rules, rm_on_db)
    assert found is not None and found.text == "asset:db-*"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("kind:reboot", "unknown kind"),
        ("command~(", "does not compile"),
        ("colour:blue", "not a condition"),
        ("asset:", "not a condition"),
        ("writes&", "not a condition"),
    ],
)
def test_bad_rules_are_refused_with_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(BadRule) as caught:
        parse_rule(text)
    assert says in str(caught.value) and "--confirm" in str(caught.value)


@pytest.mark.parametrize(
    ("tail", "prompt"),
    [
        (b"$ sudo ls\r\n[sudo] password for deploy: ", "[sudo] password for deploy:"),
        (b"\x1b[1mPassword:\x1b[0m ", "Password:"),
        (b"Enter passphrase for key '/home/d/.ssh/id_ed25519': ", None),  # checked below
        (b"Secret: ", "Secret:"),
        (b"deploy@web-01:~$ ", None),
        (b"Password: hunter2\r\n", None),
        (b"Continue? [y/N] ", None),
    ],
)
def test_password_prompts_are_recognised_at_the_end_of_output(
    tail: bytes, prompt: str | None
) -> None:
    from jsctl_daemon.consent import prompt_of

    found = prompt_of(tail)
    if b"passphrase" in tail:
        assert found is not None and found.startswith("Enter passphrase")
    else:
        assert found == prompt


def test_a_secret_echoed_across_chunks_is_removed_and_counted() -> None:
    from jsctl_daemon.consent import SecretFilter

    secret_filter = SecretFilter(b"s3cr3t-pw")
    out = secret_filter(b"prompt: s3c") + secret_filter(b"r3t-pw\r\nok s3cr3t-pw\r\n")
    assert b"s3cr3t" not in out and out.count(b"[secret removed]") == 2
    assert secret_filter.hits == 2
    assert secret_filter(b"unrelated s3") + secret_filter(b"x") == b"unrelated s3x"
