"""Parameters several rows of the method table share."""

from __future__ import annotations

from ._table import Param

profile = Param("profile", "str", "profile name (default: the default profile)", max_len=64)
session = Param("session", "str", "session id or name", required=True, max_len=64)
handle = Param("handle", "str", "run handle", required=True, max_len=128)
asset = Param(
    "asset", "str", "asset name, address or id (unique prefix allowed)", required=True, max_len=256
)
account = Param("account", "str", "account name, username or alias", max_len=256)
org = Param("org", "str", "organisation id or name for this call", max_len=128)
timeout = Param("timeout", "float", "seconds to wait", minimum=0, maximum=1e9)
max_bytes = Param("max_bytes", "int", "at most this many bytes", minimum=0, maximum=16 << 20)
wait_output = Param("wait", "float", "seconds to wait for new output", minimum=0, maximum=1e9)
JSON_OK = "{ok: true}"
