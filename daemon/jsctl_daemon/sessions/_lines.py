"""The shell lines a run types: its command wrapped in markers, probes, and an agent's guard loop.

Two ways to run a command, chosen per run:

* **A child shell** (``exec``, the default, as ``ssh host 'cmd'`` does): the session's shell
  runs the command in a subshell ``( eval 'cmd' )`` — or, when it uses ``$$``, ``$PPID`` or
  ``logout``, which a subshell would take as the session shell's, in ``"$SHELL" -c 'cmd'`` —
  and prints the markers itself, around the child. Whatever the
  command does to its shell — ``exit 3``, ``set -e`` then a failure, ``exec prog``,
  ``kill $$`` — ends only the child, so the END marker always carries the command's own
  status and the session's shell is at its prompt again for the next command. Standard error
  goes to a private file (``mktemp``, 0600, one per session and reused) whose content is
  printed after a STDERR marker, so the daemon can hand stdout and stderr back apart. Non-
  interactive defaults (no pagers, no debconf questions) are set for the child only, so a
  person's own shell keeps its environment.

* **The session's shell itself** (``keep``, for agents: ``cd`` and variables persist between
  runs). An EXIT trap, set only while the command runs, prints a QUIT marker with the status
  when the command makes the shell exit, and ``kill $$`` is turned into ``exit 143`` (an
  interactive shell would ignore it). ``exec prog`` leaves no trap behind, so sessions opened
  for agents run their shell under a guard loop that prints a REPLACED marker with the ended
  shell's status and starts a new one: the run still ends with the command's status and the
  next run finds a (fresh) shell.

Everything typed is POSIX sh, so bash, zsh and dash all run it. A leading space keeps lines out
of history where ``HISTCONTROL`` ignores such lines.
"""

from __future__ import annotations

import base64
import re

from ._markers import MarkerKind, printf_marker, quote_for_shell

# Set for exec's child shells and agents' sessions, never in a person's shell.
NONINTERACTIVE_ENV = (
    "PAGER=cat GIT_PAGER=cat MANPAGER=cat SYSTEMD_PAGER= SYSTEMD_LESS= "
    "DEBIAN_FRONTEND=noninteractive"
)
_CHILD_SHELL = '"${SHELL:-/bin/sh}"'
# A subshell ends with `exit`, `set -e` or `exec` as a child shell does, but `$$` (and $PPID)
# would still name the session's shell and `logout` would ask it: such commands get a real
# child shell, as `ssh host 'cmd'` gives them.
_NEEDS_OWN_SHELL = re.compile(r"\$\$|\$\{\$\}|PPID|BASHPID|\blogout\b|\bsuspend\b")
# One private stderr file per session, created on first use; /dev/tty (merged) without mktemp.
_ERR = "_jsctl_e"
_ERR_SETUP = f' : "${{{_ERR}:=$(mktemp 2>/dev/null || echo /dev/tty)}}";'
_STDIN_FILE = "_jsctl_in"
_STDIN_DECODED = "_jsctl_in_ok"
_STDIN_LINE = 76  # base64 characters a typed line
_STDIN_FAILED = (
    "jsctl: the asset could not decode the standard input (are mktemp and base64 there?)"
)


