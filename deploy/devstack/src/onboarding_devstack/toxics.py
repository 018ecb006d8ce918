"""A typed async client for the Toxiproxy 2.5 HTTP API: proxies and the faults put on them.

    async with Toxiproxy(api_url(port)) as api:
        proxy = await api.create("okta", "127.0.0.1:0", "127.0.0.1:8010")  # listen: a free port
        await proxy.latency(300)                  # each chunk towards the client waits 300 ms
        await proxy.timeout(0)                    # data stops; the connection stays open
        await proxy.reset_peer()                  # connections made from now on get a TCP RST
        await proxy.cut()                         # open connections closed, new ones refused
        await api.reset()                         # every proxy enabled, every toxic removed

A toxic acts on one direction: `downstream` (server to client, the default) or `upstream`.
One of a kind per direction: asking again changes its attributes. `reset_peer` sends a RST
(SO_LINGER 0) only on connections opened after it was added; open ones are closed with a FIN.
`ProxyGroup` breaks several proxies at once: one per broker listener of a Kafka client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import httpx

Stream = Literal["downstream", "upstream"]


class ToxiproxyError(RuntimeError):
    """The API refused a request; `status` is its HTTP status (404 unknown, 409 exists)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"toxiproxy: {status} {message}")
        self.status = status


class Toxiproxy:
    """The API of one server; owns one HTTP client (close it, or use `async with`)."""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self._http = httpx.AsyncClient(base_url=base_url, timeout=10.0, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, body: object = None) -> Any:
        response = await self._http.request(method, path, json=body)
        if response.is_error:
            try:
                message = str(response.json()["error"])
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise ToxiproxyError(response.status_code, message)
        return response.json() if response.content else None

    async def version(self) -> str:
        response = await self._http.get("/version")
        response.raise_for_status()
        return response.text

    async def create(self, name: str, listen: str, upstream: str) -> Proxy:
        """A proxy listening on `listen` (`host:0` picks a free port) and enabled."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": True}
        return self._proxy(await self.request("POST", "/proxies", body))

    async def proxies(self) -> list[Proxy]:
        return [self._proxy(p) for p in (await self.request("GET", "/proxies")).values()]

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        await self.request("POST", "/reset")

    async def delete_all(self) -> None:
        await asyncio.gather(*(proxy.delete() for proxy in await self.proxies()))

    def _proxy(self, data: dict[str, Any]) -> Proxy:
        return Proxy(self, str(data["name"]), str(data["listen"]), str(data["upstream"]))


@dataclass(frozen=True)
class Proxy:
    api: Toxiproxy
    name: str
    listen: str  # the address it really listens on, once created
    upstream: str

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    async def cut(self) -> None:
        """Close every connection through it and refuse new ones (its listener is closed)."""
        await self.api.request("POST", f"/proxies/{self.name}", {"enabled": False})

    async def restore(self) -> None:
        """Listen again on the same address; toxics are kept (`clear` removes them)."""
        await self.api.request("POST", f"/proxies/{self.name}", {"enabled": True})

    async def latency(self, ms: int, jitter_ms: int = 0, stream: Stream = "downstream") -> None:
        await self._toxic("latency", stream, {"latency": ms, "jitter": jitter_ms})

    async def timeout(self, ms: int, stream: Stream = "downstream") -> None:
        """Data stops; the connection is closed after `ms` (0: never)."""
        await self._toxic("timeout", stream, {"timeout": ms})

    async def reset_peer(self, timeout_ms: int = 0, stream: Stream = "downstream") -> None:
        """A TCP RST `timeout_ms` after the first data in `stream` (new connections only)."""
        await self._toxic("reset_peer", stream, {"timeout": timeout_ms})

    async def clear(self) -> None:
        """Remove this proxy's toxics."""
        path = f"/proxies/{self.name}/toxics"
        toxics = await self.api.request("GET", path)
        await asyncio.gather(*(self.api.request("DELETE", f"{path}/{t['name']}") for t in toxics))

    async def delete(self) -> None:
        await self.api.request("DELETE", f"/proxies/{self.name}")

    async def _toxic(self, kind: str, stream: Stream, attributes: dict[str, int]) -> None:
        name, path = f"{kind}_{stream}", f"/proxies/{self.name}/toxics"
        body = {"name": name, "type": kind, "stream": stream, "toxicity": 1.0}
        try:
            await self.api.request("POST", path, {**body, "attributes": attributes})
        except ToxiproxyError as exc:
            if exc.status != 409:
                raise
            update = {"attributes": attributes, "toxicity": 1.0}
            await self.api.request("POST", f"{path}/{name}", update)


class ProxyGroup:
    """Several proxies broken together: every broker connection of one Kafka client, say."""

    def __init__(self, proxies: Iterable[Proxy]) -> None:
        self.proxies = tuple(proxies)

    async def _each(self, act: Callable[[Proxy], Awaitable[None]]) -> None:
        await asyncio.gather(*(act(proxy) for proxy in self.proxies))

    async def cut(self) -> None:
        await self._each(Proxy.cut)

    async def restore(self) -> None:
        await self._each(Proxy.restore)

    async def latency(self, ms: int, jitter_ms: int = 0, stream: Stream = "downstream") -> None:
        await self._each(lambda proxy: proxy.latency(ms, jitter_ms, stream))

    async def timeout(self, ms: int, stream: Stream = "downstream") -> None:
        await self._each(lambda proxy: proxy.timeout(ms, stream))

    async def reset_peer(self, timeout_ms: int = 0, stream: Stream = "downstream") -> None:
        await self._each(lambda proxy: proxy.reset_peer(timeout_ms, stream))

    async def clear(self) -> None:
        await self._each(Proxy.clear)
