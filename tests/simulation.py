"""Running ``monitor serve`` on a simulated clock: APScheduler's own scheduling logic (triggers,
misfire grace, coalescing, one instance per job) with time moved by time-machine instead of
waited for. Used by tests/test_service.py and bench/simulated_day.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler

from monitor.extract import extract_page
from monitor.models import PageText
from monitor.service import Activity, Service


class SteppedScheduler(BaseScheduler):  # type: ignore[misc]
    """An APScheduler scheduler without a thread or a loop of its own: ``step`` runs the jobs
    that are due now, in the calling thread, and says how long until the next one."""

    def __init__(self, **options: Any) -> None:
        super().__init__(executors={"default": DebugExecutor()}, **options)

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass  # nothing sleeps: the simulation asks for due jobs after each move of the clock

    def step(self) -> float | None:
        wait: float | None = self._process_jobs()
        return wait


async def inline_extract(body: bytes, url: str, content_type: str | None) -> PageText:
    """Extraction in the test's own process: worker processes do not share the moved clock."""
    return extract_page(body, url, content_type)


@dataclass
class Simulation:
    """A service on a moved clock. ``run_until`` steps from one due job to the next."""

    service: Service
    clock: Any  # time_machine's traveller
    activity: list[Activity] = field(default_factory=list)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def run_until(self, end: datetime) -> None:
        scheduler = self.service.scheduler
        assert isinstance(scheduler, SteppedScheduler)
        while True:
            wait = scheduler.step()
            now = self.now()
            if now >= end:
                return
            step = end - now if wait is None else min(timedelta(seconds=wait), end - now)
            self.clock.shift(max(step, timedelta(milliseconds=1)))

    def advance(self, delta: timedelta) -> None:
        """Move the clock without running anything meanwhile: the machine slept."""
        self.clock.shift(delta)

    def jobs(self, job: str) -> list[Activity]:
        return [a for a in self.activity if a.job == job]


@contextmanager
def simulated(config: Path, start: datetime, **service_options: Any) -> Iterator[Simulation]:
    """A started service on a clock frozen at ``start`` and moved only by the simulation.
    ``sources.yaml`` is checked for changes every minute (every 5 s in service) to keep the
    number of steps small."""
    service_options.setdefault("reload_every", 60.0)
    with time_machine.travel(start, tick=False) as clock:
        activity: list[Activity] = []
        service = Service(
            config,
            make_scheduler=SteppedScheduler,
            extractor=inline_extract,
            on_activity=activity.append,
            **service_options,
        )
        with service.opened():
            service.scheduler.start()
            try:
                yield Simulation(service, clock, activity)
            finally:
                if service.scheduler.running:
                    service.scheduler.shutdown(wait=False)
