"""Politeness towards the outlets, end to end through ``monitor run``: robots.txt decides which
article pages are fetched (RFC 9309: missing allows, unreadable disallows), it is read once per
host per run, requests to one host are spaced by ``fetch.host_interval`` while other hosts go on,
and the User-Agent names the operator's ``fetch.contact``."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import extractors
from monitor.extractors import ThreadExtractor
from monitor.localserver import Handler, LocalServer, Reply, Request, static
from monitor.models import PageText
from tests.sites import HTML, Story, page, rows, rss, run_all, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli", "warm_extraction")]

CONTACT = "ops@kino-monitor.example"

STORIES = [
    Story(
        f"story-{i}",
        f"Film agencies sign co-production agreement number {i}",
        (
            f"The film agencies of two countries signed co-production agreement number {i} on Tuesday.",
            "Under the agreement producers can pool national funding for features and documentaries.",
            "The first joint project is expected to start shooting next spring.",
        ),
    )
    for i in range(1, 5)
]


# -- helpers ----------------------------------------------------------------------------------


class Clock:
    """Start times of the requests a server answered, as the server saw them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: list[tuple[str, float]] = []

    def wrap(self, handler: Handler) -> Handler:
        def handle(request: Request) -> Reply:
            with self._lock:
                self.seen.append((request.path, time.monotonic()))
            return handler(request)

        return handle

    def times(self) -> list[float]:
        with self._lock:
            return sorted(t for _, t in self.seen)


def serve_outlet(
    server: LocalServer,
    slug: str,
    stories: list[Story],
    robots: Handler | None = None,
    clock: Clock | None = None,
) -> str:
    """An outlet's feed and pages under /slug (robots.txt at the root when given); the feed URL."""

    def route(path: str, handler: Handler) -> None:
        server.route(path, clock.wrap(handler) if clock else handler)

    base = server.url(f"/{slug}")
    route(f"/{slug}/rss.xml", static(rss(slug, base, stories), "application/rss+xml"))
    for story in stories:
        route(
            f"/{slug}/articles/{story.slug}.html", static(page(story.title, story.paragraphs), HTML)
        )
    if robots is not None:
        route("/robots.txt", robots)
    return f"{base}/rss.xml"


def robots_txt(text: str) -> Handler:
    return static(text, "text/plain; charset=utf-8")


def polite_config(folder: Path, sources: list[dict[str, str]], host_interval: str = "0s") -> Path:
    path = write_config(folder, sources)
    text = path.read_text(encoding="utf-8").replace(
        "  host_interval: 0s\n", f"  host_interval: {host_interval}\n  contact: {CONTACT}\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


def stored(folder: Path) -> dict[str, tuple[str, str | None]]:
    """title -> (text_origin, extract_error)"""
    return {
        title: (origin, error)
        for title, origin, error in rows(
            folder, "SELECT title, text_origin, extract_error FROM articles"
        )
    }


def page_hits(server: LocalServer, slug: str, stories: list[Story]) -> list[int]:
    return [server.hits(f"/{slug}/articles/{s.slug}.html") for s in stories]


# -- robots.txt -------------------------------------------------------------------------------


def test_disallowed_pages_are_not_fetched_and_the_feed_text_is_kept(
    server: LocalServer, tmp_path: Path
) -> None:
    robots = robots_txt("User-agent: *\nDisallow: /wire/articles/\nAllow: /\n")
    feed = serve_outlet(server, "wire", STORIES[:2], robots)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0

    assert page_hits(server, "wire", STORIES[:2]) == [0, 0]
    assert server.hits("/robots.txt") == 1
    assert stored(tmp_path) == {
        s.title: ("feed_summary", "fetch.robots_disallowed") for s in STORIES[:2]
    }
    texts = {t for (t,) in rows(tmp_path, "SELECT text FROM articles")}
    assert texts == {s.paragraphs[0] for s in STORIES[:2]}


def test_robots_false_on_the_source_fetches_the_pages(server: LocalServer, tmp_path: Path) -> None:
    robots = robots_txt("User-agent: *\nDisallow: /\n")
    feed = serve_outlet(server, "wire", STORIES[:2], robots)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed, "robots": "false"}])
    assert run_all(config) == 0

    assert page_hits(server, "wire", STORIES[:2]) == [1, 1]
    assert server.hits("/robots.txt") == 0  # not even asked
    assert stored(tmp_path) == {s.title: ("page", None) for s in STORIES[:2]}


