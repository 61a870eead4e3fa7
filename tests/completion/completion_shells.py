"""Helpers that drive the completion scripts in real shells."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

BIN = str(Path(sys.executable).parent)  # holds the `jsctl` console script


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}


def bash_complete(words: list[str], script: str | None = None) -> list[str]:
    """COMPREPLY for a line whose last word is under the cursor (bash splits --opt=v itself)."""
    line = " ".join(words)
    driver = f"""
        {script or "source <(jsctl completion bash)"}
        COMP_WORDS=({" ".join(shlex.quote(w) for w in words)})
        COMP_CWORD={len(words) - 1}
        COMP_LINE={shlex.quote(line)}
        COMP_POINT=${{#COMP_LINE}}
        spec=$(complete -p jsctl); fn=${{spec#*-F }}; fn=${{fn%% *}}
        "$fn" jsctl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", driver],
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return [line for line in done.stdout.splitlines() if line]
