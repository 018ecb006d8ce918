"""Network faults through a real Toxiproxy in front of the test's own echo server, real TCP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from onboarding_devstack.processes import free_port
from onboarding_devstack.toxics import Proxy, ProxyGroup, Toxiproxy
from onboarding_devstack.toxiproxy import api_url, ensure_toxiproxy, start_toxiproxy, stop_toxiproxy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 10.0  # seconds: a deadline for what should happen at once, never a wait

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Connect = Callable[[Proxy], Awaitable[Streams]]


@pytest.fixture(scope="module")
def toxiproxy_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    run_dir, port = tmp_path_factory.mktemp("toxiproxy"), free_port()
    start_toxiproxy(ROOT, run_dir, port)
    try:
        yield port
    finally:
        stop_toxiproxy(run_dir)


@pytest.fixture
async def api(toxiproxy_port: int) -> AsyncIterator[Toxiproxy]:
    async with Toxiproxy(api_url(toxiproxy_port)) as client:
        try:
            yield client
        finally:
            await client.delete_all()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # the faults under test
    finally:
        writer.close()


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Open a connection through a proxy; every one is closed when the test ends."""
    writers: list[asyncio.StreamWriter] = []

    async def opened(proxy: Proxy) -> Streams:
        async with asyncio.timeout(WITHIN):
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writers.append(writer)
        return reader, writer

    yield opened
    for writer in writers:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def round_trip(streams: Streams, data: bytes = b"ping") -> bytes:
    reader, writer = streams
    async with asyncio.timeout(WITHIN):
        writer.write(data)
        await writer.drain()
        return await reader.readexactly(len(data))


async def closed(streams: Streams) -> bool:
    """The peer closed it (EOF) or reset it; waits at most WITHIN."""
    reader, _ = streams
    try:
        async with asyncio.timeout(WITHIN):
            return await reader.read(100) == b""
    except ConnectionResetError:
        return True


def test_install_is_idempotent() -> None:
    binary = ensure_toxiproxy(ROOT)
    assert binary.name == "toxiproxy-server"
    assert ensure_toxiproxy(ROOT) == binary
    assert (binary.parent / "installed").read_text().strip() == "v2.5.0"


async def test_data_passes(api: Toxiproxy, upstream: str, connect: Connect) -> None:
    proxy = await api.create("echo", "127.0.0.1:0", upstream)
    assert proxy.port != 0
    assert await round_trip(await connect(proxy)) == b"ping"


async def test_cut_closes_open_connections_and_refuses_new_ones_until_restored(
    api: Toxiproxy, upstream: str, connect: Connect
) -> None:
    proxy = await api.create("echo", "127.0.0.1:0", upstream)
    before = await connect(proxy)
    assert await round_trip(before) == b"ping"

    await proxy.cut()
    assert await closed(before)
    with pytest.raises(ConnectionRefusedError):
        await connect(proxy)

    await proxy.restore()
    assert await round_trip(await connect(proxy)) == b"ping"


async def test_latency_delays_the_answer(api: Toxiproxy, upstream: str, connect: Connect) -> None:
    proxy = await api.create("echo", "127.0.0.1:0", upstream)
    streams = await connect(proxy)
    await proxy.latency(300)
    began = time.monotonic()
    assert await round_trip(streams) == b"ping"
    assert time.monotonic() - began >= 0.3


async def test_timeout_stops_data_then_closes(
    api: Toxiproxy, upstream: str, connect: Connect
) -> None:
    proxy = await api.create("echo", "127.0.0.1:0", upstream)
    await proxy.timeout(200)
    streams = await connect(proxy)
    streams[1].write(b"ping")
    await streams[1].drain()
    assert await closed(streams)  # EOF, and the echo never came


async def test_reset_peer_resets_new_connections(
    api: Toxiproxy, upstream: str, connect: Connect
) -> None:
    proxy = await api.create("echo", "127.0.0.1:0", upstream)
    await proxy.reset_peer()
    with pytest.raises(ConnectionResetError):
        await round_trip(await connect(proxy))

    await proxy.clear()
    assert await round_trip(await connect(proxy)) == b"ping"


async def test_reset_enables_every_proxy_and_removes_every_toxic(
    api: Toxiproxy, upstream: str, connect: Connect
) -> None:
    slow = await api.create("slow", "127.0.0.1:0", upstream)
    down = await api.create("down", "127.0.0.1:0", upstream)
    await slow.latency(1000, jitter_ms=100)
    await slow.latency(2000)  # asking again changes it
    await slow.timeout(0, stream="upstream")
    await down.cut()

    await api.reset()

    for proxy in (slow, down):
        state = await api.request("GET", f"/proxies/{proxy.name}")
        assert (state["enabled"], state["toxics"]) == (True, [])
        assert await round_trip(await connect(proxy)) == b"ping"


async def test_group_breaks_every_proxy_together(
    api: Toxiproxy, upstream: str, connect: Connect
) -> None:
    """One proxy per broker listener: a cut link cuts every connection of the client."""
    group = ProxyGroup([await api.create(f"broker-{n}", "127.0.0.1:0", upstream) for n in (1, 2)])
    open_ones = [await connect(proxy) for proxy in group.proxies]

    await group.cut()
    for streams in open_ones:
        assert await closed(streams)
    for proxy in group.proxies:
        with pytest.raises(ConnectionRefusedError):
            await connect(proxy)

    await group.restore()
    await group.latency(200)
    toxics = [await api.request("GET", f"/proxies/{p.name}/toxics") for p in group.proxies]
    assert [[t["attributes"]["latency"] for t in each] for each in toxics] == [[200], [200]]
    await group.clear()
    for proxy in group.proxies:
        assert await round_trip(await connect(proxy)) == b"ping"
