"""What an admin reads on the terminal and in the log: counts, ages, one line for a new
database, and -v that does not drown the monitor's lines in the libraries'."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor import cli
from monitor.app import summary
from monitor.models import RunReport, SourceOutcome, SourceStatus
from monitor.sources_cmd import _ago
from monitor.store import Store
from monitor.text import plural

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_counts_read_as_english() -> None:
    assert (plural(0, "source"), plural(1, "source"), plural(2, "source")) == (
        "0 sources",
        "1 source",
        "2 sources",
    )
    report = RunReport(
        run_id=1,
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=2),
        outcomes=(SourceOutcome("A", "https://a.example/", SourceStatus.OK, new_items=1),),
    )
    assert summary(report).startswith("1 source: 1 ok, 0 unchanged, 0 failed")
    assert "; 1 new article, 0 tagged;" in summary(report)


def test_a_moment_ago_is_just_now() -> None:
    assert _ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert _ago(NOW - timedelta(minutes=12), NOW) == "12m ago"
    assert _ago(None, NOW) == "never"


def test_a_new_database_says_so_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.store")
    with Store(f"sqlite:///{tmp_path / 'monitor.db'}"):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.store"]
    assert len(lines) == 1 and lines[0].startswith("creating storage ")
    caplog.clear()
    with Store(f"sqlite:///{tmp_path / 'monitor.db'}"):
        pass
    assert not [r for r in caplog.records if r.name == "monitor.store"]  # up to date: silent


@pytest.mark.parametrize(
    ("verbosity", "monitor_level", "library_level"),
    [(0, logging.INFO, logging.WARNING), (1, logging.DEBUG, logging.WARNING),
     (2, logging.DEBUG, logging.NOTSET), (-1, logging.WARNING, logging.WARNING)],
)  # fmt: skip
def test_v_is_the_monitors_detail_and_vv_every_librarys(
    verbosity: int, monitor_level: int, library_level: int
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in cli._CHATTY}
    try:
        cli._setup_logging(verbosity, env={})
        assert root.level == monitor_level
        for name in ("httpcore", "httpx", "apscheduler"):
            assert logging.getLogger(name).level == library_level, name
        line = root.handlers[0].format(logging.makeLogRecord({"msg": "x", "levelname": "INFO"}))
        assert line.split(" ", 1)[0].endswith("Z")  # UTC, whatever the machine's zone
        cli._setup_logging(0, env={"JOURNAL_STREAM": "8:1234"})
        bare = root.handlers[0].format(logging.makeLogRecord({"msg": "x", "levelname": "INFO"}))
        assert bare.startswith("INFO ")  # the journal stamps the time itself
    finally:
        root.handlers[:], level, chatty = saved
        root.setLevel(level)
        for name, value in chatty.items():
            logging.getLogger(name).setLevel(value)


def test_a_run_with_nothing_due_does_not_build_the_tagger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.tag
    from tests.sites import write_config

    built: list[int] = []
    real = monitor.tag.load_tagger

    def counting(*args: object, **kwargs: object) -> object:
        built.append(1)
        return real()

    monkeypatch.setattr(monitor.tag, "load_tagger", counting)
    config = write_config(tmp_path, [{"name": "A", "url": "http://127.0.0.1:9/rss"}])
    assert cli.main(["--config", str(config), "run", "--no-digest"]) == 1  # due: fetched, failed
    assert built == [1]
    assert cli.main(["--config", str(config), "run", "--no-digest"]) == 0  # backing off
    assert built == [1]  # nothing due: not built


def test_a_run_with_nothing_due_leaves_an_up_to_date_digest_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.sites import write_config

    config = write_config(tmp_path, [{"name": "A", "url": "http://127.0.0.1:9/rss"}])
    assert cli.main(["--config", str(config), "run"]) == 1  # due: failed; the digest written
    # Today's (near the digest's time of day, the scheduled one of yesterday is written too).
    today = datetime.now(ZoneInfo("Asia/Baku")).date()
    digest = tmp_path / "reports" / f"{today.isoformat()}.json"
    assert digest.exists()
    written = digest.stat().st_mtime_ns
    capsys.readouterr()
    assert cli.main(["--config", str(config), "run"]) == 0  # nothing due, nothing stored
    assert "today's digest is up to date" in capsys.readouterr().err
    assert digest.stat().st_mtime_ns == written
    os.utime(config)  # the configuration changed (its language, say): written again
    assert cli.main(["--config", str(config), "run"]) == 0
    assert "up to date" not in capsys.readouterr().err
    assert digest.stat().st_mtime_ns > written


def test_a_run_with_nothing_due_loads_nothing_a_cycle_needs(tmp_path: Path) -> None:
    """From cron every few minutes, most runs find nothing due: they must not pay for the
    HTTP client, the extractor, the tagger or the digest's rendering."""
    from tests.sites import write_config

    config = write_config(tmp_path, [{"name": "A", "url": "http://127.0.0.1:9/rss"}])
    assert cli.main(["--config", str(config), "run", "--no-digest"]) == 1  # due: failed
    heavy = ["httpx", "trafilatura", "monitor.pipeline", "monitor.tag", "jinja2", "feedparser"]
    probe = (
        "import sys; from monitor import cli; "
        f"code = cli.main(['--config', {str(config)!r}, 'run', '--no-digest']); "
        f"print(code, [m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split("\n")[-2] == "0 []", done.stdout + done.stderr
    assert "1 source: 0 ok, 0 unchanged, 0 failed, 1 not due or disabled" in done.stderr
