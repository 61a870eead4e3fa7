"""Which host a KoKo connection goes to: the core's "smart endpoint" (Luna's way).

``GET /api/v1/terminal/endpoints/smart/?protocol=<https|http>&token=<connection token>`` names
the endpoint serving the token's asset: matched by the asset's labels, then by its IP against
the endpoint rules, else the Default endpoint (``apps/terminal/api/component/endpoint.py``). An
empty ``host`` (the Default) means "where you reached the core"; otherwise KoKo for that asset
lives at ``host`` on ``https_port`` (``http_port`` for http), e.g. a KoKo inside the asset's zone.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from jsctl_daemon.jumpserver.config import ServerConfig

__all__ = ["koko_config"]


def koko_config(config: ServerConfig, endpoint: dict[str, Any]) -> ServerConfig:
    """The site to open KoKo WebSockets on for this endpoint (``config`` itself by default)."""
    host = str(endpoint.get("host") or "").strip()
    if not host:
        return config
    port = endpoint.get(f"{config.scheme}_port")
    port = port if isinstance(port, int) and 0 < port < 65536 else config.port
    if (host, port) == (config.host, config.port):
        return config
    shown = f"[{host}]" if ":" in host else host
    default = 443 if config.scheme == "https" else 80
    netloc = shown if port == default else f"{shown}:{port}"
    return dataclasses.replace(config, url=f"{config.scheme}://{netloc}{config.base_path}")
