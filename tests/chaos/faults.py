"""The faults of the proof, each applied while the load runs, each recorded as a window.

A window starts when the fault is applied and ends when it is taken away (the node is
started again, the link restored); how long the services took to be ready again after that
is the readiness probe's to tell. The waits here are the faults' own durations (a node
stays paused 30 s, a link cut 20 s), not synchronisation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from onboarding_devstack.cluster_run import ClusterRun
from onboarding_devstack.cluster_stack import SERVICES


@dataclass(frozen=True)
class FaultWindow:
    name: str
    started: float  # epoch seconds
    ended: float


@dataclass
class Faults:
    run: ClusterRun
    clock: Callable[[], float] = time.time
    # How long a killed process stays down before it is started again.
    down_s: float = 3.0
    windows: list[FaultWindow] = field(default_factory=list)

    async def _window(self, name: str, fault: Callable[[], Awaitable[None]]) -> None:
        started = self.clock()
        await fault()
        self.windows.append(FaultWindow(name, started, self.clock()))

    async def kill_leader_broker(self, topic: str = "hr.users.v1") -> None:
        """kill -9 of the node leading the topic's first partition, then start it again."""
        leader = await asyncio.to_thread(self.run.leader_of, topic, 0)

        async def fault() -> None:
            self.run.kill_node(leader)
            await asyncio.sleep(self.down_s)
            await self.run.restart_node(leader)

        await self._window(f"kill -9 kafka-{leader} (leader of {topic}/0)", fault)

    async def pause_broker(self, seconds: float = 30.0) -> None:
        """SIGSTOP of a node that leads nothing of ours in particular: the last one."""
        node = self.run.stack.kafka.nodes[-1].node_id

        async def fault() -> None:
            self.run.pause_node(node)
            await asyncio.sleep(seconds)
            self.run.resume_node(node)

        await self._window(f"SIGSTOP kafka-{node} for {seconds:.0f} s", fault)

    async def kill_each_replica(self) -> None:
        """kill -9 of every running replica of every service, one after the other."""
        for service in SERVICES:
            for index in self.run.running_replicas(service):

                async def fault(service: str = service, index: int = index) -> None:
                    self.run.kill_replica(service, index)
                    await asyncio.sleep(self.down_s)
                    self.run.start_replica(service, index)
                    await self.run.until_ready(service, index)

                await self._window(f"kill -9 {service}-{index}", fault)

    async def scale_enrich(self) -> None:
        """2 -> 3 -> 1 -> 2 replicas: rebalances with Okta calls in flight."""

        async def fault() -> None:
            self.run.start_replica("enrich-service", 3)
            await self.run.until_ready("enrich-service", 3)
            await asyncio.sleep(self.down_s)
            await asyncio.gather(
                asyncio.to_thread(self.run.stop_replica, "enrich-service", 2),
                asyncio.to_thread(self.run.stop_replica, "enrich-service", 3),
            )
            await asyncio.sleep(self.down_s)
            self.run.start_replica("enrich-service", 2)
            await self.run.until_ready("enrich-service", 2)

        await self._window("scale enrich-service 2 -> 3 -> 1 -> 2", fault)

    async def kill_ferretdb(self) -> None:
        async def fault() -> None:
            self.run.kill_ferretdb()
            await asyncio.sleep(self.down_s)
            await self.run.start_ferretdb()

        await self._window("kill -9 ferretdb", fault)

    async def cut_enrich_kafka(self, seconds: float = 20.0) -> None:
        links = self.run.kafka_links["enrich"]

        async def fault() -> None:
            await links.cut()
            await asyncio.sleep(seconds)
            await links.restore()

        await self._window(f"cut enrich-service <-> kafka for {seconds:.0f} s", fault)

    async def cut_query_ferretdb(self, seconds: float = 20.0) -> None:
        link = self.run.ferretdb_link

        async def fault() -> None:
            await link.cut()
            await asyncio.sleep(seconds)
            await link.restore()

        await self._window(f"cut query-service <-> ferretdb for {seconds:.0f} s", fault)


async def kill_one_replica(faults: Faults, service: str, index: int = 1) -> None:
    """kill -9 of one replica, then start it again (the short run's service kill)."""

    async def fault() -> None:
        faults.run.kill_replica(service, index)
        await asyncio.sleep(faults.down_s)
        faults.run.start_replica(service, index)
        await faults.run.until_ready(service, index)

    await faults._window(f"kill -9 {service}-{index}", fault)
