"""`jsctl doctor`'s server-side checks, each a line: OK/FAIL, what was seen, and the fix."""

from __future__ import annotations

import ssl
from typing import Any

import trio

from ..jumpserver import ServerConfig
from ..jumpserver.errors import JumpServerError
from ._koko import describe
from ._profile import ProfileState

CHECK_TIMEOUT_S = 10.0


def check(name: str, ok: bool, detail: str, fix: str = "") -> dict[str, Any]:
    """One doctor line."""
    return {"name": name, "ok": ok, "detail": detail, "fix": "" if ok else fix}


async def network_checks(server: ServerConfig) -> list[dict[str, Any]]:
    """DNS, TCP and TLS to the server, stopping at the first failure."""
    results = []
    host, port = server.host, server.port
    with trio.move_on_after(CHECK_TIMEOUT_S) as scope:
        try:
            infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
            addresses = sorted({str(info[4][0]) for info in infos})
            results.append(check("dns", True, f"{host} → {', '.join(addresses)}"))
        except OSError as exc:
            return [
                check(
                    "dns",
                    False,
                    f"cannot resolve {host}: {exc}",
                    "check the URL's host name and your DNS/VPN",
                )
            ]
        try:
            stream = await trio.open_tcp_stream(host, port)
            results.append(check("tcp", True, f"connected to {host}:{port}"))
        except OSError as exc:
            return [
                *results,
                check(
                    "tcp",
                    False,
                    f"cannot connect to {host}:{port}: {exc}",
                    "check the port, firewall or VPN; jsctl needs only 443",
                ),
            ]
        if server.scheme == "https":
            context = server.ssl_context
            assert context is not None
            tls = trio.SSLStream(stream, context, server_hostname=host)
            try:
                await tls.do_handshake()
                detail = (
                    "certificate verified" if not server.insecure else "NOT verified (--insecure)"
                )
                results.append(check("tls", True, detail))
            except (ssl.SSLError, trio.BrokenResourceError) as exc:
                cause = exc.__cause__ or exc
                results.append(
                    check(
                        "tls",
                        False,
                        f"TLS handshake failed: {cause}",
                        "pass --ca-file with your company's CA bundle "
                        "(or --insecure to skip verification, not recommended)",
                    )
                )
            finally:
                await tls.aclose()
        else:
            await stream.aclose()
            results.append(check("tls", True, "plain http (no TLS): fine only for a local sandbox"))
    if scope.cancelled_caught:
        results.append(
            check(
                "network",
                False,
                f"no answer within {CHECK_TIMEOUT_S:.0f} s",
                "check the URL, VPN and proxy settings",
            )
        )
    return results


async def server_checks(state: ProfileState) -> list[dict[str, Any]]:
    """JumpServer health, REST auth, web session, Web CLI availability and KoKo."""
    api = state.api
    results = []
    try:
        health = await api.health()
        results.append(check("jumpserver", True, f"core health: {health.get('status', 'ok')}"))
    except JumpServerError as exc:
        results.append(
            check(
                "jumpserver",
                False,
                str(exc),
                "is this the JumpServer's base URL (https://host, no path)?",
            )
        )
        return results
    try:
        profile = await api.profile()
        via = "access key" if state.credentials.access_key_id else "web session"
        refused = state.connection.key_refused
        if refused is not None and state.credentials.access_key_id:
            results.append(
                check(
                    "access-key",
                    False,
                    f"JumpServer refuses the access key ({refused}): it was revoked on the "
                    "server; REST calls fall back to the web session",
                    f"run `jsctl login --profile {state.name}` (it creates a new key)",
                )
            )
            via = "web session"
        results.append(check("rest-auth", True, f"signed in as {profile.username} via {via}"))
    except JumpServerError as exc:
        results.append(
            check(
                "rest-auth",
                False,
                str(exc.for_profile(state.name)),
                f"run `jsctl login --profile {state.name}`",
            )
        )
    try:
        alive = await api.web_session_alive()
    except JumpServerError as exc:
        alive, why = False, str(exc)
    else:
        why = "the web session has expired"
    state.mark_web_session(alive, "has expired")
    koko = await describe(state, alive)
    if alive:
        results.append(check("web-session", True, "logged in (terminals can open)"))
    elif koko["via"] == "access_key":
        detail = f"{why} (not needed: KoKo takes the access key)"
        results.append(check("web-session", True, detail))
    else:
        results.append(
            check(
                "web-session",
                False,
                why,
                f"run `jsctl login --profile {state.name}` (terminals need it)",
            )
        )
    results.append(
        check(
            "koko-auth",
            koko["via"] == "access_key" or alive,
            f"terminals and file sessions use the {koko['detail']}",
            f"run `jsctl login --profile {state.name}`",
        )
    )
    try:
        methods = await api.connect_methods()
        web_cli = any(m.get("value") == "web_cli" for m in methods.get("ssh", []))
        results.append(
            check(
                "web-cli",
                web_cli,
                "Web CLI (KoKo) is offered for ssh"
                if web_cli
                else "the server offers no Web CLI for ssh",
                "ask the JumpServer admin to enable KoKo's Web CLI for your user",
            )
        )
    except JumpServerError as exc:
        results.append(check("web-cli", False, str(exc), "see the line above"))
    unrouted = (
        "start KoKo, or have the web proxy route /koko/ to it (JumpServer's nginx does); "
        "terminals and file transfers need it"
    )
    try:
        response = await state.connection.request(
            "GET", "/koko/health/", auth="cookie", allow=range(300, 600)
        )
    except JumpServerError as exc:
        results.append(check("koko", False, str(exc), unrouted))
    else:
        ok = response.status_code == 200
        detail = (
            "KoKo answers /koko/health/"
            if ok
            else f"KoKo is not reachable under /koko/: /koko/health/ answered HTTP "
            f"{response.status_code} (from the core, not KoKo)"
        )
        results.append(check("koko", ok, detail, unrouted))
    return results
