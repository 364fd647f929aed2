"""Several workers on one PostgreSQL database: the cold cycle over the local news web with 1, 2
and 3 ``monitor run`` processes started together on a new database, wall time until the last
one exits, and whether each item was stored once and each source fetched once; throughput
(sources and articles a second) and where the machine's CPU went: the workers (their
extraction processes included), the database server's processes, the news web.

    .venv/bin/python bench/workers.py --outlets 40 --items 10 --latency-ms 100 --workers 1,2,3
    .venv/bin/python bench/workers.py --outlets 10000 --items 1 --latency-ms 0   # 10,000 sources

The database server is ``MONITOR_BENCH_DATABASE_URL`` (default: the local test server,
postgresql://postgres@127.0.0.1:5432/test); each round gets a schema of its own, dropped after.
On one machine the workers share its cores: the figure says how the work divides, not what
several machines would gain.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from monitorrun import monitor_command, write_config
from newsweb import NewsWeb
from procwatch import cpu_seconds, machine_busy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _database_cpu() -> float:
    """CPU seconds of the local PostgreSQL server's processes so far (those that exited
    meanwhile, a connection's backend among them, are counted by their parent: cutime)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name), reaped=True)
            except OSError:
                continue
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_round(web: NewsWeb, workers: int, server: str, folder: Path) -> dict[str, object]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_engine_url(server))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    storage = url.render_as_string(hide_password=False)
    try:
        config = write_config(folder / f"w{workers}", web.feeds())
        config.write_text(
            config.read_text().replace("storage: storage/monitor.db", f'storage: "{storage}"')
        )
        # The tables first, so that the round times the cycle, not the first migration.
        subprocess.run([*monitor_command(), "--config", str(config), "-q", "workers"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        command = [*monitor_command(), "--config", str(config), "run", "--no-digest", "-q"]
        cpu_before = (_children_cpu(), _database_cpu(), cpu_seconds(web.pid), machine_busy())
        started = time.perf_counter()
        procs = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(workers)]
        codes = [p.wait() for p in procs]
        seconds = time.perf_counter() - started
        cpu_after = (_children_cpu(), _database_cpu(), cpu_seconds(web.pid), machine_busy())
        monitor_cpu, database_cpu, web_cpu, busy = (
            after - before for after, before in zip(cpu_after, cpu_before, strict=True)
        )
        engine = create_engine(_engine_url(storage))
        with engine.connect() as conn:
            urls = list(conn.scalars(text("SELECT url FROM articles")))
            by_worker = Counter(
                dict(
                    conn.execute(
                        text(
                            "SELECT r.worker, count(*) FROM run_sources s JOIN runs r "
                            "ON r.id = s.run_id WHERE s.status <> 'skipped' GROUP BY r.worker"
                        )
                    ).all()
                )
            )
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return {
        "workers": workers,
        "seconds": seconds,
        "exit": codes,
        "articles": len(urls),
        "duplicates": len(urls) - len(set(urls)),
        "fetches": sum(by_worker.values()),
        "split": sorted(by_worker.values(), reverse=True),
        "cpu": {"workers": monitor_cpu, "database": database_cpu, "web": web_cpu, "busy": busy},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=40)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args()
    server = os.environ.get("MONITOR_BENCH_DATABASE_URL", DEFAULT_URL)
    counts = [int(n) for n in args.workers.split(",")]
    cores = os.cpu_count() or 1
    print(
        f"{args.outlets} outlets x {args.items} items, {args.latency_ms} ms latency, {cores} cores"
    )
    print(
        "workers  wall s  sources/s  articles/s  articles  duplicates  sources fetched"
        "  CPU s: workers / database / news web / machine  database share  per worker"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        NewsWeb(args.outlets, args.items, latency_ms=args.latency_ms) as web,
    ):
        for workers in counts:
            row = one_round(web, workers, server, Path(tmp))
            wall = float(row["seconds"])  # type: ignore[arg-type]
            cpu: dict[str, float] = row["cpu"]  # type: ignore[assignment]
            print(
                f"{row['workers']:>7}  {wall:>6.1f}  {args.outlets / wall:>9.1f}  "
                f"{int(row['articles']) / wall:>10.1f}  {row['articles']:>8}  "  # type: ignore[call-overload]
                f"{row['duplicates']:>10}  {row['fetches']:>15}  "
                f"{cpu['workers']:>7.1f} / {cpu['database']:.1f} / {cpu['web']:.1f} / "
                f"{cpu['busy']:.1f} of {wall * cores:.1f}  "
                f"{cpu['database'] / cpu['busy']:>14.0%}  {row['split']}"
                + (f"  exit {row['exit']}" if any(row["exit"]) else "")  # type: ignore[arg-type]
            )


if __name__ == "__main__":
    main()
