"""The workspace served by uvicorn on 127.0.0.1 over a database a real cycle filled from local
outlets: sign-in, the pages, search in several scripts, feedback that leaves the digest, the
JSON API, and a test for each security rule."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from monitor import accounts, cli
from monitor.config import load_config
from monitor.localserver import LocalServer
from monitor.store import Store
from monitor.web.app import create_app
from monitor.web.security import SESSION_COOKIE, Throttle, safe_next
from tests.databases import DATABASES, database_url
from tests.sites import Story, free_port, write_config
from tests.test_e2e import (
    AZ_COOP,
    EN_COOP,
    EN_OTHER,
    RU_COOP,
    RU_OTHER,
    serve_outlet,
    today_digest,
)

PASSWORD = "correct horse battery"
KA_COOP = Story(
    "kino-memorandumi",
    "საქართველოს ეროვნული კინოცენტრი და აზერბაიჯანის კინოს სააგენტო თანამშრომლობენ",
    (
        "საქართველოს ეროვნულმა კინოცენტრმა და აზერბაიჯანის კინოს სააგენტომ თბილისში "
        "ერთობლივი ფილმების წარმოების მემორანდუმს მოაწერეს ხელი.",
        "მხარეები კინოს ფესტივალებზე ერთმანეთის ფილმებს წარადგენენ და კინოსკოლების "
        "სტუდენტებს გაცვლიან.",
        "პირველი ერთობლივი პროექტის გადაღებები მომავალ წელს დაიწყება.",
    ),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module", params=DATABASES)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A cycle over four local outlets, two users, and the workspace on a real port; on SQLite
    and on PostgreSQL."""
    folder = tmp_path_factory.mktemp("web")
    with database_url(request.param, folder) as url:
        yield from _site(folder, url)


def _site(folder: Path, url: str) -> Iterator[dict[str, Any]]:
    with LocalServer() as outlets:
        feeds = [
            ("Wire EN", serve_outlet(outlets, "en", [EN_COOP, EN_OTHER], "en"), "en"),
            ("Wire RU", serve_outlet(outlets, "ru", [RU_COOP, RU_OTHER], "ru"), "ru"),
            ("Wire AZ", serve_outlet(outlets, "az", [AZ_COOP], "az"), "az"),
            ("Wire KA", serve_outlet(outlets, "ka", [KA_COOP], "ka"), "ka"),
        ]
        config_path = write_config(
            folder,
            [{"name": n, "url": u, "language": lang, "country": "AZ"} for n, u, lang in feeds],
        )
        config_path.write_text(
            config_path.read_text().replace("storage: storage/monitor.db", f'storage: "{url}"')
        )
        assert cli.main(["--config", str(config_path), "run"]) == 0
    config = load_config(config_path)
    store = Store(config.storage_url)
    now = datetime.now(UTC)
    accounts.create(store, "leyla", "admin", PASSWORD, now)
    accounts.create(store, "omar", "reader", PASSWORD, now)
    token = accounts.issue_token(store, "omar", now)
    clock = Clock()
    app = create_app(config, store=store, throttle=Throttle(clock=clock))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the workspace did not start"
        time.sleep(0.02)
    try:
        yield {
            "base": f"http://127.0.0.1:{port}",
            "config": config_path,
            "folder": folder,
            "store": store,
            "token": token,
            "clock": clock,
        }
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def browser(site: dict[str, Any]) -> httpx.Client:
    client = httpx.Client(base_url=site["base"], follow_redirects=False, timeout=10)
    _OPEN.append(client)
    return client


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} field"
    return found.group(1)


def signed_in(site: dict[str, Any], name: str = "leyla") -> httpx.Client:
    client = browser(site)
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf": hidden(form.text, "csrf"), "next": "/"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return client


def story_id(site: dict[str, Any], title: str) -> int:
    with site["store"].reading() as conn:
        from sqlalchemy import text

        return int(
            conn.execute(
                text("SELECT id FROM articles WHERE title = :t"), {"t": title}
            ).scalar_one()
        )


# -- pages ----------------------------------------------------------------------------------------


