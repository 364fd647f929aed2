"""How soon an alert follows a story: from the moment a story appears in a feed to the moment
a webhook receiver has it, under ``monitor serve`` with sources fetched every minute.

    .venv/bin/python bench/alert_latency.py                 # 20 stories over 8 minutes
    .venv/bin/python bench/alert_latency.py --stories 5 --minutes 2

Four outlets and a webhook receiver are served on 127.0.0.1 (``monitor.localserver``); each
story (a film co-production agreement between two countries no other story names, so that no two
are taken for versions of one story) appears in one outlet's feed at a random moment of the run.
``monitor serve`` runs in its own process on a ``sources.yaml`` with a 1-minute interval, no
adaptation, and one alert rule posting to the receiver. Prints each story's delay, then the
median and the worst, and JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

from monitor.localserver import LocalServer, Reply, Request

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = [
    ("Azerbaijan", "Baku"), ("Italy", "Rome"), ("Kazakhstan", "Astana"), ("Egypt", "Cairo"),
    ("Georgia", "Tbilisi"), ("Portugal", "Lisbon"), ("Uzbekistan", "Tashkent"), ("Chile", "Santiago"),
    ("Pakistan", "Islamabad"), ("Norway", "Oslo"), ("Hungary", "Budapest"), ("Vietnam", "Hanoi"),
    ("Poland", "Warsaw"), ("Morocco", "Rabat"), ("Greece", "Athens"), ("Indonesia", "Jakarta"),
    ("Spain", "Madrid"), ("Kenya", "Nairobi"), ("Romania", "Bucharest"), ("Peru", "Lima"),
    ("Finland", "Helsinki"), ("Jordan", "Amman"), ("Bulgaria", "Sofia"), ("Ghana", "Accra"),
    ("Serbia", "Belgrade"), ("Mongolia", "Ulaanbaatar"), ("Croatia", "Zagreb"), ("Tunisia", "Tunis"),
    ("Ireland", "Dublin"), ("Malaysia", "Kuala Lumpur"), ("Latvia", "Riga"), ("Colombia", "Bogota"),
    ("Estonia", "Tallinn"), ("Nepal", "Kathmandu"), ("Slovenia", "Ljubljana"), ("Uruguay", "Montevideo"),
    ("Denmark", "Copenhagen"), ("Senegal", "Dakar"), ("Austria", "Vienna"), ("Ecuador", "Quito"),
]  # fmt: skip
OUTLETS = 4


def story(i: int) -> tuple[str, str, str]:
    """(slug, title, article HTML) of story ``i``: its own pair of countries and capitals."""
    (a, city), (b, other) = COUNTRIES[2 * i], COUNTRIES[2 * i + 1]
    films = 3 + i % 5
    title = f"{a} and {b} sign a film co-production agreement"
    text = (
        f"The national film agencies of {a} and {b} signed a co-production agreement in {city} "
        f"on Tuesday. Under the agreement the two countries will co-finance {films} feature "
        f"films and documentaries over three years and exchange students between their film "
        f"schools. The first joint film will be shot in {city} and {other} next spring, the "
        f"agencies said. Producers from {b} will also be offered a cash rebate for filming in "
        f"{a}."
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><article><h1>{escape(title)}</h1><p>{escape(text)}</p></article></body></html>"
    )
    return f"story-{i}", title, page


class Web:
    """The outlets (feeds that show each story from its moment on) and the receiver."""

    def __init__(self, server: LocalServer, appear: dict[int, float], outlet_of: dict[int, int]):
        self.server, self.appear, self.outlet_of = server, appear, outlet_of
        self.received: dict[str, float] = {}
        self.lock = threading.Lock()
        for k in range(OUTLETS):
            server.route(f"/o{k}/feed.xml", self._feed(k))
        for i in appear:
            slug, _title, page = story(i)
            server.route(
                f"/o{outlet_of[i]}/{slug}.html",
                lambda _r, page=page: Reply(200, page.encode(), {"Content-Type": "text/html"}),
            )
        server.route("/hook", self._hook)

    def _feed(self, k: int):  # type: ignore[no-untyped-def]
        def handle(_request: Request) -> Reply:
            now = time.time()
            items = []
            for i, when in self.appear.items():
                if self.outlet_of[i] != k or when > now:
                    continue
                slug, title, _page = story(i)
                link = self.server.url(f"/o{k}/{slug}.html")
                published = format_datetime(datetime.fromtimestamp(when, UTC))
                items.append(
                    f"<item><title>{escape(title)}</title><link>{link}</link>"
                    f"<guid>{link}</guid><pubDate>{published}</pubDate></item>"
                )
            body = (
                "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>Outlet {k}</title>{''.join(items)}</channel></rss>"
            )
            return Reply(200, body.encode(), {"Content-Type": "application/rss+xml"})

        return handle

    def _hook(self, request: Request) -> Reply:
        now = time.time()
        for item in json.loads(request.body).get("stories", []):
            with self.lock:
                self.received.setdefault(item["url"], now)
        return Reply(204)


def config_text(server: LocalServer, folder: Path) -> str:
    sources = "".join(
        f"  - name: Outlet {k}\n    url: {server.url(f'/o{k}/feed.xml')}\n    language: en\n"
        f"    interval: 1m\n    adaptive: false\n    robots: false\n"
        for k in range(OUTLETS)
    )
    return (
        f"storage: {folder / 'monitor.db'}\nreports: {folder / 'reports'}\n"
        "timezone: UTC\n"
        "fetch:\n  host_interval: 0s\n  timeout: 10s\n"
        "schedule:\n  min_interval: 1m\n  jitter: 0\n"
        f"sources:\n{sources}"
        "alerts:\n  - name: co-productions\n    channels:\n"
        f"      - webhook: {server.url('/hook')}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=8.0, help="stories appear over this long")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.stories <= len(COUNTRIES) // 2:
        parser.error(f"--stories must be 1..{len(COUNTRIES) // 2}")
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="alert-latency-"))
    with LocalServer() as server:
        start = time.time() + 90  # after the service's first cycles
        appear = {i: start + rng.uniform(0, args.minutes * 60) for i in range(args.stories)}
        outlet_of = {i: i % OUTLETS for i in range(args.stories)}
        web = Web(server, appear, outlet_of)
        config = folder / "sources.yaml"
        config.write_text(config_text(server, folder), encoding="utf-8")
        log = (folder / "serve.log").open("w")
        service = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "serve"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = max(appear.values()) + 300
            while time.time() < deadline and service.poll() is None:
                with web.lock:
                    if len(web.received) >= args.stories:
                        break
                time.sleep(0.5)
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=30)
            except subprocess.TimeoutExpired:
                service.kill()
    delays: list[float] = []
    for i in sorted(appear, key=appear.get):  # type: ignore[arg-type]
        url = server.url(f"/o{outlet_of[i]}/story-{i}.html")
        got = web.received.get(url)
        delay = None if got is None else got - appear[i]
        if delay is not None:
            delays.append(delay)
        shown = "never" if delay is None else f"{delay:6.1f} s"
        print(f"story {i:2d} (outlet {outlet_of[i]}): {shown}")
    missing = args.stories - len(delays)
    result = {
        "stories": args.stories,
        "received": len(delays),
        "median_s": round(statistics.median(delays), 1) if delays else None,
        "worst_s": round(max(delays), 1) if delays else None,
        "interval": "1m",
        "log": str(folder / "serve.log"),
    }
    print(
        f"median {result['median_s']} s, worst {result['worst_s']} s over {len(delays)} stories"
        + (f"; {missing} never arrived" if missing else "")
    )
    print(json.dumps(result))
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
