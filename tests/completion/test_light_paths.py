"""The two start-up paths a person pays for most often stay light: a TAB press and `jsctl ping`
load none of the modules their time budget (issue #17's hot path) leaves no room for."""

from __future__ import annotations

import subprocess
import sys

from jsctl_fixtures import LoggedIn

# Runs the console script's entry point, then reports (on stderr) the modules it loaded beyond
# what the interpreter had at start (an editable install's import hook loads some early).
ENTRY = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "from jsctl_clients.entry import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write(' '.join(set(sys.modules) - before))\n"
)


def loaded_by(env: dict[str, str], *args: str) -> tuple[str, set[str]]:
    """What `jsctl ARGS` printed and the modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], env=env, capture_output=True, text=True, timeout=30
    )
    return done.stdout, set(done.stderr.split())


def test_a_tab_press_asking_the_daemon_loads_neither_click_nor_socket_py(
    shared_login: LoggedIn,
) -> None:
    env = {**shared_login.daemon.env, "_JSCTL_COMPLETE": "bash"}
    loaded_by(env, "profile", "use", "")  # the first TAB after an install builds the kept spec
    printed, modules = loaded_by(env, "profile", "use", "")
    assert printed == "plain\tdefault\t\n"  # the answer came from the daemon
    assert not modules & {"click", "socket", "selectors", "typing", "platformdirs", "pathlib"}


def test_ping_loads_no_socket_py_nor_the_method_table(shared_login: LoggedIn) -> None:
    loaded_by(shared_login.daemon.env, "ping")  # the first call after an install keeps the index
    printed, modules = loaded_by(shared_login.daemon.env, "ping")
    assert printed.startswith("pong (")
    assert "jsctl_clients.cli._app" in modules  # it did go through the CLI
    assert not modules & {"socket", "selectors", "platformdirs", "jsctl_protocol._methods"}
