"""Constants front ends need without building the method table (a `jsctl exec` pays for imports)."""

from __future__ import annotations

# run.start's `stdin` is typed through the terminal; larger files go with `jsctl cp`.
MAX_STDIN_BYTES = 1 << 20
FLEET_HANDLE_PREFIX = "fleet-"  # fleet handles start with it; run handles never do
