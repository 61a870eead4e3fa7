"""Is a session's shell idle at a prompt, free for a command? What a person's input and the
terminal's output say about it (pure helpers; the session keeps the state)."""

from __future__ import annotations

import re

from ._prompts import last_line

# Entering/leaving the alternate screen: a full-screen program (vi, less, top) holds the tty.
_ALT_SCREEN = re.compile(rb"\x1b\[\?(?:1049|1047|47)([hl])")
# A shell prompt's usual last character (bash/sh `$`, root `#`, zsh `%`); not `>` (a
# continuation prompt means a half-finished command, and `>>>` is a REPL).
_SHELL_PROMPT = re.compile(r"[$#%]\s?$")
_LINE_DONE = (b"\r", b"\n", b"\x03", b"\x04", b"\x15")  # Enter, Ctrl-C, Ctrl-D, Ctrl-U


class TerminalUse:
    """What others did to a terminal, as far as choosing it for a command goes."""

    __slots__ = (
        "_line_cleared",
        "full_screen",
        "line_pending",
        "typed_offset",
        "typed_since_run",
        "unresponsive",
    )

    def __init__(self) -> None:
        self.full_screen = False
        self.line_pending = False  # someone typed part of a line and not Enter
        self.typed_since_run = False  # someone typed since the last run started
        self.unresponsive = False  # a run's Ctrl-C and probes went unanswered
        self.typed_offset = 0  # the output's end when someone last typed
        self._line_cleared = False  # the last keys typed were Ctrl-U: no new line is printed

    def on_output(self, chunk: bytes) -> None:
        """Follow the alternate screen (cheap: a regex only when a private mode is set)."""
        if b"\x1b[?" in chunk:
            found = _ALT_SCREEN.findall(chunk)
            if found:
                self.full_screen = found[-1] == b"h"

    def on_typed(self, data: bytes, offset: int) -> None:
        """A client typed ``data`` when the output ended at ``offset``."""
        if not data:
            return
        self.typed_since_run = True
        self.typed_offset = offset
        self.unresponsive = False  # someone is dealing with the terminal
        self.line_pending = not data.endswith(_LINE_DONE)
        self._line_cleared = data.endswith(b"\x15")

    def on_run(self) -> None:
        """A run starts: from here on the session's input is the run's."""
        self.typed_since_run = False
        self.line_pending = False

    def why_busy(self, tail: bytes, since_typed: bytes | None) -> str | None:
        """Why the shell is not idle at a prompt, or None.

        ``tail`` is the newest output; ``since_typed`` what came after someone last typed
        (None when that is no longer buffered). After Enter the terminal must have answered (a
        new line) and show a prompt again; until then it counts as busy.
        """
        if self.unresponsive:
            return "a program holds its terminal (it did not answer Ctrl-C)"
        if self.full_screen:
            return "a full-screen program holds its screen"
        if self.line_pending:
            return "a line is half typed at its prompt"
        if self.typed_since_run:
            answered = (
                self._line_cleared
                or since_typed is None
                or b"\n" in since_typed
                or b"\r" in since_typed  # a full-screen program going leaves no newline
            )
            if not answered or not _SHELL_PROMPT.search(last_line(tail).rstrip("\r\n")):
                return "it is not back at a shell prompt since someone typed into it"
        return None
