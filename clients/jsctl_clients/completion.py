"""Shell completion fast path: `_JSCTL_COMPLETE=<shell> jsctl WORD... CURRENT` prints candidates.

Subcommands and flags come from the static spec (derived from the click commands and kept);
asset, account, session, profile, client and node names from the daemon's cache, asked with a
short timeout. Never starts the daemon, never prints an error into the line, and imports click
only when the kept spec is stale.
"""

from __future__ import annotations

import _socket  # the C socket type: socket.py (selectors, array) would cost a TAB ~2 ms
import os
import sys

from ._completion_engine import DAEMON_KINDS, Want, analyse, join_equals

TYPE_CHECKING = False  # not from typing: importing typing costs more than a completion
if TYPE_CHECKING:
    from ._completion_types import Spec

DAEMON_TIMEOUT_S = 0.3  # per socket operation: a slow or starting daemon yields nothing
NAME = "jsctl-complete"


def complete_main(argv: list[str] | None = None) -> int:
    """Print one `type<TAB>value<TAB>help` line per candidate (type: plain, file or dir)."""
    shell = os.environ.get("_JSCTL_COMPLETE", "bash")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        lines = candidates(shell, args)
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        sys.stdout.flush()
    except Exception:  # a broken completion must never spill into the user's prompt
        return 0
    return 0


def candidates(shell: str, args: list[str], spec: Spec | None = None) -> list[str]:
    """The output lines for a command line split into words (the last one under the cursor)."""
    if spec is None:
        spec = kept_spec()
    if shell == "bash":
        args = join_equals(args)  # bash splits --opt=value at "="; click sees one word
    words, current = (args[:-1], args[-1]) if args else ([], "")
    want = analyse(spec, words, current)
    lead = "" if shell == "bash" else want.lead  # bash completes only the text after "="
    if want.kind in ("file", "dir"):
        return [f"{want.kind}\t\t"]
    found = list(want.static)
    if want.kind in DAEMON_KINDS:
        found += [(name, "") for name in daemon_candidates(want)]
    return [f"plain\t{lead}{_clean(value)}\t{_clean(help_)}" for value, help_ in found]


def kept_spec() -> Spec:
    """Completion's spec: a view of the click commands, kept until one of them changes."""
    from ._views import load, spec_sources

    return load("spec", _build_spec, spec_sources())  # type: ignore[return-value]


def _build_spec() -> object:
    from ._completion_gen import build_spec  # imports click and every command: only when stale

    return build_spec()


def _clean(text: str) -> str:
    """One line, no tabs: the output is line- and tab-separated."""
    return " ".join(text.split()) if text else ""


def daemon_candidates(want: Want) -> list[str]:
    """Names of ``want.kind`` from the running daemon's cache; [] when it cannot answer at once."""
    from jsctl_paths import Paths

    path = Paths.from_env().socket_name
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(DAEMON_TIMEOUT_S)
        sock.connect(path)
    except OSError:
        sock.close()
        return []  # no daemon: completing is no reason to start one
    from jsctl_protocol import RpcError

    from .rpc import CallStream, DaemonClient, DaemonUnreachable

    params = {"kind": want.kind, "prefix": want.prefix, **want.context}
    with DaemonClient(sock) as client:
        try:  # both frames at once: the daemon answers them in order, one wait instead of two
            hello_id = client.say_hello(NAME)
            complete_id = client.next_id()
            client.send_request(complete_id, "complete", params)
            _ = CallStream(client, hello_id).result
            result = CallStream(client, complete_id).result
        except (RpcError, DaemonUnreachable, OSError):
            return []
    items = result.get("items", []) if isinstance(result, dict) else []
    return [str(item) for item in items if str(item).startswith(want.prefix)]
