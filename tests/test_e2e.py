"""End to end: the ``monitor`` command against outlets served on 127.0.0.1, checked in the
database and in the written digest."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor import cli
from monitor.localserver import LocalServer, Reply, static
from tests.sites import Story, database, page, rss, write_config
from tests.sites import monitor as run

pytestmark = pytest.mark.e2e

EN_COOP = Story(
    "az-it-coproduction",
    "Azerbaijan and Italy sign film co-production agreement",
    (
        "The Azerbaijan Film Agency and Italy's national cinema body signed a co-production agreement in Baku on Tuesday.",
        "Under the agreement the two film agencies will co-finance feature films and documentaries and exchange students between their film schools.",
        "Officials said the first joint film project would start shooting next spring in Sheki and Rome.",
    ),
)
EN_OTHER = Story(
    "gas-exports",
    "Gas exports to Europe rose in October",
    (
        "Azerbaijan's gas exports to Europe rose by five percent in October, the energy ministry said on Monday.",
        "The growth was driven by higher deliveries through the southern gas corridor to Italy and Greece.",
        "Analysts expect exports to remain stable over the winter months as storage levels are high.",
    ),
)
RU_COOP = Story(
    "kino-soglashenie",
    "Азербайджан и Узбекистан подпишут соглашение о совместном производстве фильмов",
    (
        "Киноагентства Азербайджана и Узбекистана подписали в Ташкенте соглашение о совместном производстве фильмов.",
        "Документ предусматривает совместное финансирование игровых и документальных фильмов и обмен опытом между киношколами.",
        "Первый совместный фильм планируется снять в следующем году.",
    ),
)
RU_OTHER = Story(
    "futbol",
    "Сборная выиграла товарищеский матч",
    (
        "Национальная сборная по футболу выиграла товарищеский матч со счетом два ноль.",
        "Главный тренер команды поблагодарил болельщиков за поддержку на стадионе.",
        "Следующий матч команда проведет в марте на выезде.",
    ),
)
AZ_COOP = Story(
    "film-emekdasliq",
    "Azərbaycan və Türkiyə birgə film istehsalı haqqında saziş imzaladı",
    (
        "Azərbaycan Film Agentliyi və Türkiyənin kino qurumu birgə film istehsalı haqqında saziş imzalayıb.",
        "Sazişə əsasən tərəflər bədii və sənədli filmlərin birgə maliyyələşdirilməsi və kino təhsili sahəsində əməkdaşlıq edəcəklər.",
        "İlk birgə filmin çəkilişlərinə gələn il başlanılacaq.",
    ),
)
AZ_OTHER = Story(
    "hava",
    "Sabah havanın temperaturu aşağı düşəcək",
    (
        "Ekologiya və Təbii Sərvətlər Nazirliyi sabah Bakıda havanın küləkli olacağını bildirib.",
        "Gecə temperatur sıfırdan yuxarı iki dərəcə, gündüz isə səkkiz dərəcə isti olacaq.",
        "Rayonlarda yağıntılı hava gözlənilir.",
    ),
)


def serve_outlet(
    server: LocalServer, slug: str, stories: list[Story], language: str, **feed_headers: str
) -> str:
    """Serve an outlet's feed and pages under /slug; return the feed URL."""
    base = server.url(f"/{slug}")
    body = rss(slug, base, stories, language)
    server.route(
        f"/{slug}/rss.xml", static(body, "application/rss+xml; charset=utf-8", etag=f'"{slug}-v1"')
    )
    for story in stories:
        server.route(
            f"/{slug}/articles/{story.slug}.html",
            static(page(story.title, story.paragraphs), "text/html; charset=utf-8"),
        )
    return f"{base}/rss.xml"


def three_languages(server: LocalServer) -> list[dict[str, str]]:
    return [
        {
            "name": "Wire EN",
            "url": serve_outlet(server, "en", [EN_COOP, EN_OTHER], "en"),
            "language": "en",
            "country": "AZ",
        },
        {
            "name": "Wire RU",
            "url": serve_outlet(server, "ru", [RU_COOP, RU_OTHER], "ru"),
            "language": "ru",
            "country": "AZ",
        },
        {
            "name": "Wire AZ",
            "url": serve_outlet(server, "az", [AZ_COOP, AZ_OTHER], "az"),
            "language": "az",
            "country": "AZ",
        },
    ]


