"""A broker of a test's own, on free ports: tests that stop, kill or freeze Kafka use it,
never the session's."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from onboarding_devstack.kafka import NAME, start_kafka, stop_kafka
from onboarding_devstack.processes import Managed, free_port


class PrivateBroker:
    def __init__(self, root: Path, base: Path) -> None:
        self._root = root
        self.run_dir, self.data_dir = base / "run", base / "data"
        self.port, self.controller_port = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        await asyncio.to_thread(
            start_kafka, self._root, self.run_dir, self.data_dir, self.port, self.controller_port
        )

    async def stop(self) -> None:
        await asyncio.to_thread(stop_kafka, self.run_dir)

    def _signal(self, sig: signal.Signals) -> None:
        pid = Managed(NAME, self.run_dir).pid()
        if pid is None:
            raise RuntimeError("the private broker is not running")
        os.kill(pid, sig)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing answers (a hung broker)."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)