def test_health_needs_nothing_and_every_page_needs_a_user(site: dict[str, Any]) -> None:
    client = browser(site)
    assert client.get("/healthz").json() == {"status": "ok"}
    for path in ("/", "/search?q=film", f"/stories/{story_id(site, EN_COOP.title)}"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=%2F")
    assert client.post(f"/stories/{story_id(site, EN_COOP.title)}/feedback").status_code == 303


def test_sign_in_shows_the_latest_stories(site: dict[str, Any]) -> None:
    client = signed_in(site)
    cookie = next(c for c in client.cookies.jar if c.name == SESSION_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly")
    page = client.get("/")
    assert page.status_code == 200
    for title in (EN_COOP.title, RU_COOP.title, AZ_COOP.title):
        assert title in page.text
    assert EN_OTHER.title not in page.text  # not a film-cooperation story


@pytest.mark.parametrize(
    ("words", "found", "missing"),
    [
        ("фильм", RU_COOP.title, EN_COOP.title),  # in фильмов
        ("film", AZ_COOP.title, RU_OTHER.title),  # in filmin, filmlərin
        ("co-production", EN_COOP.title, AZ_COOP.title),
    ],
)
def test_search_finds_inflected_words_and_marks_them(
    site: dict[str, Any], words: str, found: str, missing: str
) -> None:
    page = signed_in(site).get("/search", params={"q": words})
    assert page.status_code == 200
    assert found in page.text and missing not in page.text
    assert "<mark>" in page.text


def test_search_filters_and_bad_dates(site: dict[str, Any]) -> None:
    client = signed_in(site)
    page = client.get("/search", params={"language": "ru"})
    assert RU_COOP.title in page.text and RU_OTHER.title in page.text
    assert EN_COOP.title not in page.text
    page = client.get("/search", params={"language": "ru", "tagged": "1"})
    assert RU_COOP.title in page.text and RU_OTHER.title not in page.text
    bad = client.get("/search", params={"since": "yesterday-ish"})
    assert bad.status_code == 400 and "is not a date" in bad.text


def test_feedback_marks_the_story_and_leaves_the_digest(site: dict[str, Any]) -> None:
    client = signed_in(site, "omar")
    sid = story_id(site, RU_COOP.title)
    assert RU_COOP.title in client.get("/").text
    page = client.get(f"/stories/{sid}")
    assert page.status_code == 200 and "<mark>" in page.text  # the evidence's term
    answer = client.post(
        f"/stories/{sid}/feedback",
        data={"csrf": hidden(page.text, "csrf"), "relevant": "0", "note": "not ours"},
    )
    assert answer.status_code == 303
    page = client.get(f"/stories/{sid}")
    assert "not ours" in page.text and "left out of the digests" in page.text
    assert RU_COOP.title not in client.get("/").text  # the kept view follows the judgement
    assert cli.main(["--config", str(site["config"]), "digest"]) == 0
    titles = {s["title"] for s in today_digest(site["folder"])["stories"]}
    titles |= {
        a["title"]
        for s in today_digest(site["folder"])["stories"]
        for a in s.get("also", [])
        if "title" in a
    }
    assert RU_COOP.title not in titles and EN_COOP.title in titles
    # Changed back: the story returns.
    client.post(
        f"/stories/{sid}/feedback",
        data={"csrf": hidden(page.text, "csrf"), "relevant": "1", "note": ""},
    )
    assert site["store"].judgements([sid]) == {sid: True}


# -- security rules -------------------------------------------------------------------------------


def test_forms_without_the_csrf_token_are_refused(site: dict[str, Any]) -> None:
    client = signed_in(site)
    sid = story_id(site, EN_COOP.title)
    for data in ({"relevant": "0"}, {"relevant": "0", "csrf": "forged"}):
        assert client.post(f"/stories/{sid}/feedback", data=data).status_code == 403
    assert site["store"].judgements([sid]) == {}
    fresh = browser(site)
    fresh.get("/login")
    refused = fresh.post("/login", data={"name": "leyla", "password": PASSWORD, "csrf": "x"})
    assert refused.status_code == 400 and SESSION_COOKIE not in refused.cookies


def test_sign_in_is_throttled_after_failures(site: dict[str, Any]) -> None:
    client = browser(site)
    page = client.get("/login")
    for _ in range(5):
        page = client.post(
            "/login", data={"name": "omar", "password": "wrong!", "csrf": hidden(page.text, "csrf")}
        )
        assert page.status_code == 401
    # Now even the right password waits (each form carries a new token).
    page = client.post(
        "/login", data={"name": "omar", "password": PASSWORD, "csrf": hidden(page.text, "csrf")}
    )
    assert page.status_code == 429 and int(page.headers["retry-after"]) >= 1
    site["clock"].now += 60  # the pause over, the right password is heard again
    answer = client.post(
        "/login", data={"name": "omar", "password": PASSWORD, "csrf": hidden(page.text, "csrf")}
    )
    assert answer.status_code == 303


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/search?q=kino", "/search?q=kino"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_no_open_redirect(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_a_redirect_after_sign_in_stays_on_the_site(site: dict[str, Any]) -> None:
    client = browser(site)
    token = hidden(client.get("/login").text, "csrf")
    answer = client.post(
        "/login",
        data={"name": "leyla", "password": PASSWORD, "csrf": token, "next": "//evil.example/x"},
    )
    assert answer.headers["location"] == "/"


def test_security_headers(site: dict[str, Any]) -> None:
    page = browser(site).get("/login")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_a_title_with_markup_is_shown_as_text(site: dict[str, Any]) -> None:
    from monitor.models import Article, Source, Tagging, TextOrigin

    store: Store = site["store"]
    state = store.ensure_source(Source("Wire EN", "x", "en"))
    hostile = "<script>alert(1)</script> film <b>week</b>"
    store.add_article(
        state.id,
        store.start_run(datetime.now(UTC)),
        Article(
            source="Wire EN", url="https://x.example/xss", title=hostile,
            text="A film week <img src=x onerror=alert(1)> in Baku.", text_origin=TextOrigin.PAGE,
            fetched_at=datetime.now(UTC), language="en", tagging=Tagging(language="en"),
        ),
    )  # fmt: skip
    client = signed_in(site)
    for path in ("/search?q=week", f"/stories/{story_id(site, hostile)}"):
        page = client.get(path)
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;" in page.text and "<img src=x" not in page.text


def test_a_removed_user_is_signed_out(site: dict[str, Any]) -> None:
    store: Store = site["store"]
    accounts.create(store, "temp", "reader", PASSWORD, datetime.now(UTC))
    client = signed_in(site, "temp")
    assert client.get("/").status_code == 200
    store.remove_user("temp")
    assert client.get("/").status_code == 303


def test_signing_out_voids_the_session_everywhere(site: dict[str, Any]) -> None:
    """The session cookie is signed, not stored: after signing out, a copy of it (another
    browser, a stolen one) must not work, and signing in again must."""
    store: Store = site["store"]
    accounts.create(store, "leaving", "reader", PASSWORD, datetime.now(UTC))
    here = signed_in(site, "leaving")
    elsewhere = browser(site)
    elsewhere.cookies.update(here.cookies)
    assert elsewhere.get("/").status_code == 200
    page = here.get("/").text
    assert here.post("/logout", data={"csrf": hidden(page, "csrf")}).status_code == 303
    assert elsewhere.get("/").status_code == 303  # to the sign-in page
    assert signed_in(site, "leaving").get("/").status_code == 200


# -- API ------------------------------------------------------------------------------------------


def api(site: dict[str, Any], token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token or site['token']}"}
    client = httpx.Client(base_url=site["base"], headers=headers, timeout=10)
    _OPEN.append(client)
    return client


def test_api_needs_a_valid_token(site: dict[str, Any]) -> None:
    assert browser(site).get("/api/stories").status_code == 401
    wrong = api(site, "fm_" + "x" * 43).get("/api/stories")
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    # A signed-in browser is no API client: the API wants a token.
    assert signed_in(site).get("/api/stories").status_code == 401


def test_api_stories_search_and_detail(site: dict[str, Any]) -> None:
    client = api(site)
    listing = client.get("/api/stories", params={"q": "фильм", "tagged": "true"}).json()
    assert listing["total"] == 1
    (found,) = listing["stories"]
    assert found["title"] == RU_COOP.title and found["language"] == "ru"
    assert set(found) == {
        "id", "url", "title", "source", "language", "published", "topics", "aspects",
        "countries", "score", "summary", "feedback",
    }  # fmt: skip
    detail = client.get(f"/api/stories/{found['id']}").json()
    assert "Киноагентства Азербайджана" in detail["text"] and detail["evidence"]
    assert detail["also"] == []  # its look-alikes (other agencies, other partners) stay apart
    assert client.get("/api/stories/999999").status_code == 404
    everything = client.get("/api/stories", params={"limit": 2, "sort": "date"}).json()
    assert len(everything["stories"]) == 2 and everything["total"] >= 5


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1000}, {"offset": -1}, {"since": "2026-13-01"},
     {"since": "2026-12-02", "until": "2026-12-01"}, {"sort": "random"}],
)  # fmt: skip
def test_api_bad_parameters_get_422(site: dict[str, Any], params: dict[str, Any]) -> None:
    answer = api(site).get("/api/stories", params=params)
    assert answer.status_code == 422 and "detail" in answer.json()


