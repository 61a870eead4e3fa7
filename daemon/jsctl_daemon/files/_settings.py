"""Timing and size knobs of file sessions."""

from __future__ import annotations

from dataclasses import dataclass

from ..jumpserver.koko import KokoSettings

__all__ = ["FileSettings"]


@dataclass(frozen=True)
class FileSettings:
    """Knobs for one file session (seconds, bytes)."""

    connect_timeout: float = 20.0
    ping_interval: float = 25.0  # KoKo drops a reader that is silent for 5 minutes
    liveness: float = 120.0  # no frame at all for this long: the socket is dead
    reply_timeout: float = 120.0  # one request without an answer for this long: give up
    close_timeout: float = 3.0
    # One acknowledged chunk at a time (KoKo keys chunk state by id; its UI sends 5 MiB);
    # 2 MiB keeps the daemon flat (each chunk is copied a few times on its way to TLS).
    upload_chunk: int = 2 * 1024 * 1024
    max_message: int = 16 * 1024 * 1024  # a 2 MiB download chunk is ~2.8 MB of base64 JSON
    download_queue: int = 2  # chunks buffered per download; the socket backs up beyond that

    def koko(self) -> KokoSettings:
        """The socket-level subset, for the shared KoKo socket helpers."""
        return KokoSettings(
            connect_timeout=self.connect_timeout,
            ping_interval=self.ping_interval,
            liveness=self.liveness,
            close_timeout=self.close_timeout,
        )
