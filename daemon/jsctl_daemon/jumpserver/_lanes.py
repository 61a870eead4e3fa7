"""REST requests on lanes: one-connection pools, one request on a lane at a time.

httpcore's pool walks every connection (and, for each idle one, every connection again) each
time a request comes or goes: with the 8 connections a fleet keeps busy, that was ~400 calls a
request. The connection's in-flight cap is the number of lanes busy at once, so a lane's pool
holds the one connection it reuses. Requests skip the client's layers too (auth flow,
redirects, hooks): the connection signs them itself and follows no redirects.
"""

from __future__ import annotations

import os
import ssl

import httpx

__all__ = ["Lanes", "environment_proxies"]


def environment_proxies() -> bool:
    """Whether the environment names a proxy (then the httpx client, which routes requests to
    it, sends them instead of the lanes)."""
    return any(
        value and name.lower().endswith("_proxy") and name.lower() != "no_proxy"
        for name, value in os.environ.items()
    )


class Lanes:
    """Transports of one connection each, taken one request at a time."""

    def __init__(self, verify: ssl.SSLContext | bool) -> None:
        self._verify = verify
        self._free: list[httpx.AsyncHTTPTransport] = []
        self._every: list[httpx.AsyncHTTPTransport] = []

    async def send(self, request: httpx.Request) -> httpx.Response:
        """The response, its body read and its connection back in its lane."""
        lane = self._free.pop() if self._free else self._new()
        try:
            response = await lane.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        finally:
            self._free.append(lane)
        response.request = request
        return response

    def _new(self) -> httpx.AsyncHTTPTransport:
        # A connection a cancelled request failed to give back never blocks the lane: it may
        # open another (max_connections=None), and keeps one for reuse.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=1)
        lane = httpx.AsyncHTTPTransport(verify=self._verify, limits=limits)
        self._every.append(lane)
        return lane

    async def aclose(self) -> None:
        """Close every lane's connection."""
        lanes, self._every, self._free = self._every, [], []
        for lane in lanes:
            await lane.aclose()