def test_robots_false_on_one_source_does_not_open_the_site_to_another(
    server: LocalServer, tmp_path: Path
) -> None:
    robots = robots_txt("User-agent: *\nDisallow: /b/articles/\n")
    a = serve_outlet(server, "a", STORIES[:1], robots)
    b = serve_outlet(server, "b", STORIES[1:2])
    config = polite_config(
        tmp_path, [{"name": "A", "url": a, "robots": "false"}, {"name": "B", "url": b}]
    )
    assert run_all(config) == 0
    assert page_hits(server, "a", STORIES[:1]) == [1]
    assert page_hits(server, "b", STORIES[1:2]) == [0]
    assert stored(tmp_path)[STORIES[1].title] == ("feed_summary", "fetch.robots_disallowed")


def test_missing_robots_txt_allows_everything(server: LocalServer, tmp_path: Path) -> None:
    feed = serve_outlet(server, "wire", STORIES[:2])  # /robots.txt answers 404
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0
    assert server.hits("/robots.txt") == 1
    assert page_hits(server, "wire", STORIES[:2]) == [1, 1]
    assert stored(tmp_path) == {s.title: ("page", None) for s in STORIES[:2]}


@pytest.mark.parametrize("status", [500, 503])
def test_unreadable_robots_txt_disallows_everything(
    server: LocalServer, tmp_path: Path, status: int
) -> None:
    def robots(_request: Request) -> Reply:
        return Reply(status, b"oops", {"Content-Type": "text/plain"})

    feed = serve_outlet(server, "wire", STORIES[:2], robots)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0
    assert page_hits(server, "wire", STORIES[:2]) == [0, 0]
    assert server.hits("/robots.txt") == 1  # read once for the run, not once per page
    assert stored(tmp_path) == {
        s.title: ("feed_summary", "fetch.robots_disallowed") for s in STORIES[:2]
    }


def test_rules_for_our_product_token_apply(server: LocalServer, tmp_path: Path) -> None:
    robots = robots_txt(
        "User-agent: film-coop-monitor\nDisallow: /wire/articles/story-1\n\n"
        "User-agent: *\nDisallow: /wire/articles/story-2\n"
    )
    feed = serve_outlet(server, "wire", STORIES[:2], robots)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0
    # Our own group applies, and only it: story-2 is barred for others, not for us.
    assert page_hits(server, "wire", STORIES[:2]) == [0, 1]
    articles = stored(tmp_path)
    assert articles[STORIES[0].title] == ("feed_summary", "fetch.robots_disallowed")
    assert articles[STORIES[1].title] == ("page", None)


def test_rules_for_other_robots_do_not_apply(server: LocalServer, tmp_path: Path) -> None:
    robots = robots_txt("User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    feed = serve_outlet(server, "wire", STORIES[:2], robots)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0
    assert page_hits(server, "wire", STORIES[:2]) == [1, 1]


def test_one_robots_txt_request_per_host_per_run(server: LocalServer, tmp_path: Path) -> None:
    robots = robots_txt("User-agent: *\nDisallow: /private/\n")
    a = serve_outlet(server, "a", STORIES[:3], robots)
    b = serve_outlet(server, "b", STORIES[1:4])  # same host, other stories (and one shared slug)
    config = polite_config(tmp_path, [{"name": "A", "url": a}, {"name": "B", "url": b}])
    assert run_all(config) == 0
    assert server.hits("/robots.txt") == 1
    assert page_hits(server, "a", STORIES[:3]) == [1, 1, 1]
    assert page_hits(server, "b", STORIES[1:4]) == [1, 1, 1]
    # A later run with a new story asks again (the rules are kept per process, not stored).
    serve_outlet(server, "a", STORIES, robots)
    assert run_all(config) == 0
    assert page_hits(server, "a", STORIES) == [1, 1, 1, 1]
    assert server.hits("/robots.txt") == 2


# -- pacing and identification ----------------------------------------------------------------


def test_requests_to_one_host_are_spaced_by_host_interval(
    server: LocalServer, tmp_path: Path
) -> None:
    clock = Clock()
    feed = serve_outlet(server, "wire", STORIES, robots_txt("User-agent: *\nAllow: /\n"), clock)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}], host_interval="0.2s")
    assert run_all(config) == 0
    assert page_hits(server, "wire", STORIES) == [1, 1, 1, 1]

    times = clock.times()
    assert len(times) == 6  # feed, robots.txt, four pages
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.18, gaps
    assert times[-1] - times[0] < 2.0  # spaced, not serialised behind anything else


