"""Messages from JumpServer and KoKo reach people without the servers' `* ` decoration."""

from __future__ import annotations

from jsctl_daemon.jumpserver._responses import summarise_detail
from jsctl_daemon.jumpserver.errors import AuthFailed, KokoUnreachable, TerminalRefused, server_text


def test_leading_stars_are_stripped() -> None:
    assert server_text("* Connection token expired") == "Connection token expired"
    assert server_text("  ** * twice\n") == "twice"
    assert server_text("a * inside stays") == "a * inside stays"
    assert server_text("*") == ""
    assert summarise_detail({"detail": "* Account not found", "code": "x"}) == "Account not found"
    assert summarise_detail(["* one", "two"]) == "one; two"
    assert str(TerminalRefused("* Asset not reachable")) == (
        "KoKo refused the terminal: Asset not reachable"
    )
    assert AuthFailed("mfa_failed", "* OTP code invalid").server_message == "OTP code invalid"


def test_koko_unreachable_names_the_path_and_doctor() -> None:
    text = str(KokoUnreachable(500, "/jms"))
    assert "not reachable under /jms/koko/" in text and "jsctl doctor" in text
    assert "terminal" not in text