def test_api_feedback_and_csv(site: dict[str, Any]) -> None:
    client = api(site)
    sid = story_id(site, EN_OTHER.title)
    answer = client.post(f"/api/stories/{sid}/feedback", json={"relevant": False, "note": "no"})
    assert answer.json() == {"id": sid, "feedback": "not_relevant"}
    assert client.post(f"/api/stories/{sid}/feedback", json={"note": "x"}).status_code == 422
    assert client.post("/api/stories/999999/feedback", json={"relevant": True}).status_code == 404
    listing = client.get("/api/stories", params={"source": "Wire EN"}).json()
    assert {s["id"]: s["feedback"] for s in listing["stories"]}[sid] == "not_relevant"
    table = client.get("/api/stories.csv", params={"source": "Wire EN", "limit": 200})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert {r["title"] for r in rows} >= {EN_COOP.title, EN_OTHER.title}
    assert client.get("/api/openapi.json").json()["paths"].keys() >= {"/api/stories"}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_monitor_web_serves_until_terminated(tmp_path: Path, workers: str) -> None:
    """The command itself: ``monitor web`` on a port (in one process or several), healthy, and
    gone after SIGTERM."""
    import signal
    import subprocess
    import sys

    config = write_config(tmp_path, [{"name": "Wire", "url": "https://wire.example/rss"}])
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "web",
            "--port",
            str(port),
            "--workers",
            workers,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "monitor web did not start"
                time.sleep(0.05)
        assert answer.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 303
        process.terminate()
        # uvicorn shuts down gracefully, then ends by the signal it received (as systemd expects).
        assert process.wait(15) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()  # type: ignore[union-attr]
    assert (tmp_path / "storage" / "web-secret").stat().st_mode & 0o077 == 0


