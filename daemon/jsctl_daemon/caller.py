"""Who is calling: a neutral module the RPC layer, policy and audit all use (none imports the
others for it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """Who is calling: the human's own front end, or a named agent client."""

    kind: str  # "human" or "client"
    name: str
    owner: str = "human"  # what owns its sessions and runs: stable, never a bare display name

    @property
    def is_human(self) -> bool:
        """True for the person's own CLI (no client token)."""
        return self.kind == "human"

    @property
    def scope(self) -> str | None:
        """The owner whose things this caller may see: None (everything) for the person."""
        return None if self.is_human else self.owner


HUMAN = Identity("human", "human", "human")
