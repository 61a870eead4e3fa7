"""The sandbox's server stack is the `jsctl[sandbox]` extra: without it, one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Run the real CLI with the named modules made unimportable (as in an install without the extra).
PROGRAM = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None\n"
    "from jsctl_clients.entry import main\n"
    "sys.argv = ['jsctl', sys.argv[2]]\n"
    "main()\n"
)


@pytest.mark.parametrize("command", ["sandbox", "demo"])
@pytest.mark.parametrize("hidden", ["hypercorn", "starlette,PIL", "trustme", "pyotp"])
def test_without_the_extra_the_command_says_what_to_install(command: str, hidden: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, hidden, command], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install 'jsctl[sandbox]'" in lines[0]
    for name in hidden.split(","):
        assert name in lines[0]
    assert result.stdout == ""


def test_the_production_dependencies_leave_the_web_stack_out() -> None:
    from importlib.metadata import requires

    needs = requires("jsctl") or []
    base = [r for r in needs if "extra ==" not in r]
    sandbox = [r for r in needs if 'extra == "sandbox"' in r]
    for name in ("hypercorn", "starlette", "trustme", "pillow", "pyotp"):
        assert not any(r.lower().startswith(name) for r in base), base
        assert any(r.lower().startswith(name) for r in sandbox), sandbox
