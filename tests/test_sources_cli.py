"""``monitor sources validate | status | add | test`` against outlets on 127.0.0.1, and the
back-off a failing source gets between runs of ``monitor run``."""

from __future__ import annotations

import difflib
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from monitor.config import load_config
from monitor.localserver import LocalServer, Reply, static
from tests.sites import HTML, Story, database, monitor, page, rss, write_config
from tests.test_e2e import EN_COOP, EN_OTHER

# quick_cli without the "warm_extraction" of test_politeness and test_source_kinds, as this
# module always had it: none of its tests measures time.
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli")]

RSS = "application/rss+xml; charset=utf-8"


# -- helpers ----------------------------------------------------------------------------------


def serve_outlet(server: LocalServer, slug: str, stories: list[Story], title: str = "") -> str:
    base = server.url(f"/{slug}")
    server.route(f"/{slug}/rss.xml", static(rss(title or slug, base, stories), RSS))
    for story in stories:
        server.route(
            f"/{slug}/articles/{story.slug}.html", static(page(story.title, story.paragraphs), HTML)
        )
    return f"{base}/rss.xml"


def status_rows(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """``sources status`` as {source name: its row}; the header under "name"."""
    capsys.readouterr()
    assert monitor(config, "sources", "status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["name", "kind"]
    return {line.split("  ")[0].strip(): line for line in lines}


def next_in_minutes(row: str) -> int:
    """The "next" column ("in 54m", "in 3h58m") in minutes."""
    match = re.search(r"\bin (?:(\d+)h)?(\d+)m\b", row)
    assert match, row
    return int(match.group(1) or 0) * 60 + int(match.group(2))


def db_row(folder: Path, name: str) -> sqlite3.Row:
    with sqlite3.connect(database(folder)) as conn:
        conn.row_factory = sqlite3.Row
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM sources WHERE name = ?", (name,)
        ).fetchone()
    assert row is not None
    return row


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# -- validate ---------------------------------------------------------------------------------


def test_validate_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "Wire", "url": "http://127.0.0.1:9/rss.xml", "language": "en"},
            {
                "name": "Listing",
                "url": "http://127.0.0.1:9/news/",
                "kind": "html",
                "selector": '"h3.title a"',
                "enabled": "false",
            },
        ],
    )
    assert monitor(config, "sources", "validate") == 0
    out = capsys.readouterr().out
    assert f"{config}: valid; 2 sources (1 enabled)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]


def test_validate_reports_every_problem_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "Wire", "url": "http://127.0.0.1:9/rss.xml", "language": "english"},
            {"name": "Other", "url": "http://127.0.0.1:9/other.xml", "interval": "30"},
            {"name": "Third", "url": "http://127.0.0.1:9/third.xml", "colour": "blue"},
        ],
    )
    lines = config.read_text(encoding="utf-8").splitlines()

    def line_of(text: str) -> int:
        return lines.index(text) + 1

    assert monitor(config, "sources", "validate") == 2
    captured = capsys.readouterr()
    assert "valid" not in captured.out
    errors = [e for e in captured.err.splitlines() if e.startswith("error: ")]
    assert errors == [
        f'error: {config}:{line_of("    language: english")}: sources["Wire"].language: '
        "'english' is not an ISO 639 language code (e.g. en, ru, az)",
        f'error: {config}:{line_of("    interval: 30")}: sources["Other"].interval: '
        "30 has no unit; write e.g. 30m, 2h or 1d",
        f'error: {config}:{line_of("    colour: blue")}: sources["Third"].colour: unknown key',
    ]


# -- status and back-off ----------------------------------------------------------------------