def db(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(database(folder))


def today_digest(folder: Path) -> dict[str, Any]:
    files = sorted((folder / "reports").glob("*.json"))
    assert files, "no digest written"
    digest: dict[str, Any] = json.loads(files[-1].read_text(encoding="utf-8"))
    return digest


def test_happy_path_three_languages(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, three_languages(server))
    assert run(config, "run") == 0
    out = capsys.readouterr()
    today = (
        datetime.now(UTC)
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Baku"))
        .date()
        .isoformat()
    )
    assert f"{today}.json" in out.out and f"{today}.md" in out.out
    assert "3 sources: 3 ok" in out.err

    with db(tmp_path) as conn:
        rows = conn.execute(
            "SELECT title, text_origin, language FROM articles ORDER BY id"
        ).fetchall()
    assert len(rows) == 6
    assert all(origin == "page" for _, origin, _ in rows)
    assert {lang for _, _, lang in rows} == {"en", "ru", "az"}

    digest = today_digest(tmp_path)
    assert set(digest) >= {"date", "timezone", "generated_at", "stories", "sources"}
    assert digest["date"] == today and digest["timezone"] == "Asia/Baku"
    titles = {s["title"] for s in digest["stories"]}
    assert titles == {EN_COOP.title, RU_COOP.title, AZ_COOP.title}
    for story in digest["stories"]:
        assert set(story) >= {"url", "title", "source", "language", "published", "topics", "score",
                              "aspects", "countries", "evidence", "summary", "also"}  # fmt: skip
        assert story["topics"] == ["film_cooperation"]
        assert story["evidence"] and all(e["term"] and e["text"] for e in story["evidence"])
        assert "Reader comment" not in story["summary"]
    assert [s["status"] for s in digest["sources"]] == ["ok", "ok", "ok"]
    assert sum(s["new_items"] for s in digest["sources"]) == 6
    markdown = (tmp_path / "reports" / f"{today}.md").read_text(encoding="utf-8")
    assert EN_COOP.title in markdown and "Wire RU" in markdown


def test_second_cycle_gets_304_and_adds_nothing(server: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, three_languages(server))
    assert run(config, "run") == 0
    page_hits = server.hits("/en/articles/az-it-coproduction.html")
    assert run(config, "run", "--all") == 0
    assert server.hits("/en/articles/az-it-coproduction.html") == page_hits
    conditional = [r for r in server.requests if r.path == "/en/rss.xml"][-1]
    assert conditional.headers.get("if-none-match") == '"en-v1"'
    with db(tmp_path) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 6
        statuses = conn.execute(
            "SELECT status FROM run_sources WHERE run_id = (SELECT max(id) FROM runs)"
        ).fetchall()
    assert {s for (s,) in statuses} == {"not_modified"}
    assert [s["status"] for s in today_digest(tmp_path)["sources"]] == ["not_modified"] * 3


def test_unchanged_body_without_validators_is_not_parsed_again(
    server: LocalServer, tmp_path: Path
) -> None:
    base = server.url("/plain")
    server.route(
        "/plain/rss.xml",
        lambda _r: Reply(
            200, rss("p", base, [EN_OTHER]).encode(), {"Content-Type": "application/rss+xml"}
        ),
    )
    server.route(
        f"/plain/articles/{EN_OTHER.slug}.html",
        static(page(EN_OTHER.title, EN_OTHER.paragraphs), "text/html"),
    )
    config = write_config(tmp_path, [{"name": "Plain", "url": f"{base}/rss.xml"}])
    assert run(config, "run") == 0
    assert run(config, "run", "--all") == 0
    with db(tmp_path) as conn:
        last = conn.execute(
            "SELECT status FROM run_sources ORDER BY run_id DESC LIMIT 1"
        ).fetchone()[0]
    assert last == "not_modified"


def test_source_due_only_after_its_interval(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        [
            {
                "name": "Wire EN",
                "url": serve_outlet(server, "en", [EN_OTHER], "en"),
                "interval": "1h",
            }
        ],
    )
    assert run(config, "run") == 0
    feed_hits = server.hits("/en/rss.xml")
    assert run(config, "run") == 0
    assert server.hits("/en/rss.xml") == feed_hits
    assert "1 not due or disabled" in capsys.readouterr().err


def test_failing_sources_are_recorded_and_others_go_on(server: LocalServer, tmp_path: Path) -> None:
    sources = three_languages(server)
    server.route("/broken/rss.xml", lambda _r: Reply(500, b"oops", {"Content-Type": "text/plain"}))
    server.route("/stalled/rss.xml", lambda _r: Reply(200, b"<rss/>", delay=30))
    sources += [
        {"name": "Broken", "url": server.url("/broken/rss.xml")},
        {"name": "Stalled", "url": server.url("/stalled/rss.xml")},
    ]
    config = write_config(tmp_path, sources)
    assert run(config, "run") == 0
    health = {s["name"]: s for s in today_digest(tmp_path)["sources"]}
    assert health["Broken"]["status"] == "error" and health["Broken"]["error"] == "fetch.http_500"
    assert health["Stalled"]["status"] == "error" and health["Stalled"]["error"] == "fetch.timeout"
    assert health["Wire EN"]["status"] == "ok" and health["Wire EN"]["new_items"] == 2
    with db(tmp_path) as conn:
        failures = conn.execute(
            "SELECT consecutive_failures FROM sources WHERE name = 'Broken'"
        ).fetchone()[0]
    assert failures == 1


def test_no_source_fetched_exits_1(server: LocalServer, tmp_path: Path) -> None:
    server.route("/gone/rss.xml", lambda _r: Reply(410, b"gone"))
    config = write_config(tmp_path, [{"name": "Gone", "url": server.url("/gone/rss.xml")}])
    assert run(config, "run") == 1
    assert today_digest(tmp_path)["sources"][0]["error"] == "fetch.http_410"


def test_malformed_feeds(server: LocalServer, tmp_path: Path) -> None:
    base = server.url("/bozo")
    good = rss("bozo", base, [EN_COOP])
    broken = good.replace("<channel>", "<channel><bad & unescaped>", 1)
    server.route("/bozo/rss.xml", static(broken, "application/rss+xml"))
    server.route(
        f"/bozo/articles/{EN_COOP.slug}.html",
        static(page(EN_COOP.title, EN_COOP.paragraphs), "text/html"),
    )
    server.route(
        "/html/rss.xml", static("<html><body><p>Not a feed</p></body></html>", "text/html")
    )
    server.route("/empty/rss.xml", static(b"", "application/rss+xml"))
    server.route("/cut/rss.xml", static(good[: len(good) // 2], "application/rss+xml"))
    config = write_config(
        tmp_path,
        [
            {"name": "Bozo", "url": f"{base}/rss.xml"},
            {"name": "Html", "url": server.url("/html/rss.xml")},
            {"name": "Empty", "url": server.url("/empty/rss.xml")},
            {"name": "Cut", "url": server.url("/cut/rss.xml")},
        ],
    )
    assert run(config, "run") == 0
    health = {s["name"]: s for s in today_digest(tmp_path)["sources"]}
    assert health["Bozo"]["status"] == "ok" and health["Bozo"]["new_items"] == 1
    assert health["Html"]["error"] == "parse.not_a_feed"
    assert health["Empty"]["error"] == "parse.empty"
    with db(tmp_path) as conn:
        warnings = conn.execute(
            "SELECT warnings FROM run_sources JOIN sources ON sources.id = source_id WHERE name = 'Bozo'"
        ).fetchone()[0]
    assert "not well-formed" in warnings


def test_oversize_and_gzip_bomb(server: LocalServer, tmp_path: Path) -> None:
    huge = b"<rss>" + b" " * (2 * 1024 * 1024) + b"</rss>"
    server.route("/huge/rss.xml", static(huge, "application/rss+xml"))
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    server.route(
        "/bomb/rss.xml", static(bomb, "application/rss+xml", headers={"Content-Encoding": "gzip"})
    )
    sources = [
        three_languages(server)[0],
        {"name": "Huge", "url": server.url("/huge/rss.xml")},
        {"name": "Bomb", "url": server.url("/bomb/rss.xml")},
    ]
    config = write_config(tmp_path, sources)
    assert run(config, "run") == 0
    health = {s["name"]: s for s in today_digest(tmp_path)["sources"]}
    assert health["Huge"]["error"] == "fetch.too_large"
    assert health["Bomb"]["error"] == "fetch.too_large"
    assert health["Wire EN"]["status"] == "ok"


def test_windows_1251_feed_without_declaration(server: LocalServer, tmp_path: Path) -> None:
    base = server.url("/cp")
    body = rss("Кино", base, [RU_COOP], "ru").replace('<?xml version="1.0" encoding="utf-8"?>', "")
    server.route(
        "/cp/rss.xml", static(body.encode("cp1251"), "application/rss+xml; charset=windows-1251")
    )
    server.route(
        f"/cp/articles/{RU_COOP.slug}.html",
        static(page(RU_COOP.title, RU_COOP.paragraphs), "text/html; charset=utf-8"),
    )
    config = write_config(tmp_path, [{"name": "CP", "url": f"{base}/rss.xml", "language": "ru"}])
    assert run(config, "run") == 0
    with db(tmp_path) as conn:
        (title,) = conn.execute("SELECT title FROM articles").fetchone()
    assert title == RU_COOP.title


def test_same_story_in_two_feeds_is_stored_once(server: LocalServer, tmp_path: Path) -> None:
    first = serve_outlet(server, "one", [EN_COOP], "en")
    shared = server.url(f"/one/articles/{EN_COOP.slug}.html?utm_source=partner#top")
    syndicated = Story(EN_COOP.slug, EN_COOP.title, EN_COOP.paragraphs, link=shared)
    second = serve_outlet(server, "two", [syndicated, EN_OTHER], "en")
    config = write_config(tmp_path, [{"name": "One", "url": first}, {"name": "Two", "url": second}])
    assert run(config, "run") == 0
    with db(tmp_path) as conn:
        urls = [u for (u,) in conn.execute("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 2
    assert server.hits(f"/one/articles/{EN_COOP.slug}.html") == 1
    assert len(today_digest(tmp_path)["stories"]) == 1


def test_non_http_link_is_not_followed(server: LocalServer, tmp_path: Path) -> None:
    base = server.url("/odd")
    stories = [
        Story("js", EN_COOP.title, EN_COOP.paragraphs, link="javascript:alert(1)"),
        Story("ftp", EN_OTHER.title, EN_OTHER.paragraphs, link="ftp://files.example/gas.txt"),
    ]
    server.route("/odd/rss.xml", static(rss("odd", base, stories), "application/rss+xml"))
    config = write_config(tmp_path, [{"name": "Odd", "url": f"{base}/rss.xml"}])
    assert run(config, "run") == 0
    assert [r.path for r in server.requests] == ["/odd/rss.xml"]
    with db(tmp_path) as conn:
        rows = conn.execute("SELECT url, text_origin, extract_error FROM articles").fetchall()
    assert rows == [(None, "feed_summary", "extract.no_link")] * 2
    story = today_digest(tmp_path)["stories"][0]
    assert story["url"] is None and "javascript" not in json.dumps(story)


def test_page_failure_falls_back_to_feed_text(server: LocalServer, tmp_path: Path) -> None:
    base = server.url("/fb")
    server.route("/fb/rss.xml", static(rss("fb", base, [EN_COOP, EN_OTHER]), "application/rss+xml"))
    server.route(f"/fb/articles/{EN_COOP.slug}.html", lambda _r: Reply(404, b"missing"))
    server.route(
        f"/fb/articles/{EN_OTHER.slug}.html", static("<html><body></body></html>", "text/html")
    )
    config = write_config(tmp_path, [{"name": "FB", "url": f"{base}/rss.xml"}])
    assert run(config, "run") == 0
    with db(tmp_path) as conn:
        rows = dict(conn.execute("SELECT title, extract_error FROM articles").fetchall())
        origins = {o for (o,) in conn.execute("SELECT text_origin FROM articles")}
    assert rows == {EN_COOP.title: "fetch.http_404", EN_OTHER.title: "extract.no_text"}
    assert origins == {"feed_summary"}


def test_bad_configuration_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "timezone: Mars/Olympus\n"
        "sources:\n"
        "  - name: One\n"
        "    url: ftp://example.org/feed\n"
        "    colour: blue\n"
        "  - name: One\n"
        "    url: https://example.org/rss\n",
        encoding="utf-8",
    )
    assert run(config, "run") == 2
    err = capsys.readouterr().err
    assert f"{config}:1: timezone: 'Mars/Olympus' is not an IANA time zone" in err
    assert f'{config}:4: sources["One"].url:' in err
    assert f'{config}:5: sources["One"].colour: unknown key' in err
    assert f'{config}:6: sources["One"].name: duplicate source name (first used at line 3)' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]


def test_config_from_environment_variable(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, three_languages(server)[:1])
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    monkeypatch.chdir(tmp_path.parent)
    assert cli.main(["run"]) == 0
    assert (tmp_path / "storage" / "monitor.db").exists()


def test_digest_for_a_given_date(server: LocalServer, tmp_path: Path) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    old = Story(EN_COOP.slug, EN_COOP.title, EN_COOP.paragraphs, published=yesterday)
    config = write_config(
        tmp_path, [{"name": "Wire", "url": serve_outlet(server, "w", [old], "en")}]
    )
    assert run(config, "run", "--no-digest") == 0
    day = yesterday.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Baku")).date().isoformat()
    assert run(config, "digest", "--date", day) == 0
    digest = json.loads((tmp_path / "reports" / f"{day}.json").read_text(encoding="utf-8"))
    assert [s["title"] for s in digest["stories"]] == [EN_COOP.title]
    (tmp_path / "reports" / f"{day}.json").unlink()
    # "yesterday" is yesterday in the configured time zone (Asia/Baku), not the machine's.
    today_baku = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Baku")).date()
    assert run(config, "digest", "--date", "yesterday") == 0
    named = (today_baku - timedelta(days=1)).isoformat()
    assert (tmp_path / "reports" / f"{named}.json").exists()
    with pytest.raises(SystemExit) as info:
        run(config, "digest", "--date", "26-11-2026")
    assert info.value.code == 2


def test_period_and_weekly_digests_do_not_replace_daily_ones(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baku = __import__("zoneinfo").ZoneInfo("Asia/Baku")
    now = datetime.now(UTC)
    old = Story(EN_COOP.slug, EN_COOP.title, EN_COOP.paragraphs, published=now - timedelta(days=3))
    config = write_config(
        tmp_path, [{"name": "Wire", "url": serve_outlet(server, "w", [old, EN_OTHER], "en")}]
    )
    assert run(config, "run") == 0
    today = now.astimezone(baku).date()
    first = (today - timedelta(days=5)).isoformat()
    assert run(config, "digest", "--since", first) == 0
    period = json.loads(
        (tmp_path / "reports" / f"{first}_{today.isoformat()}.json").read_text(encoding="utf-8")
    )
    assert (period["date"], period["until"]) == (first, today.isoformat())
    assert [s["title"] for s in period["stories"]] == [EN_COOP.title]
    assert run(config, "digest", "--weekly") == 0
    week_end = today - timedelta(days=1)
    weekly = (
        tmp_path
        / "reports"
        / f"{(week_end - timedelta(days=6)).isoformat()}_{week_end.isoformat()}.html"
    )
    assert EN_COOP.title in weekly.read_text(encoding="utf-8")
    daily = json.loads(
        (tmp_path / "reports" / f"{today.isoformat()}.json").read_text(encoding="utf-8")
    )
    assert daily["stories"] == []  # the daily digest is still there, untouched by the periods
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert f"{first}_{today.isoformat()}.html" in index and weekly.name in index
    capsys.readouterr()
    assert run(config, "digest", "--until", today.isoformat()) == 2
    assert "--until: needs --since or --weekly" in capsys.readouterr().err
