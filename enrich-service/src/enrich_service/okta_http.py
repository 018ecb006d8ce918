"""HTTP for the Okta client: GET an absolute URL, get an `httpx.Response` back.

`OktaHttp` is the port. `httpx.AsyncClient` fits it (the client's tests hand it one with a
`MockTransport`); production uses `AiohttpOkta`, one long-lived aiohttp session. Why not
httpx there: at hundreds of calls a second the enrich-service's CPU was the limit, and
httpx spent most of it (measured per call: httpcore + h11 ~1-3 ms as its pool grows,
httpx's own URL, header and cookie handling ~0.2-0.3 ms more, against ~0.2 ms for aiohttp,
whose parser and pool are in C). Answers still come back as `httpx.Response` (the body read
whole: Okta answers small JSON pages), so parsing, `Link` and error handling are shared.

Every call has a total deadline (`timeout_s`, from the request to the last byte of the
body): a server that trickles its answer a byte at a time never resets it, as it would a
read timeout.

aiohttp errors become httpx's, so callers see one tree (`httpx.TransportError`):

    ConnectionTimeoutError  -> httpx.ConnectTimeout
    other timeouts, and the total deadline -> httpx.ReadTimeout
    ClientConnectorError    -> httpx.ConnectError
    ServerDisconnectedError -> httpx.RemoteProtocolError
    ClientPayloadError      -> httpx.ReadError
    other ClientError       -> httpx.NetworkError
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import httpx


class OktaHttp(Protocol):
    @property
    def base_url(self) -> httpx.URL: ...
    async def get(self, url: str) -> httpx.Response: ...
    async def aclose(self) -> None: ...


class AiohttpOkta:
    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        timeout_s: float,
        connect_timeout_s: float,
        max_connections: int,
        keepalive_expiry_s: float = 5.0,
    ) -> None:
        self._base_url = httpx.URL(base_url)
        # httpx decodes the body (`auto_decompress=False` below): offer only what it reads.
        self._headers = {"Accept-Encoding": "gzip, deflate", **headers}
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_s, sock_connect=connect_timeout_s, sock_read=timeout_s
        )
        self._total_s = timeout_s
        self._max_connections = max_connections
        self._keepalive_expiry_s = keepalive_expiry_s
        self._proxy = env_proxy(base_url)
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> httpx.URL:
        return self._base_url

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: an aiohttp session belongs to the running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    keepalive_timeout=self._keepalive_expiry_s,
                    ssl=httpx.create_ssl_context(),  # the CAs httpx trusts (certifi, SSL_CERT_*)
                ),
                headers=self._headers,
                timeout=self._timeout,
                proxy=self._proxy,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # Okta's API needs no cookies
            )
        return self._session

    async def get(self, url: str) -> httpx.Response:
        try:
            async with (
                asyncio.timeout(self._total_s),
                self._client().get(url, allow_redirects=False) as answer,
            ):
                content = await answer.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timeout") from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timeout") from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except aiohttp.ClientPayloadError as exc:
            raise httpx.ReadError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.NetworkError(str(exc) or type(exc).__name__) from exc
        return httpx.Response(answer.status, headers=answer.raw_headers, content=content)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (`HTTPS_PROXY`, `NO_PROXY`...), as httpx
    honours it. Looked up once: aiohttp's own lookup (`trust_env`) runs on every request
    and costs ~0.5 ms each."""
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")