def test_status_from_never_fetched_to_ok_and_failing(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = serve_outlet(server, "wire", [EN_OTHER])
    config = write_config(
        tmp_path,
        [
            {"name": "Wire", "url": good, "language": "en", "interval": "1h"},
            {"name": "Gone", "url": server.url("/gone/rss.xml"), "interval": "1h"},
            {"name": "Off", "url": server.url("/off.xml"), "enabled": "false"},
        ],
    )
    rows = status_rows(config, capsys)
    assert set(rows) == {"name", "Wire", "Gone", "Off"}
    assert "never fetched" in rows["Wire"] and "never fetched" in rows["Gone"]
    assert "disabled" in rows["Off"]
    assert not (tmp_path / "storage").exists()  # status reads the database, never creates it

    assert monitor(config, "run", "--no-digest") == 0
    rows = status_rows(config, capsys)
    wire, gone = rows["Wire"], rows["Gone"]
    assert re.search(r"\bok\b", wire) and "never fetched" not in wire
    assert "just now" in wire and "0m ago" not in wire  # last success a moment ago
    assert "failing (hard)" in gone and "fetch.http_404" in gone
    assert "disabled" in rows["Off"] and server.hits("/off.xml") == 0
    # The 404 backs off: next attempt in 4 h (± 10 % jitter), well beyond its 1 h interval.
    assert 216 <= next_in_minutes(gone) <= 264
    assert 54 <= next_in_minutes(wire) <= 66
    row = db_row(tmp_path, "Gone")
    delay = stamp(row["next_due_at"]) - stamp(row["last_attempt_at"])
    assert timedelta(hours=3.6) <= delay <= timedelta(hours=4.4)
    assert (row["consecutive_failures"], row["last_error_code"]) == (1, "fetch.http_404")


def test_a_source_backing_off_is_left_alone_until_its_retry_time(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = serve_outlet(server, "wire", [EN_OTHER])
    server.route("/gone/rss.xml", lambda _r: Reply(404, b"not here"))
    config = write_config(
        tmp_path,
        [
            {"name": "Wire", "url": good, "interval": "1h"},
            {"name": "Gone", "url": server.url("/gone/rss.xml"), "interval": "1h"},
        ],
    )
    assert monitor(config, "run", "--no-digest") == 0
    assert server.hits("/gone/rss.xml") == 1

    # Right after: neither is due.
    assert monitor(config, "run", "--no-digest") == 0
    assert server.hits("/gone/rss.xml") == 1
    assert "2 not due or disabled" in capsys.readouterr().err

    start = datetime.now(UTC)
    # Past the 1 h interval but before the 4 h back-off: the healthy source is fetched again,
    # the failing one is not.
    with time_machine.travel(start + timedelta(hours=1, minutes=10), tick=True):
        wire_hits = server.hits("/wire/rss.xml")
        assert monitor(config, "run", "--no-digest") == 0
        assert server.hits("/wire/rss.xml") == wire_hits + 1
        assert server.hits("/gone/rss.xml") == 1
    # After the back-off: tried again, and the next wait is longer (16 h for a second 404).
    with time_machine.travel(start + timedelta(hours=4, minutes=30), tick=True):
        assert monitor(config, "run", "--no-digest") == 0
        assert server.hits("/gone/rss.xml") == 2
    row = db_row(tmp_path, "Gone")
    assert row["consecutive_failures"] == 2
    delay = stamp(row["next_due_at"]) - stamp(row["last_attempt_at"])
    assert timedelta(hours=14.4) <= delay <= timedelta(hours=17.6)
    # --all fetches it anyway.
    assert monitor(config, "run", "--all", "--no-digest") == 0
    assert server.hits("/gone/rss.xml") == 3


def test_recovery_resets_the_back_off(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failures = [Reply(503, b"busy")]
    body = rss("wire", server.url("/wire"), [EN_OTHER]).encode()

    def flaky(_request: object) -> Reply:
        return failures.pop() if failures else Reply(200, body, {"Content-Type": RSS})

    server.route("/wire/rss.xml", flaky)
    server.route(
        f"/wire/articles/{EN_OTHER.slug}.html", static(page(EN_OTHER.title, EN_OTHER.paragraphs))
    )
    config = write_config(tmp_path, [{"name": "Wire", "url": server.url("/wire/rss.xml")}])
    assert monitor(config, "run", "--no-digest") == 1  # its only source failed
    assert "failing (temporary)" in status_rows(config, capsys)["Wire"]
    assert monitor(config, "run", "--all", "--no-digest") == 0
    row = db_row(tmp_path, "Wire")
    assert (row["consecutive_failures"], row["last_error_code"]) == (0, None)
    assert re.search(r"\bok\b", status_rows(config, capsys)["Wire"])


def test_a_source_failing_for_weeks_does_not_break_the_run(
    server: LocalServer, tmp_path: Path
) -> None:
    good = serve_outlet(server, "wire", [EN_OTHER])
    config = write_config(
        tmp_path,
        [
            {"name": "Wire", "url": good, "interval": "1h"},
            {"name": "Gone", "url": server.url("/gone/rss.xml"), "interval": "1h"},
        ],
    )
    assert monitor(config, "run", "--no-digest") == 0
    # Seventeen days of hourly-source 404s (4 h, 16 h, then a day apart) leave 17 failures.
    with sqlite3.connect(database(tmp_path)) as conn:
        conn.execute("UPDATE sources SET consecutive_failures = 17 WHERE name = 'Gone'")
        conn.execute("DELETE FROM articles")
        conn.execute("UPDATE sources SET body_hash = NULL, etag = NULL")
    assert monitor(config, "run", "--all", "--no-digest") == 0
    assert db_row(tmp_path, "Gone")["consecutive_failures"] == 18
    assert db_row(tmp_path, "Wire")["last_status"] == "ok"


# -- add --------------------------------------------------------------------------------------

COMMENTED = """\
# Outlets watched by the film office. Keep this file tidy: it is read by people too.
storage: storage/monitor.db   # relative to this file
reports: reports/
timezone: Asia/Baku
fetch:
  timeout: 3s
  connect_timeout: 2s
  retries: 0
  host_interval: 0s   # only local test servers here

sources:
  # English-language wires
  - name: Wire EN      # the English service
    url: http://127.0.0.1:9/en/rss.xml
    language: en
    country: AZ

  # Russian-language wires
  - name: Wire RU
    url: http://127.0.0.1:9/ru/rss.xml
    language: ru    # checked by hand
    country: AZ

# Add new outlets above this line.
"""


def serve_homepage(server: LocalServer, declared: bool) -> None:
    link = (
        '<link rel="alternate" type="application/rss+xml" title="Kino Wire" href="/feeds/main.xml">'
        if declared
        else ""
    )
    server.route(
        "/",
        static(
            f"<!DOCTYPE html><html><head><title>Kino Wire</title>{link}</head>"
            "<body><h1>Kino Wire</h1><p>Film industry news.</p></body></html>",
            HTML,
        ),
    )
    if declared:
        server.route(
            "/feeds/main.xml",
            static(rss("Kino Wire - RSS", server.url("/kino"), [EN_COOP, EN_OTHER], "en"), RSS),
        )


def test_add_appends_the_declared_feed_and_keeps_the_comments(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_homepage(server, declared=True)
    config = tmp_path / "sources.yaml"
    config.write_text(COMMENTED, encoding="utf-8")
    feed = server.url("/feeds/main.xml")

    assert monitor(config, "sources", "add", server.url("/"), "--country", "ge") == 0
    out = capsys.readouterr().out
    assert f"* 1. {feed}  (2 items; Kino Wire - RSS)" in out
    assert "added 'Kino Wire' at " in out

    text = config.read_text(encoding="utf-8")
    # Lines were only inserted: every original line, comments included, is still there in order.
    diff = list(difflib.ndiff(COMMENTED.splitlines(), text.splitlines()))
    assert not [line for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert added == [
        "  - name: Kino Wire",
        f"    url: {feed}",
        "    language: en",
        "    country: GE",
        "",
    ]
    # After the last entry, before the closing comment.
    assert text.index("  - name: Kino Wire") > text.index("  - name: Wire RU")
    assert text.rstrip().endswith("# Add new outlets above this line.")

    loaded = load_config(config)
    assert [s.name for s in loaded.sources] == ["Wire EN", "Wire RU", "Kino Wire"]
    new = loaded.sources[-1]
    assert (new.url, new.language, new.country, new.kind) == (feed, "en", "GE", "feed")
    assert monitor(config, "sources", "validate") == 0


def test_add_dry_run_changes_nothing(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_homepage(server, declared=True)
    config = tmp_path / "sources.yaml"
    config.write_text(COMMENTED, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())

    assert monitor(config, "sources", "add", server.url("/"), "--dry-run", "--country", "ge") == 0
    out = capsys.readouterr().out
    assert "(nothing written):\n  - name: Kino Wire\n" in out
    assert f"    url: {server.url('/feeds/main.xml')}\n    language: en\n    country: GE\n" in out
    assert config.read_text(encoding="utf-8") == COMMENTED
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--country", "XX"], "'XX' is not an ISO 3166-1 alpha-2 country code"),
        (["--name", "wire en"], "a source named 'Wire EN' already exists"),
        (["--interval", "soon"], "is not a duration"),
    ],
)
def test_add_dry_run_refuses_what_the_real_command_refuses(
    server: LocalServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    words: str,
) -> None:
    serve_homepage(server, declared=True)
    config = tmp_path / "sources.yaml"
    config.write_text(COMMENTED, encoding="utf-8")
    for dry in (["--dry-run"], []):
        assert monitor(config, "sources", "add", server.url("/"), *extra, *dry) == 2
        assert words in capsys.readouterr().err
    assert config.read_text(encoding="utf-8") == COMMENTED


def test_a_web_address_without_a_scheme_means_https() -> None:
    from monitor.sources_cmd import with_scheme

    assert with_scheme("oxu.az") == "https://oxu.az"
    assert with_scheme(" oxu.az/rss ") == "https://oxu.az/rss"
    assert with_scheme("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/"


def test_trying_a_home_page_suggests_adding_it(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_homepage(server, declared=True)
    config = write_config(tmp_path, [{"name": "Other", "url": "http://127.0.0.1:9/rss.xml"}])
    assert monitor(config, "sources", "test", server.url("/")) == 1
    assert f"run: monitor sources add {server.url('/')}" in capsys.readouterr().out


def test_add_refuses_a_feed_already_watched(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_homepage(server, declared=True)
    config = tmp_path / "sources.yaml"
    config.write_text(
        COMMENTED.replace("http://127.0.0.1:9/ru/rss.xml", server.url("/feeds/main.xml")),
        encoding="utf-8",
    )
    before = config.read_bytes()
    assert monitor(config, "sources", "add", server.url("/")) == 2
    assert "is already watched as 'Wire RU'" in capsys.readouterr().err
    assert config.read_bytes() == before


def test_add_without_a_feed_exits_1(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_homepage(server, declared=False)
    config = tmp_path / "sources.yaml"
    config.write_text(COMMENTED, encoding="utf-8")

    assert monitor(config, "sources", "add", server.url("/")) == 1
    out = capsys.readouterr().out
    assert f"no feed found at {server.url('/')}" in out
    assert "kind: sitemap" in out and "kind: html" in out
    assert config.read_text(encoding="utf-8") == COMMENTED
    # It looked at the usual addresses before giving up.
    assert server.hits("/feed") == 1 and server.hits("/rss.xml") == 1


@pytest.mark.parametrize("address", ["https://t.me/kinowire", "t.me/s/kinowire"])
def test_add_a_telegram_channel_says_how(
    address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(COMMENTED, encoding="utf-8")
    assert monitor(config, "sources", "add", address) == 1
    out = capsys.readouterr().out
    assert out.endswith(
        f"is a Telegram channel, which has no feed; add it to {config} as:\n"
        "  - name: kinowire\n    kind: telegram\n    channel: kinowire\n"
        "(see 'Telegram channels' in the README)\n"
    )
    assert config.read_text(encoding="utf-8") == COMMENTED


# -- test -------------------------------------------------------------------------------------


def test_trying_a_configured_source_prints_verdicts_and_writes_nothing(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = serve_outlet(server, "wire", [EN_COOP, EN_OTHER])
    config = write_config(
        tmp_path, [{"name": "Wire EN", "url": feed, "language": "en", "country": "AZ"}]
    )
    assert monitor(config, "sources", "test", "wire en") == 0  # names match ignoring case
    out = capsys.readouterr().out
    assert out.startswith("Wire EN: rss20, 2 items\n")
    blocks = {b.splitlines()[0]: b for b in out.split("\n- ")[1:]}
    assert set(blocks) == {EN_COOP.title, EN_OTHER.title}
    coop, other = blocks[EN_COOP.title], blocks[EN_OTHER.title]
    assert "TAGGED film_cooperation" in coop and "page text" in coop and "why: " in coop
    assert "not tagged" in other and "TAGGED" not in other
    assert server.url(f"/wire/articles/{EN_COOP.slug}.html") in coop
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]  # no storage, no reports


def test_trying_a_source_respects_robots_txt(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = serve_outlet(server, "wire", [EN_COOP])
    server.route("/robots.txt", static("User-agent: *\nDisallow: /wire/articles/\n", "text/plain"))
    config = write_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert monitor(config, "sources", "test", "Wire") == 0
    out = capsys.readouterr().out
    assert "page not used: fetch.robots_disallowed" in out
    assert server.hits(f"/wire/articles/{EN_COOP.slug}.html") == 0


def test_trying_a_url_with_a_language(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = serve_outlet(server, "other", [EN_COOP, EN_OTHER])
    config = write_config(tmp_path, [{"name": "Wire", "url": "http://127.0.0.1:9/rss.xml"}])
    assert monitor(config, "sources", "test", feed, "--language", "en", "--items", "1") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{feed}: rss20, 2 items\n")
    assert out.count("\n- ") == 1  # --items 1
    assert " en · " in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]


def test_trying_a_failing_source_exits_1(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [{"name": "Gone", "url": server.url("/gone.xml")}])
    assert monitor(config, "sources", "test", "Gone") == 1
    assert "Gone: fetch.http_404: " in capsys.readouterr().out


def test_trying_an_unknown_name_lists_the_configured_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "Wire EN", "url": "http://127.0.0.1:9/en.xml"},
            {"name": "Wire RU", "url": "http://127.0.0.1:9/ru.xml"},
        ],
    )
    assert monitor(config, "sources", "test", "Wire AZ") == 2
    err = capsys.readouterr().err
    assert "no source named 'Wire AZ' (configured: Wire EN, Wire RU)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]
