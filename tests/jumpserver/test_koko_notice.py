"""Reading KoKo's connect prompts from the end of a terminal's output."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from jsctl_daemon.jumpserver._koko_notice import prompt_in

# The definition prompt_in implements, as one regular expression (searching a whole tail with
# it backtracks through every line: the reason prompt_in looks at the last line itself).
_ORACLE = re.compile(
    rb"(?i)([^\r\n\x08]*(?:password|passphrase|passcode|verification|code|otp|token)"
    rb"[^\r\n\x08]*[:?]) ?$"
)


def _oracle(tail: bytes) -> str | None:
    found = _ORACLE.search(tail)
    return found.group(1).decode("utf-8", errors="replace").strip() if found else None


_PIECES = st.sampled_from(
    [b"\r", b"\n", b"\x08", b" ", b":", b"?", b"Password", b"pass", b"CODE", b"otp", b"Token",
     b"verification", b"phrase", b"x", b"'s ", b"\xc3\xa9", b"\x1b[0m", b"$ "]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=24).map(b"".join))
def test_prompt_is_read_as_the_expression_defines_it(tail: bytes) -> None:
    assert prompt_in(tail) == _oracle(tail)


def test_koko_prompts_and_shell_output() -> None:
    assert prompt_in(b"Last login\r\nroot@10.0.1.11's password: ") == "root@10.0.1.11's password:"
    assert prompt_in(b"\r\nVerification code:") == "Verification code:"
    assert prompt_in(b"Enter passphrase for key?\n") == "Enter passphrase for key?"
    assert prompt_in(b"password:\r\nroot@web-01:~$ ") is None  # answered: the shell is there
    assert prompt_in(b"Password:  ") is None  # two spaces after it: not KoKo's prompt
    assert prompt_in(b"") is None


def test_a_long_line_costs_no_backtracking() -> None:
    tails = [b"x" * 2048, (b"some shell output\r\n" * 120)[-2048:], b"code " * 409 + b"?"]
    started = time.process_time()
    for _ in range(100):
        for tail in tails:
            prompt_in(tail)
    assert time.process_time() - started < 0.5  # the expression took 0.2 s for the first alone
