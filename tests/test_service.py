"""``monitor serve``: the schedule on a simulated clock (no real waiting), and the real process
stopped with signals."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor import cli
from monitor.localserver import LocalServer, Reply
from monitor.service import STOP_TIMEOUT
from tests.simulation import simulated
from tests.sites import write_config
from tests.test_e2e import AZ_COOP, EN_COOP, EN_OTHER, RU_OTHER, serve_outlet

BAKU = ZoneInfo("Asia/Baku")
MIDNIGHT = datetime(2026, 11, 26, tzinfo=BAKU)  # Asia/Baku is UTC+4 all year
SCHEDULE = "schedule:\n  jitter: 0.1\n  grace: 1h"


def outlets(server: LocalServer) -> list[dict[str, str]]:
    return [
        {"name": "Quarter", "url": serve_outlet(server, "q", [EN_COOP], "en"), "interval": "15m"},
        {"name": "Hourly", "url": serve_outlet(server, "h", [EN_OTHER], "en"), "interval": "1h"},
        {"name": "Sixhour", "url": serve_outlet(server, "s", [AZ_COOP], "az"), "interval": "6h"},
    ]


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MIDNIGHT + timedelta(days=day, hours=hour, minutes=minute)


def feed_hits(server: LocalServer) -> dict[str, int]:
    return {slug: server.hits(f"/{slug}/rss.xml") for slug in ("q", "h", "s")}


def test_a_simulated_day(server: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, outlets(server), SCHEDULE)
    with simulated(config, at(0), rng=random.Random(7)) as sim:
        sim.run_until(at(24))
        digests = sim.jobs("digest")
        fetch_times = [a.at for a in sim.jobs("fetch")]
    hits = feed_hits(server)
    # Each source on its own interval (±10% jitter): 96, 24 and 4 fetches in 24 hours.
    assert 87 <= hits["q"] <= 107 and 22 <= hits["h"] <= 27 and 4 <= hits["s"] <= 5
    # One cycle serves every source that is due at that moment: fewer cycles than fetches.
    assert len(fetch_times) < sum(hits.values())
    # The digest once, at 08:00 in Baku (04:00 UTC), covering the day before.
    assert [(d.at, d.detail.split()[0]) for d in digests] == [(at(8), "2026-11-25")]
    assert (tmp_path / "reports" / "2026-11-25.json").exists()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def test_a_day_of_service_logs_what_happened_and_little_else(
    server: LocalServer, tmp_path: Path
) -> None:
    """At the default level, with the reload check every 5 s as in service: the cycles and the
    digest, not the scheduler's every step (once ~35,000 lines a day)."""
    config = write_config(tmp_path, outlets(server), SCHEDULE)
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in cli._CHATTY}
    collect = _Lines()
    try:
        cli._setup_logging(0, env={})
        root.addHandler(collect)
        with simulated(config, at(0), rng=random.Random(7), reload_every=5.0) as sim:
            sim.run_until(at(24))
    finally:
        root.handlers[:], level, chatty = saved
        root.setLevel(level)
        for name, value in chatty.items():
            logging.getLogger(name).setLevel(value)
    lines = collect.lines
    cycles = [line for line in lines if "monitor.service: fetch:" in line]
    assert 90 <= len(cycles) <= len(lines) <= 300  # one line per cycle, plus a few
    assert sum("monitor.service: digest:" in line for line in lines) == 1
    assert not [line for line in lines if "apscheduler" in line or "reload" in line]


def test_jitter_spreads_sources_that_share_an_interval(server: LocalServer, tmp_path: Path) -> None:
    sources = [
        {"name": f"S{i}", "url": serve_outlet(server, f"o{i}", [EN_OTHER], "en"), "interval": "1h"}
        for i in range(4)
    ]
    config = write_config(tmp_path, sources, SCHEDULE)
    with simulated(config, at(0), rng=random.Random(1)) as sim:
        sim.run_until(at(6))
        cycles = sim.jobs("fetch")
    # Fetched together at first, then apart: more cycles than hours.
    assert len(cycles) > 6 + 1
    assert all(server.hits(f"/o{i}/rss.xml") in (5, 6, 7) for i in range(4))


