"""``monitor serve`` over simulated days against the demo outlets: what it fetched and when it
sent the digest. The clock is moved, not waited for (see tests/simulation.py).

    .venv/bin/python bench/simulated_day.py [--days 3]

The demo's sources start at a 15-minute interval; their feeds do not change, so once a source
has two days of history its interval adapts to its publishing rate.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.demo import serve_outlets, sources_yaml
from tests.simulation import simulated

BAKU = ZoneInfo("Asia/Baku")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    start = datetime(2026, 11, 26, tzinfo=BAKU)
    work = Path(tempfile.mkdtemp(prefix="monitor-sim-"))
    server, outlets = serve_outlets(start.astimezone(UTC), BAKU)
    try:
        config = work / "sources.yaml"
        text = sources_yaml(
            outlets, server.base_url, work / "db.sqlite", work / "reports", "Asia/Baku"
        )
        config.write_text(text, encoding="utf-8")
        paths = {f"/{o.slug}/{o.feed}": o.name for o in outlets}
        per_day: list[Counter[str]] = []
        started = time.monotonic()
        with simulated(config, start, rng=random.Random(1)) as sim:
            for day in range(args.days):
                before = Counter({name: server.hits(path) for path, name in paths.items()})
                sim.run_until(start + timedelta(days=day + 1))
                after = Counter({name: server.hits(path) for path, name in paths.items()})
                per_day.append(after - before)
            digests = sim.jobs("digest")
            cycles = sim.jobs("fetch")
        seconds = time.monotonic() - started
    finally:
        server.stop()
    names = list(paths.values())
    width = max(len(n) for n in names)
    print(f"{'source':<{width}}  " + "  ".join(f"day {d + 1:>2}" for d in range(args.days)))
    for name in names:
        print(f"{name:<{width}}  " + "  ".join(f"{c[name]:>6}" for c in per_day))
    print(f"cycles run: {len(cycles)}")
    for d in digests:
        local = d.at.astimezone(BAKU)
        print(f"digest sent {local:%Y-%m-%d %H:%M} Asia/Baku: {d.detail}")
    print(f"simulated {args.days} days in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
