"""The completion scripts in real shells: bash's complete -F function, zsh in a pty, fish.

Each test loads the script `jsctl completion SHELL` prints and asks the shell's own machinery.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from completion_shells import BIN, bash_complete, shell_env


def test_bash_completes_commands_subcommands_and_flags() -> None:
    assert bash_complete(["jsctl", "ex"]) == ["exec"]
    assert sorted(bash_complete(["jsctl", "daemon", "st"])) == ["start", "status", "stop"]
    assert bash_complete(["jsctl", "exec", "--acc"]) == ["--account"]
    assert sorted(bash_complete(["jsctl", "completion", ""])) == ["bash", "fish", "zsh"]


def test_bash_with_no_daemon_is_quiet_and_does_not_start_one(tmp_path: Path) -> None:
    assert bash_complete(["jsctl", "attach", ""]) == []
    assert bash_complete(["jsctl", "exec", "--profile", "=", ""]) == []
    home = Path(os.environ["JSCTL_HOME"])
    assert not (home / "run" / "jsctl.sock").exists()


def test_bash_falls_back_to_file_names_where_a_path_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "other").write_text("")
    monkeypatch.chdir(tmp_path)
    assert bash_complete(["jsctl", "client", "create", "ci", "--token-file", "no"]) == ["notes.txt"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_with_descriptions() -> None:
    def fish(line: str) -> list[str]:
        command = f"jsctl completion fish | source; complete -C {shlex.quote(line)}"
        done = subprocess.run(
            ["fish", "--no-config", "-c", command],
            env=shell_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    exec_line = fish("jsctl ex")
    assert len(exec_line) == 1 and exec_line[0].startswith("exec\tRun a command")
    assert [line.split("\t")[0] for line in fish("jsctl daemon st")] == ["start", "status", "stop"]
    assert fish("jsctl attach ") == []


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_through_compinit_in_a_pty(tmp_path: Path) -> None:
    script = tmp_path / "jsctl.zsh"
    done = subprocess.run(
        [f"{BIN}/jsctl", "completion", "zsh"], capture_output=True, text=True, check=True
    )
    script.write_text(done.stdout)
    capture = Path(__file__).with_name("zsh_capture.zsh")

    def zsh(line: str) -> list[str]:
        output = tmp_path / "candidates"
        output.write_text("")
        done = subprocess.run(
            ["zsh", "-f", str(capture), str(script), line, str(output)],
            env=shell_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return output.read_text().splitlines()

    assert zsh("jsctl ex") == ["exec"]
    assert zsh("jsctl daemon st") == ["start", "status", "stop"]
    assert zsh("jsctl exec --acc") == ["--account"]
    assert zsh("jsctl attach ") == []
