"""``monitor run`` from cron with nothing due, against ``monitor --version``.

Most runs from a cron job every few minutes find no source due. Such a run must cost little
more than starting the command: the target is at most twice the time of ``monitor --version``.

The configuration has ``--sources`` outlets on a closed local port: the first run fails on all
of them, so the schedule backs off and the following runs find nothing due. Both commands run
``--rounds`` times in alternation (so that other load on the machine hits both alike); the
medians are compared. The first run writes the day's digest; the later ones find it up to date,
as cron's runs do between two that checked sources.

    .venv/bin/python bench/nothing_due.py [--sources 30] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from monitorrun import monitor_command

TARGET = 2.0


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sources.yaml"
        lines = ["storage: storage/monitor.db", "reports: reports/", "sources:"]
        for i in range(args.sources):
            lines += [f"  - name: Outlet {i}", f"    url: http://127.0.0.1:9/feed{i}.xml"]
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        run = [*monitor_command(), "--config", str(config), "run"]
        version = [*monitor_command(), "--version"]
        subprocess.run(run, capture_output=True, check=False)  # every source fails: backs off
        idle, versions = [], []
        for _ in range(args.rounds):
            idle.append(timed(run))
            versions.append(timed(version))
        check = subprocess.run(run, capture_output=True, text=True, check=False)
    if "up to date: nothing was due" not in check.stderr:
        print("the runs were not idle:", check.stderr, file=sys.stderr)
        return 1
    ratio = statistics.median(idle) / statistics.median(versions)
    print(f"{args.sources} sources, {args.rounds} rounds, medians")
    print(f"monitor --version                      {statistics.median(versions):6.3f} s")
    print(f"monitor run, nothing due               {statistics.median(idle):6.3f} s")
    verdict = "ok" if ratio <= TARGET else "FAIL"
    print(f"ratio {ratio:.2f} (target at most {TARGET:g}): {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
