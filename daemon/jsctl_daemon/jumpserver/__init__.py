"""The daemon's JumpServer client: REST, web login, access keys, request signing, KoKo terminals."""

from jsctl_daemon.jumpserver.api import JumpServerAPI
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.credentials import Credentials
from jsctl_daemon.jumpserver.koko import KokoHeartbeat, KokoSettings, KokoTerminal, open_terminal
from jsctl_daemon.jumpserver.signature import AccessKey
from jsctl_daemon.jumpserver.web_login import WebLogin

__all__ = [
    "AccessKey",
    "Connection",
    "Credentials",
    "JumpServerAPI",
    "KokoHeartbeat",
    "KokoSettings",
    "KokoTerminal",
    "ServerConfig",
    "WebLogin",
    "open_terminal",
]