class StallingExtractor(ThreadExtractor):
    """Holds the event loop for half a second on the first page, as any synchronous step of
    the cycle can: the first language detection loads its model (about 0.5 s), a SQLite write
    waits for another process's lock (up to busy_timeout, 30 s)."""

    stalled = False

    async def __call__(self, body: bytes, url: str, content_type: str | None) -> PageText:
        if not StallingExtractor.stalled:
            StallingExtractor.stalled = True
            time.sleep(0.5)
        return await super().__call__(body, url, content_type)


def test_spacing_holds_after_the_event_loop_was_busy(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extractors, "ProcessExtractor", StallingExtractor)
    monkeypatch.setattr(StallingExtractor, "stalled", False)
    clock = Clock()
    feed = serve_outlet(server, "wire", STORIES, robots_txt("User-agent: *\nAllow: /\n"), clock)
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}], host_interval="0.2s")
    assert run_all(config) == 0
    assert page_hits(server, "wire", STORIES) == [1, 1, 1, 1]
    times = clock.times()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.18, gaps


@pytest.fixture
def other_host() -> Iterator[LocalServer]:
    try:
        local = LocalServer("127.0.0.2")
    except OSError as exc:  # not every system routes all of 127/8 to the loopback
        pytest.skip(f"cannot serve on 127.0.0.2: {exc}")
    with local:
        yield local


def test_other_hosts_are_not_held_back(
    server: LocalServer, other_host: LocalServer, tmp_path: Path
) -> None:
    allow = robots_txt("User-agent: *\nAllow: /\n")
    one, two = Clock(), Clock()
    a = serve_outlet(server, "a", STORIES[:3], allow, one)
    b = serve_outlet(other_host, "b", STORIES[:3], allow, two)
    config = polite_config(
        tmp_path, [{"name": "A", "url": a}, {"name": "B", "url": b}], host_interval="0.2s"
    )
    assert run_all(config) == 0
    assert page_hits(server, "a", STORIES[:3]) == [1, 1, 1]
    assert page_hits(other_host, "b", STORIES[:3]) == [1, 1, 1]

    first, second = one.times(), two.times()
    assert len(first) == len(second) == 5
    for times in (first, second):
        assert min(b - a for a, b in itertools.pairwise(times)) >= 0.18
    # Both hosts start at once and proceed side by side: no 0.2 s spacing across hosts.
    assert abs(first[0] - second[0]) < 0.1
    assert max(abs(x - y) for x, y in zip(first, second, strict=True)) < 0.15


def test_user_agent_names_the_contact(server: LocalServer, tmp_path: Path) -> None:
    feed = serve_outlet(server, "wire", STORIES[:1], robots_txt("User-agent: *\nAllow: /\n"))
    config = polite_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0
    agents = {r.path: r.headers.get("user-agent", "") for r in server.requests}
    assert set(agents) == {"/wire/rss.xml", "/robots.txt", f"/wire/articles/{STORIES[0].slug}.html"}
    for agent in agents.values():
        assert agent.startswith("film-coop-monitor/")
        assert f"+{CONTACT}" in agent


def test_user_agent_without_contact(server: LocalServer, tmp_path: Path) -> None:
    feed = serve_outlet(server, "wire", STORIES[:1])
    config = write_config(tmp_path, [{"name": "Wire", "url": feed}])
    assert run_all(config) == 0
    agents = {r.headers.get("user-agent", "") for r in server.requests}
    assert len(agents) == 1
    (agent,) = agents
    assert agent.startswith("film-coop-monitor/") and "+" not in agent


@pytest.mark.parametrize("contact", ["a b@example.org", "x", "(me)"])
def test_bad_contact_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contact: str
) -> None:
    config = write_config(tmp_path, [{"name": "Wire", "url": "http://127.0.0.1:9/rss.xml"}])
    text = config.read_text(encoding="utf-8").replace(
        "  host_interval: 0s\n", f"  host_interval: 0s\n  contact: '{contact}'\n"
    )
    config.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"  contact: '{contact}'") + 1
    assert run_all(config) == 2
    assert f"{config}:{line}: fetch.contact: " in capsys.readouterr().err