def test_latest_page_links_stories_and_past_digests(site: dict[str, Any]) -> None:
    client = signed_in(site)
    page = client.get("/")
    sid = story_id(site, EN_COOP.title)
    assert f'href="/stories/{sid}"' in page.text
    names = re.findall(r'href="/digests/([^"]+)"', page.text)
    assert names, "the digest the cycle wrote is listed"
    digest = client.get(f"/digests/{names[0]}")
    assert digest.status_code == 200 and EN_COOP.title in digest.text
    for name in ("..%2Fsources.yaml", "sources.yaml", "2026-01-01.html"):
        assert client.get(f"/digests/{name}").status_code == 404


def test_the_sources_page_is_for_admins(site: dict[str, Any]) -> None:
    table = signed_in(site, "leyla").get("/sources")
    assert table.status_code == 200
    for name in ("Wire EN", "Wire RU", "Wire AZ"):
        assert name in table.text
    assert signed_in(site, "omar").get("/sources").status_code == 403


def test_the_search_exports_as_csv_and_xlsx(site: dict[str, Any]) -> None:
    import zipfile

    client = signed_in(site)
    page = client.get("/search", params={"q": "film", "tagged": "1"})
    link = re.search(r'href="/search\.csv\?([^"]+)"', page.text)
    assert link, "the results page links its export"
    table = client.get("/search.csv?" + link.group(1).replace("&amp;", "&"))
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert AZ_COOP.title in {r["title"] for r in rows}
    assert all(r["topics"] == "film_cooperation" for r in rows)
    book = client.get("/search.xlsx?" + link.group(1).replace("&amp;", "&"))
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(book.content)) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
    assert AZ_COOP.title in strings and "published" in strings
    assert browser(site).get("/search.csv").status_code == 303  # signed-in users only


def test_trends_draw_weekly_counts_with_a_table(site: dict[str, Any]) -> None:
    client = signed_in(site)
    page = client.get("/trends")
    assert page.status_code == 200
    assert page.text.count("<svg") == 2 and "<polyline" in page.text
    # The stories of this week, counted by country (every tagged story names AZ).
    week = re.findall(r"<tr><th scope=\"row\"[^>]*>([0-9-]+)</th>(.*?)</tr>", page.text)
    assert week and any(re.search(r">[1-9][0-9]*</td>", cells) for _, cells in week)
    assert (
        client.get("/trends", params={"since": "2026-12-01", "until": "2025-01-01"}).status_code
        == 400
    )