def exec_line(
    command: str,
    token: str,
    *,
    stdin_from_terminal: bool,
    stdin: bytes | None = None,
    keep_state: bool = False,
    stderr_apart: bool = True,
) -> bytes:
    """The keystrokes that run ``command`` between a BEGIN and an END marker.

    With ``stdin`` the data goes ahead as a base64 here-document decoded into a temporary file
    the command reads (typed before BEGIN, so its echo is never part of the run's output).
    ``stderr_apart`` applies to child shells only (a kept shell has one terminal stream).
    """
    head = b""
    if stdin is not None:
        head = _stdin_lines(stdin, token)
        source = f' <"${_STDIN_FILE}"'
    else:
        source = "" if stdin_from_terminal else " </dev/null"
    quoted = quote_for_shell(command)
    if keep_state:
        run = f" eval {quoted}{source}"
        quit_marker = _double_quoted(printf_marker(MarkerKind.QUIT, token, "$?"))
        before = f' trap "{quit_marker}" EXIT; trap "exit 143" TERM;'
        after = " _jsctl_s=$?; trap - EXIT;"
        stderr = ""
    else:
        apart = stderr_apart
        if _NEEDS_OWN_SHELL.search(command):
            run = f" {NONINTERACTIVE_ENV} {_CHILD_SHELL} -c {quoted}{source}"
        else:  # a subshell: the same guarantees without starting a shell program (faster)
            run = f" ( export {NONINTERACTIVE_ENV}; eval {quoted} ){source}"
        if apart:
            run += f' 2>"${_ERR}"'
        before = ""
        after = " _jsctl_s=$?;"
        stderr = (
            f" {printf_marker(MarkerKind.STDERR, token)};"
            f' if [ -s "${_ERR}" ]; then cat "${_ERR}"; : >"${_ERR}"; fi;'
            if apart
            else ""
        )
    if stdin is not None:
        run = (
            f' if [ "${_STDIN_DECODED}" = 0 ]; then{run};'
            f" else echo '{_STDIN_FAILED}' >&2; false; fi"
        )
        after += f' rm -f "${_STDIN_FILE}";'
    setup = _ERR_SETUP if (not keep_state and stderr_apart) else ""
    line = (
        f"{setup} {printf_marker(MarkerKind.BEGIN, token)};{before}{run};{after}{stderr}"
        f" {printf_marker(MarkerKind.END, token, '$_jsctl_s')}\n"
    )
    return head + line.encode("utf-8")


def _double_quoted(text: str) -> str:
    """``text`` escaped for use between double quotes (the shell gives it back unchanged)."""
    return "".join("\\" + ch if ch in '\\"$`' else ch for ch in text)


def _stdin_lines(data: bytes, token: str) -> bytes:
    encoded = base64.b64encode(data)
    lines = [encoded[i : i + _STDIN_LINE] for i in range(0, len(encoded), _STDIN_LINE)]
    end = f"JSCTL_IN_{token}".encode()
    head = (
        f" {_STDIN_FILE}=$(mktemp) && base64 -d >\"${_STDIN_FILE}\" <<'{end.decode()}';"
        f" {_STDIN_DECODED}=$?\n"
    ).encode()
    return head + b"".join(line + b"\n" for line in lines) + end + b"\n"


def probe_line(token: str, *, stderr_of: str | None = None) -> bytes:
    """A line whose marker proves the shell reads commands again and reports the last status.

    ``stderr_of`` (the interrupted run's token): first print that run's STDERR marker and what
    its command wrote to the stderr file, which Ctrl-C kept the run's own line from printing.
    """
    stderr = ""
    if stderr_of is not None:
        stderr = (
            f" {printf_marker(MarkerKind.STDERR, stderr_of)};"
            f' if [ -s "${_ERR}" ]; then cat "${_ERR}"; : >"${_ERR}"; fi;'
        )
    return f" _jsctl_s=$?;{stderr} {printf_marker(MarkerKind.PROBE, token, '$_jsctl_s')}\n".encode()


def exec_setup_line() -> bytes:
    """Typed once into a session of exec's pool: its stderr file, removed when the shell ends.

    (Runs in other sessions create the file on first use and leave it behind, empty.)
    """
    return (
        f" {_ERR}=$(mktemp 2>/dev/null || echo /dev/tty);"
        f' trap \'[ -f "${_ERR}" ] && rm -f "${_ERR}"\' EXIT\n'
    ).encode()


def guard_line(token: str) -> bytes:
    """The line that puts an agent's session under a guard loop (see the module docstring).

    The loop stops when a shell cannot be started (status 126 or more), leaving the session's
    own shell in charge rather than spinning.
    """
    replaced = printf_marker(MarkerKind.REPLACED, token, "$_jsctl_g")
    return (
        f" export {NONINTERACTIVE_ENV}; while :; do {_CHILD_SHELL} -i; _jsctl_g=$?;"
        f" {replaced}; [ $_jsctl_g -lt 126 ] || break; done\n"
    ).encode()
