"""Where a cold cycle's CPU goes: the monitor under py-spy, against the local news web.

    .venv/bin/pip install py-spy                      # once; samples every process of the tree
    .venv/bin/python bench/profile_cycle.py           # 100 outlets x 20 items, 0 ms
    .venv/bin/python bench/profile_cycle.py --outlets 20 --host-interval 0.5s --raw out.txt

It runs ``monitor run --all --no-digest`` on an empty database under ``py-spy record
--subprocesses`` (the main process, the forkserver and the extraction workers), then sorts the
samples into the stages of a cycle: for the main process fetching, feed parsing, tagging,
storage, sending pages to the workers, start-up; for the workers extraction, imports, IPC. Samples
whose innermost frame is a wait (select, poll, sleep, a condition) are left out: they are idle
time, not CPU. Without py-spy, ``--cprofile`` profiles the main process's main thread instead.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitorrun import monitor_command, write_config
from newsweb import NewsWeb

IDLE = (
    "select (selectors.py",
    "Condition.wait",
    "wait (threading.py",
    "EpollSelector.select",
    "_PollLikeSelector.select",
    "watch (monitor/pipeline.py",  # the workers' parent-watch thread, asleep
)
MAIN_STAGES = (
    ("start-up: imports", "_find_and_load ("),
    ("start-up: load_tagger", "load_tagger ("),
    ("feed parsing (parse_feed)", "parse_feed ("),
    ("tagging (RuleTagger.tag)", "RuleTagger.tag ("),
    ("storage (monitor/store.py)", "(monitor/store.py"),
    ("fetching (Fetcher.fetch: httpx, httpcore)", "Fetcher.fetch ("),
    ("robots.txt", "Robots."),
    ("IPC: pickling and sending pages to the workers", "Queue._feed ("),
    ("IPC: receiving results", "_ExecutorManagerThread.run ("),
    ("handing pages to the pool (ProcessExtractor)", "ProcessExtractor.__call__ ("),
)
WORKER_STAGES = (
    ("imports in a new worker", "_find_and_load ("),
    ("extraction (extract_page)", "extract_page ("),
    ("IPC", "(multiprocessing/"),
)


def stages(raw: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(busy samples by process kind, by main stage, by worker stage) of py-spy raw output."""
    busy: Counter[str] = Counter()
    main: Counter[str] = Counter()
    worker: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        depth = sum(1 for f in frames if f.startswith("process "))
        kind = {1: "main", 2: "forkserver", 3: "worker"}.get(depth, "other")
        if any(mark in frames[-1] for mark in IDLE):
            continue
        busy[kind] += n
        if kind not in ("main", "worker"):
            continue
        table, target = (MAIN_STAGES, main) if kind == "main" else (WORKER_STAGES, worker)
        for name, mark in table:
            if mark in stack:
                target[name] += n
                break
        else:
            target["other (event loop, pipeline)" if kind == "main" else "other"] += n
    return busy, main, worker


def top_functions(raw: Path, kind_depth: int, count: int = 15) -> list[tuple[str, int]]:
    own: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")
        if sum(1 for f in frames if f.startswith("process ")) != kind_depth:
            continue
        if any(mark in frames[-1] for mark in IDLE):
            continue
        own[re.sub(r":\d+\)$", ")", frames[-1])] += int(n)
    return own.most_common(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--host-interval", default="0s", help="fetch.host_interval (0s)")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples a second")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples here")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL (py-spy --gil): the main process's own "
        "Python work without the threads waiting for the lock; C code that releases it (lxml "
        "parsing in the workers) is then undercounted",
    )
    parser.add_argument("--cprofile", action="store_true", help="cProfile the main thread")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="newsweb-profile-"))
    raw = args.raw or work / "raw.txt"
    pyspy = Path(sys.executable).with_name("py-spy")
    try:
        with NewsWeb(args.outlets, args.items, latency_ms=args.latency_ms) as web:
            config = write_config(work, web.feeds(), {"host_interval": args.host_interval})
            arguments = ["--config", str(config), "run", "--all", "--no-digest"]
            monitor = [*monitor_command(), *arguments]
            if args.cprofile or not pyspy.exists():
                stats = work / "main.prof"
                cprofile = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "monitor"]
                subprocess.run(
                    [*cprofile, *arguments],
                    cwd=work,
                    check=True,
                )
                import pstats

                pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(40)
                return 0
            record = [str(pyspy), "record", "--subprocesses", "--format", "raw"]
            record += ["--rate", str(args.rate), "-o", str(raw), *(["--gil"] if args.gil else [])]
            record.append("--")
            subprocess.run(
                [*record, *monitor],
                cwd=work,
                check=True,
            )
        busy, main_stages, worker_stages = stages(raw)
        total = sum(busy.values()) or 1
        print(f"\nbusy samples: {dict(busy)} (idle waits left out)")
        print(f"main process: {busy['main'] / total:.0%} of the tree's CPU")
        for name, n in main_stages.most_common():
            print(f"  {n / max(1, busy['main']):6.1%}  {name}")
        print(f"extraction workers: {busy['worker'] / total:.0%} of the tree's CPU")
        for name, n in worker_stages.most_common():
            print(f"  {n / max(1, busy['worker']):6.1%}  {name}")
        for label, depth in (("main process", 1), ("workers", 3)):
            print(f"\ntop functions by own time, {label}:")
            for name, n in top_functions(raw, depth):
                print(f"  {n / max(1, busy['main' if depth == 1 else 'worker']):6.1%}  {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