def test_weekly_counts_and_chart_are_pure() -> None:
    from zoneinfo import ZoneInfo

    from monitor.web.charts import line_chart, weekly

    baku = ZoneInfo("Asia/Baku")
    monday = datetime(2026, 11, 30, 9, tzinfo=baku)
    rows = [
        (monday, ["AZ", "IT"]),
        (monday + timedelta(days=2), ["AZ"]),
        (monday + timedelta(days=7), ["AZ", "AZ"]),  # a value counts once a story
        (datetime(2026, 12, 6, 20, 30, tzinfo=UTC), ["GE"]),  # Monday 00:30 in Baku
    ]
    data = weekly(rows, baku, monday.date(), monday.date() + timedelta(days=8))
    assert data.weeks == (monday.date(), monday.date() + timedelta(days=7))
    assert data.series == {"AZ": (2, 1), "GE": (0, 1), "IT": (1, 0)}
    svg = line_chart(data, lambda code: f"<{code}>", "by country")
    assert svg.count("<polyline") == 3 and "&lt;AZ&gt;" in svg and "<AZ>" not in svg


def test_a_storage_failure_is_a_503_that_says_why(
    site: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.errors import StorageError

    def broken(*_: object, **__: object) -> None:
        raise StorageError("storage sqlite:///x.db: database is locked")

    monkeypatch.setattr("monitor.web.pages.search", broken)
    monkeypatch.setattr("monitor.web.api.search", broken)
    page = signed_in(site).get("/search", params={"q": "film"})
    assert page.status_code == 503 and "database is locked" in page.text
    answer = api(site).get("/api/stories")
    assert answer.status_code == 503 and "database is locked" in answer.json()["detail"]


def test_the_throttle_counts_every_process_attempts_in_the_database(tmp_path: Path) -> None:
    """Two workspace processes share one store: failures counted by one slow down the other."""
    from monitor.web.security import StoredFailures, Throttle

    now = [1_000_000.0]
    with Store(f"sqlite:///{tmp_path}/m.db") as store:
        one, two = (
            Throttle(clock=lambda: now[0], failures=StoredFailures(store, 900.0)) for _ in "12"
        )
        for _ in range(3):
            one.failed("address:10.0.0.1", "name:omar")
            two.failed("address:10.0.0.2", "name:omar")
        assert two.wait("address:10.0.0.3", "name:omar") >= 2  # six failures of the name
        assert one.wait("address:10.0.0.3", "name:someone") == 0
        one.succeeded("name:omar")
        assert two.wait("address:10.0.0.3", "name:omar") == 0
        now[0] += 901  # out of the window: forgotten, and pruned by the next failure
        assert two.wait("address:10.0.0.1") == 0
        two.failed("address:10.0.0.9")
        assert store.sign_in_failures("address:10.0.0.1", 0) == []


def test_views_are_computed_once_per_version_and_the_least_used_let_go() -> None:
    from monitor.web.app import Views

    views = Views(size=2)
    computed: list[str] = []

    def compute(name: str) -> Callable[[], str]:
        def run() -> str:
            computed.append(name)
            return name.upper()

        return run

    assert views.get("a", 1, compute("a")) == "A"
    assert views.get("a", 1, compute("a")) == "A" and computed == ["a"]
    assert views.get("a", 2, compute("a")) == "A" and computed == ["a", "a"]  # archive changed
    views.get("b", 2, compute("b"))
    views.get("a", 2, compute("a"))  # used: "b" is now the least recently used
    views.get("c", 2, compute("c"))
    assert computed == ["a", "a", "b", "c"]
    views.get("a", 2, compute("a"))
    views.get("b", 2, compute("b"))
    assert computed == ["a", "a", "b", "c", "b"]


def test_a_view_asked_for_while_computed_is_computed_once() -> None:
    from monitor.web.app import Views

    views = Views()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        started.set()
        assert release.wait(10)
        return 42

    first = threading.Thread(target=views.get, args=("latest", 1, slow))
    first.start()
    assert started.wait(10)
    answers: list[int] = []
    second = threading.Thread(target=lambda: answers.append(views.get("latest", 1, slow)))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert answers == [42] and calls == [1]