def test_catch_up_after_downtime_within_the_grace_period(
    server: LocalServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, outlets(server), SCHEDULE)
    with simulated(config, at(6)) as sim:
        sim.run_until(at(7))
    before = feed_hits(server)
    # Down from 07:00 to 08:30: the 08:00 digest is 30 minutes late, within the hour of grace.
    with simulated(config, at(8, 30)) as sim:
        sim.run_until(at(8, 31))
        assert [d.at for d in sim.jobs("digest")] == [at(8, 30)]
        assert sim.jobs("digest")[0].detail.endswith("slot 2026-11-26T08:00:00+04:00")
    after = feed_hits(server)
    # Every overdue source fetched once on start, not once per missed interval.
    assert {k: after[k] - before[k] for k in after} == {"q": 1, "h": 1, "s": 0}
    # A restart after the digest was sent does not send it again.
    with simulated(config, at(8, 45)) as sim:
        sim.run_until(at(8, 46))
        assert sim.jobs("digest") == []


def test_no_catch_up_beyond_the_grace_period(server: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, outlets(server), SCHEDULE)
    with simulated(config, at(9, 30)) as sim:  # 1 h 30 after the slot
        sim.run_until(at(10))
        assert sim.jobs("digest") == []
        sim.run_until(at(8, 1, day=1))  # the next day's slot is served
        assert [d.at for d in sim.jobs("digest")] == [at(8, day=1)]


def test_sleep_and_wake(server: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, outlets(server), SCHEDULE)
    with simulated(config, at(7)) as sim:
        sim.run_until(at(7, 50))
        quarter = server.hits("/q/rss.xml")
        sim.advance(timedelta(minutes=50))  # the laptop slept through 08:00
        sim.run_until(at(8, 41))
        # The missed digest once, 40 minutes late; the 15-minute source once, not three times.
        assert [d.at for d in sim.jobs("digest")] == [at(8, 40)]
        assert server.hits("/q/rss.xml") == quarter + 1
        sim.advance(timedelta(hours=24, minutes=40))  # asleep past the next slot and its grace
        sim.run_until(at(9, 30, day=1))
        assert len(sim.jobs("digest")) == 1  # woken at 09:21, too late for 08:00: skipped


def test_reload_rejects_a_bad_edit_and_keeps_running(server: LocalServer, tmp_path: Path) -> None:
    sources = outlets(server)
    config = write_config(tmp_path, sources, SCHEDULE)
    good = config.read_text(encoding="utf-8")
    with simulated(config, at(1)) as sim:
        sim.run_until(at(1, 1))
        config.write_text(good.replace("interval: 15m", "interval: soon"), encoding="utf-8")
        sim.run_until(at(1, 2))
        (rejected,) = sim.jobs("reload")
        assert rejected.detail.startswith("rejected: 1 problem")
        hits = server.hits("/q/rss.xml")
        sim.run_until(at(2))
        assert server.hits("/q/rss.xml") >= hits + 3  # the old configuration keeps working
        # A good edit is taken: the new source is fetched at once.
        added = serve_outlet(server, "n", [RU_OTHER], "ru")
        write_config(
            tmp_path, [*sources, {"name": "New", "url": added, "interval": "1h"}], SCHEDULE
        )
        sim.run_until(at(2, 2))
        assert sim.jobs("reload")[-1].detail == "4 sources"
        assert server.hits("/n/rss.xml") == 1
        assert len(sim.service.config.sources) == 4


def test_a_changed_digest_time_is_taken_on_reload(server: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, outlets(server), SCHEDULE)
    with simulated(config, at(1)) as sim:
        sim.run_until(at(1, 1))
        text = config.read_text(encoding="utf-8")
        config.write_text(text + 'digest:\n  time: "30 6 * * *"\n', encoding="utf-8")
        sim.run_until(at(9))
        assert [d.at for d in sim.jobs("digest")] == [at(6, 30)]


# -- the real process ------------------------------------------------------------------------


