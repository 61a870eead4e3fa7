"""`jsctl exec` on many assets, and `wait`/`logs` on a fleet handle (fleet-…)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, NoReturn

import click

from jsctl_protocol import ErrorCode, RpcError

from ..fleet_view import (
    exit_code,
    group_lines,
    group_results,
    output_text,
    progress_line,
    status_label,
    summary_line,
)
from ..rpc import DaemonClient
from ._app import Runtime
from ._render import table
from .run_cmds import EXIT_INTERRUPTED, EXIT_LOST, EXIT_TIMEOUT, EXIT_WAITING

# One asset's run, as `jsctl wait` on a single run exits (run_cmds).
_RUN_EXITS = {
    "timeout": EXIT_TIMEOUT,
    "interrupted": EXIT_INTERRUPTED,
    "waiting_input": EXIT_WAITING,
}


def run_fleet(rt: Runtime, params: dict[str, Any], *, dry_run: bool, yes: bool, detach: bool,
              prefix: bool, group: bool) -> NoReturn:  # fmt: skip
    """Run the fleet ``params`` describe and exit with its documented status."""
    client = rt.client()
    if dry_run:
        listing = client.call("fleet.start", **params, dry_run=True)
        if rt.json:
            for row in listing["assets"]:
                click.echo(json.dumps(row))
        else:
            table(["asset", "address"], [[r["asset"], r["address"]] for r in listing["assets"]])
            click.echo(f"{listing['total']} assets")
        sys.exit(0)
    params = {**params, "yes": yes or None}
    if detach:
        started = _confirmed(rt, lambda p: client.call("fleet.start", **p, wait=0.0), params)
        rt.emit(
            {"fleet": started["fleet"], "assets": started["counts"]["total"]},
            lambda r: click.echo(r["fleet"]),
        )
        sys.exit(0)
    view = _FleetView(rt, prefix=prefix)
    final = _confirmed(rt, lambda p: view.follow(client, p), params)
    view.clear_progress()
    if not rt.json:
        if group:
            for line in group_lines(group_results(view.results)):
                click.echo(line)
        elif not prefix:
            _print_outputs(view.results)
        if not group:
            _print_table(final["results"])
        took = time.monotonic() - view.started
        click.echo(f"{summary_line(final['counts'], took)} · {final['fleet']}", err=group)
    if view.interrupted:
        names = [r["asset"] for r in final["results"] if r["state"] in ("interrupted", "skipped")]
        click.echo(f"jsctl: interrupted: {', '.join(names) or 'none still running'}", err=True)
    sys.exit(exit_code(final["counts"], view.interrupted))


def _confirmed(rt: Runtime, call: Any, params: dict[str, Any]) -> Any:
    """Call; a selection over the configured size is confirmed by the person at a terminal."""
    try:
        return call(params)
    except RpcError as exc:
        count = (exc.data or {}).get("confirm") if isinstance(exc.data, dict) else None
        if exc.code != ErrorCode.LIMIT or not count or rt.json or not sys.stdin.isatty():
            raise
        if not click.confirm(f"run on {count} assets?", err=True):
            raise click.exceptions.Abort() from None
        return call({**params, "yes": True})


class _FleetView:
    """Follows one streamed fleet: progress at a terminal, results, --prefix lines, Ctrl-C."""

    def __init__(self, rt: Runtime, prefix: bool) -> None:
        self.rt, self.prefix = rt, prefix
        self.results: list[dict[str, Any]] = []
        self.handle: str | None = None
        self.interrupted = False
        self.started = time.monotonic()
        self._tty = sys.stderr.isatty() and not rt.json
        self._drawn = False
        self._partial: dict[str, bytes] = {}

    def follow(self, client: DaemonClient, params: dict[str, Any]) -> dict[str, Any]:
        stream = client.stream("fleet.start", **params, stream=True, follow=self.prefix or None)
        while True:  # a fresh pass over the stream resumes it after a Ctrl-C
            try:
                for item in stream:
                    self._feed(item)
                break
            except KeyboardInterrupt:
                if self.handle is None or self.interrupted:
                    raise
                self.interrupted = True
                with DaemonClient.connect(self.rt.paths, autostart=False) as interrupter:
                    interrupter.call("fleet.interrupt", handle=self.handle)
        for asset, rest in self._partial.items():  # a last line without its newline
            if rest:
                self._line(asset, rest)
        result: dict[str, Any] = stream.result
        return result

    def _feed(self, item: dict[str, Any]) -> None:
        if "fleet" in item:
            self.handle = item["fleet"]
        elif "counts" in item:
            if self._tty:
                sys.stderr.write(f"\r\x1b[K{self.handle}: {progress_line(item['counts'])}")
                sys.stderr.flush()
                self._drawn = True
        elif "result" in item:
            result = item["result"]
            self.results.append(result)
            if self.rt.json:
                click.echo(json.dumps({**_json_line(result), "fleet": self.handle}))
                sys.stdout.flush()  # each asset as it finishes, also into a pipe
            elif self.prefix:
                for line in output_text(result, "stderr").splitlines():
                    self._line(result["asset"], line.encode(), err=True)
                if result["outcome"] != "ok":
                    self._line(result["asset"], f"[{status_label(result)}]".encode())
        elif "data" in item:
            asset = item["asset"]
            lines = (self._partial.get(asset, b"") + item["data"]).split(b"\n")
            self._partial[asset] = lines.pop()
            for line in lines:
                self._line(asset, line.rstrip(b"\r"))

    def _line(self, asset: str, line: bytes, err: bool = False) -> None:
        self.clear_progress()
        click.echo(f"{asset}: {line.decode(errors='replace')}", err=err)
        sys.stdout.flush()  # line by line, also into a pipe (`| grep`)

    def clear_progress(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._drawn = False


def _json_line(result: dict[str, Any]) -> dict[str, Any]:
    """One asset as a JSON line: asset, account, exit status, stdout, stderr, duration, …"""
    line = {k: v for k, v in result.items() if k not in ("stdout", "stderr")}
    return {
        **line,
        "stdout": output_text(result),
        "stderr": output_text(result, "stderr"),
    }


def _print_outputs(results: list[dict[str, Any]]) -> None:
    for result in sorted(results, key=lambda r: r["asset"]):
        took = f", {result['duration_s']:.2f} s" if result.get("duration_s") is not None else ""
        click.echo(f"── {result['asset']} ({status_label(result)}{took})")
        for stream in ("stdout", "stderr"):  # both under the asset's name, as `pssh -i`
            text = output_text(result, stream)
            if text:
                click.echo("[stderr]" if stream == "stderr" else "", nl=stream == "stderr")
                click.echo(text, nl=not text.endswith("\n"))
        if result.get("truncated"):
            click.echo(f"[… more: jsctl logs {result['handle']}]")


def _print_table(results: list[dict[str, Any]]) -> None:
    rows = [
        [
            r["asset"],
            r["exit_status"] if r["state"] == "done" else r["state"],
            f"{r['duration_s']:.2f}s" if r.get("duration_s") is not None else "-",
            r["bytes"],
            r.get("handle") or "",
        ]
        for r in results
    ]
    table(["asset", "exit", "duration", "bytes", "handle"], rows)


# --- wait and logs on a fleet handle


def _split(target: str) -> tuple[str, str | None]:
    handle, _, asset = target.partition("/")
    return handle, asset or None


def _pick(fleet: dict[str, Any], asset: str) -> dict[str, Any]:
    results: list[dict[str, Any]] = fleet["results"]
    for result in results:
        if asset in (result["asset"], result["address"]):
            return result
    raise click.ClickException(f"fleet {fleet['fleet']} has no asset `{asset}`")


def fleet_wait(rt: Runtime, target: str, timeout: float | None) -> NoReturn:
    """`jsctl wait fleet-…[/ASSET]`: wait for all (or one asset), exit with the fleet status."""
    handle, asset = _split(target)
    fleet = rt.call("fleet.get", handle=handle, timeout=timeout if timeout is not None else 1e9)
    if asset is not None:
        result = _pick(fleet, asset)
        rt.emit(result, lambda r: click.echo(f"{r['asset']}: {status_label(r)}", err=True))
        if result["outcome"] in ("running", "pending"):
            sys.exit(EXIT_TIMEOUT)
        if result["state"] == "done" and result["exit_status"] is not None:
            sys.exit(int(result["exit_status"]))
        sys.exit(_RUN_EXITS.get(result["state"], EXIT_LOST))
    if fleet["state"] == "running":
        rt.emit(fleet, lambda f: click.echo(f"still running: {progress_line(f['counts'])}"))
        sys.exit(EXIT_TIMEOUT)

    def show(f: dict[str, Any]) -> None:
        _print_table(f["results"])
        click.echo(summary_line(f["counts"]))

    rt.emit(fleet, show)
    sys.exit(exit_code(fleet["counts"], fleet["state"] == "interrupted"))


def fleet_logs(rt: Runtime, target: str, wait_for_end: bool = False) -> None:
    """`jsctl logs fleet-…[/ASSET]`: every asset's output under its name (or one asset's);
    with --follow, once the fleet has ended."""
    handle, asset = _split(target)
    client = rt.client()
    fleet = client.call("fleet.get", handle=handle, timeout=1e9 if wait_for_end else None)
    results = [_pick(fleet, asset)] if asset is not None else fleet["results"]
    for result in results:
        if asset is None and not rt.json:
            click.echo(f"── {result['asset']} ({status_label(result)})")
        if result.get("handle") is None:
            continue
        offset = None
        while True:
            page = client.call("run.read", handle=result["handle"], offset=offset)
            if rt.json:
                text = page["data"].decode(errors="replace")
                click.echo(json.dumps({"asset": result["asset"], "data": text}))
            elif page["data"]:
                sys.stdout.buffer.write(page["data"].replace(b"\r\n", b"\n"))
                sys.stdout.buffer.flush()
            if not page["data"]:
                break
            offset = page["next_offset"]
