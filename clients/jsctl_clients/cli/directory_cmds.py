"""`jsctl assets`, `asset show`, `accounts`, `nodes` and `connect-methods`."""

from __future__ import annotations

import unicodedata
from typing import Any

import click

from ._app import json_option, runtime
from ._render import age, table

profile_option = click.option("--profile", "-p", help="Profile (default: the default one).")
org_option = click.option("--org", help="Organisation name or id for this call.")
refresh_option = click.option("--refresh", is_flag=True, help="Re-read from the server first.")
_CELL = 40  # widest cell in a table before it is shortened


def cell(text: Any, width: int = _CELL) -> str:
    """Text safe for a terminal (control characters escaped) and at most ``width`` long."""
    raw = "" if text is None else str(text)
    safe = "".join(
        ch if not unicodedata.category(ch).startswith("C") else ch.encode("unicode_escape").decode()
        for ch in raw
    )
    return safe if len(safe) <= width else safe[: width - 1] + "…"


def _human(rt: Any) -> bool:
    """Tables only for a person at a terminal; JSON for --json and for pipes and scripts."""
    return bool(rt.tables)


def _footer(result: dict[str, Any], shown: int) -> None:
    total = result["total"]
    more = f" of {total}" if shown < total else ""
    note = f"{shown}{more} asset{'s' if total != 1 else ''}, cached {age(result['cached_at'])} ago"
    if result.get("stale"):
        note += " (refreshing in the background)"
    click.echo(note + "; --refresh re-reads the server", err=True)
    if result.get("warning"):
        click.echo(f"warning: the last refresh failed: {result['warning']}", err=True)


def _print_assets(result: dict[str, Any]) -> None:
    rows = [
        (
            cell(a["name"]),
            cell(a["address"]),
            cell(a["platform"], 16),
            cell(", ".join(a["nodes"])),
            cell(",".join(a["protocols"]) or "-", 20),
            cell(a["comment"]),
        )
        for a in result["assets"]
    ]
    if rows:
        table(("name", "address", "platform", "node", "protocols", "comment"), rows)
    else:
        click.echo("no permitted assets match", err=True)
    _footer(result, len(rows))


@click.command()
@click.argument("pattern", required=False)
@click.option("--node", help="Only assets under this node (path such as /DEFAULT/web, or id).")
@click.option("--protocol", help="Only assets offering this protocol, e.g. ssh.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@refresh_option
@profile_option
@org_option
@json_option
def assets(
    pattern: str | None,
    node: str | None,
    protocol: str | None,
    limit: int | None,
    refresh: bool,
    profile: str | None,
    org: str | None,
) -> None:
    """List the assets you may use. PATTERN is a substring or a glob (web-*) of name or address.

    Answers come from the daemon's cache (refreshed in the background); a table at a
    terminal, JSON otherwise.
    """
    rt = runtime()
    result = rt.call(
        "assets.list",
        pattern=pattern,
        node=node,
        protocol=protocol,
        limit=limit,
        refresh=refresh or None,
        profile=profile,
        org=org,
    )
    rt.emit(result, _print_assets if _human(rt) else None)


def _print_asset(result: dict[str, Any]) -> None:
    asset = result["asset"]
    for label, key in (
        ("name", "name"),
        ("address", "address"),
        ("id", "id"),
        ("platform", "platform"),
        ("org", "org_id"),
        ("comment", "comment"),
    ):
        click.echo(f"{label:10} {cell(asset[key], 200)}")
    click.echo(f"{'nodes':10} {cell(', '.join(asset['nodes']), 200)}")
    protocols = ", ".join(f"{p['name']}/{p['port']}" for p in asset["protocols"])
    click.echo(f"{'protocols':10} {protocols or '-'}")
    click.echo("accounts:")
    _print_accounts(asset)


@click.group()
def asset() -> None:
    """Look at one asset."""


@asset.command("show")
@click.argument("ref")
@refresh_option
@profile_option
@org_option
@json_option
def asset_show(ref: str, refresh: bool, profile: str | None, org: str | None) -> None:
    """Show asset REF (name, address or id; a unique prefix will do)."""
    rt = runtime()
    result = rt.call("assets.show", asset=ref, refresh=refresh or None, profile=profile, org=org)
    rt.emit(result, _print_asset if _human(rt) else None)


def _print_accounts(result: dict[str, Any]) -> None:
    rows = [
        (
            cell(a["name"]),
            cell(a["username"]),
            a["alias"] if a["is_virtual"] else cell(a["alias"]),
            "yes" if a["has_secret"] else "no",
            ",".join(a["actions"]),
        )
        for a in result["accounts"]
    ]
    if rows:
        table(("name", "username", "alias", "secret", "actions"), rows)
    else:
        click.echo("no account on this asset is permitted to you", err=True)


@click.command()
@click.argument("ref")
@profile_option
@org_option
@json_option
def accounts(ref: str, profile: str | None, org: str | None) -> None:
    """List the accounts you may use on asset REF (connect with the name or alias)."""
    rt = runtime()
    result = rt.call("accounts.list", asset=ref, profile=profile, org=org)
    rt.emit(result, _print_accounts if _human(rt) else None)


def _print_nodes(result: dict[str, Any], tree: bool) -> None:
    if not tree:
        table(
            ("path", "assets"), [(cell(n["path"], 80), n["assets_amount"]) for n in result["nodes"]]
        )
        return
    for node in result["nodes"]:
        depth = node["key"].count(":")
        click.echo(f"{'  ' * depth}{cell(node['name'], 80)} ({node['assets_amount']})")


@click.command()
@click.option("--tree", is_flag=True, help="Draw the nodes as a tree.")
@refresh_option
@profile_option
@org_option
@json_option
def nodes(tree: bool, refresh: bool, profile: str | None, org: str | None) -> None:
    """List the nodes (folders) that hold your assets."""
    rt = runtime()
    result = rt.call("nodes.list", refresh=refresh or None, profile=profile, org=org)
    rt.emit(result, (lambda r: _print_nodes(r, tree)) if _human(rt) else None)


def _print_methods(result: dict[str, Any]) -> None:
    for protocol, methods in sorted(result["methods"].items()):
        names = ", ".join(
            f"{m.get('value')} ({m.get('component')}, {m.get('type')})" for m in methods
        )
        click.echo(f"{cell(protocol, 20):10} {names}")


@click.command("connect-methods")
@profile_option
@json_option
def connect_methods(profile: str | None) -> None:
    """Show how the server lets you connect, per protocol (jsctl uses web_cli over 443)."""
    rt = runtime()
    result = rt.call("connect_methods", profile=profile)
    rt.emit(result, _print_methods if _human(rt) else None)


__all__ = ["accounts", "asset", "assets", "connect_methods", "nodes"]