def _serve(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "serve", "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_for(predicate: object, timeout: float = 30.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_sigterm_stops_within_5_s_and_the_next_start_resumes(
    server: LocalServer, tmp_path: Path
) -> None:
    """A page that stalls 30 s holds the cycle: SIGTERM cancels it and the service exits 0
    within 5 s, keeping what was stored; the next start stores the rest, nothing twice."""
    stalled = {"yes": True}

    def page(_request: object) -> Reply:
        body = b"<html><body><p>A page at last.</p></body></html>"
        return Reply(200, body, {"Content-Type": "text/html"}, delay=30 if stalled["yes"] else 0)

    url = serve_outlet(server, "w", [EN_COOP, EN_OTHER], "en")
    server.route(f"/w/articles/{EN_OTHER.slug}.html", page)
    config = write_config(tmp_path, [{"name": "Wire", "url": url}])
    text = config.read_text(encoding="utf-8").replace("timeout: 3s", "timeout: 60s")
    config.write_text(text, encoding="utf-8")
    process = _serve(config)
    try:
        _wait_for(lambda: server.hits(f"/w/articles/{EN_OTHER.slug}.html") > 0)
        # A cycle is in flight: a second monitor cannot start on this storage.
        run = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 75
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT + 5)  # reaped first: see test_a_second_interrupt...
        stopped_in = time.monotonic() - started
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert stopped_in < STOP_TIMEOUT, output
    assert "SIGTERM received: stopping: the running cycle is cancelled" in output
    database = tmp_path / "storage" / "monitor.db"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # The first article is kept if it was tagged before the signal; the stalled one is not.
        assert _count(database, "SELECT count(*) FROM articles") in (0, 1)
    # The next start (a run here) resumes: the cut article is stored, the other not twice.
    stalled["yes"] = False
    again = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "run", "--all"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (2,)
        assert db.execute("SELECT count(DISTINCT url) FROM articles").fetchone() == (2,)
        statuses = [r[0] for r in db.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses[0] == "interrupted" and statuses[-1] == "ok"


def _count(database: Path, query: str) -> int:
    try:
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
            return int(db.execute(query).fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def _stalled_outlet(server: LocalServer) -> str:
    """An outlet whose second article page answers only after 30 s: a cycle stays busy."""
    url = serve_outlet(server, "w", [EN_COOP, EN_OTHER], "en")
    server.route(f"/w/articles/{EN_OTHER.slug}.html", lambda _r: Reply(delay=30))
    return url


def test_a_second_interrupt_stops_a_run_at_once(server: LocalServer, tmp_path: Path) -> None:
    """The first Ctrl-C says what it waits for; the second does not wait. What was stored is
    kept and the database is sound. (`monitor serve` cancels its cycle at the first signal:
    test_sigterm_stops_within_5_s_and_the_next_start_resumes.)"""
    url = _stalled_outlet(server)
    config = write_config(tmp_path, [{"name": "Wire", "url": url}]).as_posix()
    config_path = Path(config)
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace("timeout: 3s", "timeout: 60s"),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", config, "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        _wait_for(lambda: server.hits(f"/w/articles/{EN_OTHER.slug}.html") > 0)
        process.send_signal(signal.SIGINT)
        _wait_for(lambda: any("stopping:" in line for line in lines))
        started = time.monotonic()
        try:  # a cancelled request ends at once; if the run is still waiting, a second Ctrl-C
            process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
        # Reaped first: extraction workers leave when their parent is gone, and a zombie is
        # not gone; they hold the output pipe open until then.
        process.wait(timeout=10)
        assert time.monotonic() - started < 5
        reader.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
    output = "".join(lines)
    assert process.returncode == 130, output
    # A cancelled request ends at once; what cannot be cancelled is waited for, and said.
    assert "stopping: waiting for the requests under way" in output
    with sqlite3.connect(tmp_path / "storage" / "monitor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sighup_with_a_bad_edit_keeps_the_service(server: LocalServer, tmp_path: Path) -> None:
    url = serve_outlet(server, "w", [EN_OTHER], "en")
    config = write_config(tmp_path, [{"name": "Wire", "url": url}])
    log = tmp_path / "serve.log"
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "serve", "-v"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        _wait_for(lambda: (tmp_path / "reports" / "index.html").exists())
        config.write_text(config.read_text(encoding="utf-8") + "surprise: true\n", "utf-8")
        process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "sources.yaml not reloaded" in log.read_text(encoding="utf-8"))
        assert process.poll() is None  # still serving
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text(encoding="utf-8")
    assert process.returncode == 0, output
    assert "SIGHUP received" in output
    assert "sources.yaml not reloaded" in output and "surprise" in output


def test_serve_refuses_a_bad_configuration(tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  - name: X\n    url: ftp://x\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "serve"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert 'sources.yaml:3: sources["X"].url' in result.stderr
    assert not (tmp_path / "storage").exists()


def test_simulation_clock_is_utc_aware() -> None:
    assert at(8).astimezone(UTC).hour == 4
