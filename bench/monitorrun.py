"""Running the monitor against the news web, as its users do: ``monitor run --all`` in a process
of its own, watched from outside (wall time, memory and CPU of its process tree), then what it
stored read from its database.

``write_config`` writes a ``sources.yaml`` with one source per outlet and the monitor's default
fetch settings unless told otherwise; ``run_cycle`` runs one cycle and returns a ``CycleRun``.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsweb import Outlet
from procwatch import TreeWatch


def write_config(
    folder: Path,
    feeds: Iterable[tuple[Outlet, str]],
    fetch: Mapping[str, str] | None = None,
    timezone: str = "UTC",
) -> Path:
    """A sources.yaml in ``folder`` (storage and reports inside it) with one feed per outlet;
    ``fetch`` overrides settings of the ``fetch:`` section (none: the monitor's defaults)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["storage: storage/monitor.db", "reports: reports/", f"timezone: {timezone}"]
    if fetch:
        lines.append("fetch:")
        lines += [f"  {key}: {value}" for key, value in fetch.items()]
    lines.append("sources:")
    for outlet, url in feeds:
        lines.append(f'  - name: "{outlet.name}"')
        lines.append(f"    url: {url}")
        lines.append(f"    language: {outlet.language.code}")
        if outlet.language.country:
            lines.append(f"    country: {outlet.language.country}")
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class CycleRun:
    process_seconds: float  # the monitor process, start to exit (interpreter start included)
    cycle_seconds: float  # the cycle as the monitor records it (runs.started_at..finished_at)
    returncode: int
    new_items: int
    tagged: int
    statuses: Counter[str]  # run_sources of this cycle: ok, not_modified, error, ...
    origins: Counter[str]  # text_origin of the articles this cycle stored
    peak_rss_mb: float
    peak_pss_mb: float
    main_hwm_mb: float
    cpu_seconds: float  # the monitor's process tree
    main_cpu_seconds: float  # its main process alone (fetching, parsing, tagging, storing)
    machine_busy_seconds: float  # the whole machine meanwhile
    summary: str
    log: str = field(repr=False)


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def monitor_command() -> list[str]:
    """How the monitor is started: the ``monitor`` console script next to this interpreter, as
    deploy/ starts it (cron, systemd), else ``python -m monitor``. It matters: multiprocessing's
    forkserver preloads a main *script* and its extraction workers inherit those imports, while
    under ``-m`` every new worker imports what it needs itself."""
    script = Path(sys.executable).with_name("monitor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]


def run_cycle(config: Path, extra: Iterable[str] = (), interval: float = 0.05) -> CycleRun:
    """``monitor --config CONFIG run --all --no-digest`` in its own process."""
    command = [*monitor_command(), "--config", str(config), "run", "--all", "--no-digest"]
    command += list(extra)
    log_path = config.parent / f"run-{time.time_ns()}.log"
    with log_path.open("w+", encoding="utf-8") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=config.parent, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        watch = TreeWatch(process.pid, interval).start()
        returncode = process.wait()
        seconds = time.perf_counter() - started
        watch.stop()
        log.seek(0)
        text = log.read()
    summary = next(
        (line for line in reversed(text.splitlines()) if " sources: " in line),
        text.strip().splitlines()[-1] if text.strip() else "",
    )
    database = config.parent / "storage" / "monitor.db"
    with sqlite3.connect(database) as db:
        run = db.execute(
            "select id, started_at, finished_at, new_items, tagged from runs order by id desc"
        ).fetchone()
        if run is None:
            raise RuntimeError(f"the monitor recorded no run:\n{text[-3000:]}")
        statuses = Counter(
            dict(
                db.execute(
                    "select status, count(*) from run_sources where run_id = ? group by status",
                    (run[0],),
                ).fetchall()
            )
        )
        origins = Counter(
            dict(
                db.execute(
                    "select text_origin, count(*) from articles where run_id = ? "
                    "group by text_origin",
                    (run[0],),
                ).fetchall()
            )
        )
    cycle = (_stamp(run[2]) - _stamp(run[1])).total_seconds() if run[2] else float("nan")
    return CycleRun(
        process_seconds=seconds,
        cycle_seconds=cycle,
        returncode=returncode,
        new_items=int(run[3]),
        tagged=int(run[4]),
        statuses=statuses,
        origins=origins,
        peak_rss_mb=watch.peak_rss_mb,
        peak_pss_mb=watch.peak_pss_mb,
        main_hwm_mb=watch.main_hwm_mb,
        cpu_seconds=watch.cpu_seconds,
        main_cpu_seconds=watch.root_cpu_seconds,
        machine_busy_seconds=watch.machine_busy_seconds,
        summary=summary,
        log=text,
    )
