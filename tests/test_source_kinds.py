"""Sources without feeds, end to end: ``kind: sitemap`` (a news sitemap, a sitemap index, or the
site's homepage with a ``Sitemap:`` line in robots.txt) and ``kind: html`` (a section front read
with a CSS selector or a URL pattern), run through ``monitor run`` against 127.0.0.1 and checked
in the database. Configuration mistakes in these fields stop the run with file:line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.localserver import LocalServer, static
from tests.sites import HTML, monitor, page, rows, rss, run_all, write_config
from tests.test_e2e import EN_OTHER

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli", "warm_extraction")]

DATA = Path(__file__).parent / "data" / "kinds"
XML = "application/xml; charset=utf-8"

PARAGRAPHS = {
    "baku-rome-coproduction": (
        "The film agencies of Azerbaijan and Italy signed a co-production treaty in Baku on Tuesday.",
        "The treaty lets producers of both countries pool national film funding for features and documentaries.",
        "The first joint project is expected to start shooting in Sheki next spring.",
    ),
    "tbilisi-film-fund": (
        "Georgia's national film center opened a regional fund for films made with neighbouring countries.",
        "The fund will support development and production of up to six projects a year.",
        "Applications open in January and close at the end of March.",
    ),
    "almaty-festival": (
        "The Almaty film festival announced that this year's edition will run from 12 to 18 September.",
        "Its industry market will host pitching sessions for Central Asian producers.",
        "Accreditation for professionals opens next month on the festival's website.",
    ),
}
SITEMAP_TITLES = {
    "Baku and Rome film agencies sign a co-production treaty",
    "Tbilisi opens a regional film fund",
    "Almaty festival & market announce dates",
}


# -- helpers ----------------------------------------------------------------------------------


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def template(name: str, base: str) -> str:
    return (DATA / name).read_text(encoding="utf-8").replace("BASE", base).replace("DAY", today())


def serve_articles(server: LocalServer, folder: str) -> dict[str, str]:
    """The three article pages under ``folder``; their paths by slug."""
    paths = {}
    for slug, paragraphs in PARAGRAPHS.items():
        path = f"{folder}/{slug}.html"
        server.route(path, static(page(slug.replace("-", " ").title(), paragraphs), HTML))
        paths[slug] = path
    return paths


def source_row(folder: Path, name: str) -> tuple[str | None, str, int]:
    found = rows(
        folder,
        "SELECT last_error_code, last_status, consecutive_failures FROM sources "
        f"WHERE name = '{name}'",
    )
    assert len(found) == 1
    return found[0]


def articles(folder: Path, source: str) -> dict[str, tuple[str, str, str | None]]:
    """url -> (title, text_origin, extract_error) of a source's stored articles."""
    return {
        url: (title, origin, error)
        for url, title, origin, error in rows(
            folder,
            "SELECT a.url, a.title, a.text_origin, a.extract_error FROM articles a "
            f"JOIN sources s ON s.id = a.source_id WHERE s.name = '{source}'",
        )
    }


def homepage(server: LocalServer) -> None:
    server.route(
        "/",
        static(
            "<!DOCTYPE html><html><head><title>Kino Wire</title></head>"
            "<body><h1>Kino Wire</h1><p>News of the film industry.</p></body></html>",
            HTML,
        ),
    )


# -- kind: sitemap ----------------------------------------------------------------------------


def test_google_news_sitemap(server: LocalServer, tmp_path: Path) -> None:
    base = server.base_url
    server.route("/news-sitemap.xml", static(template("news-sitemap.xml", base), XML))
    paths = serve_articles(server, "/news")
    config = write_config(
        tmp_path,
        [{"name": "Kino Wire", "url": f"{base}/news-sitemap.xml", "kind": "sitemap"}],
    )
    assert run_all(config) == 0

    stored = articles(tmp_path, "Kino Wire")
    assert set(stored) == {base + p for p in paths.values()}
    assert {title for title, _, _ in stored.values()} == SITEMAP_TITLES
    assert {origin for _, origin, _ in stored.values()} == {"page"}
    assert all(server.hits(p) == 1 for p in paths.values())
    published = dict(
        rows(tmp_path, "SELECT title, published_at FROM articles WHERE title LIKE 'Baku%'")
    )
    assert published["Baku and Rome film agencies sign a co-production treaty"].startswith(
        f"{today()} 07:15:00"
    )
    assert source_row(tmp_path, "Kino Wire") == (None, "ok", 0)


def test_sitemap_index_is_followed(server: LocalServer, tmp_path: Path) -> None:
    base = server.base_url
    server.route("/sitemap_index.xml", static(template("sitemap-index.xml", base), XML))
    server.route("/sitemaps/news.xml", static(template("news-sitemap.xml", base), XML))
    paths = serve_articles(server, "/news")
    config = write_config(
        tmp_path,
        [{"name": "Kino Wire", "url": f"{base}/sitemap_index.xml", "kind": "sitemap"}],
    )
    assert run_all(config) == 0
    stored = articles(tmp_path, "Kino Wire")
    assert set(stored) == {base + p for p in paths.values()}
    assert {title for title, _, _ in stored.values()} == SITEMAP_TITLES
    assert server.hits("/sitemaps/news.xml") == 1


def test_homepage_with_a_news_sitemap_in_robots_txt(server: LocalServer, tmp_path: Path) -> None:
    base = server.base_url
    homepage(server)
    server.route(
        "/robots.txt",
        static(
            "User-agent: *\nDisallow: /admin/\n\nSitemap: /sitemaps/news.xml\n",
            "text/plain",
        ),
    )
    server.route("/sitemaps/news.xml", static(template("news-sitemap.xml", base), XML))
    paths = serve_articles(server, "/news")
    config = write_config(tmp_path, [{"name": "Kino Wire", "url": f"{base}/", "kind": "sitemap"}])
    assert run_all(config) == 0
    stored = articles(tmp_path, "Kino Wire")
    assert set(stored) == {base + p for p in paths.values()}
    assert {title for title, _, _ in stored.values()} == SITEMAP_TITLES
    assert source_row(tmp_path, "Kino Wire") == (None, "ok", 0)


def test_homepage_whose_robots_txt_names_a_sitemap_index(
    server: LocalServer, tmp_path: Path
) -> None:
    base = server.base_url
    homepage(server)
    server.route(
        "/robots.txt", static(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap_index.xml\n")
    )
    server.route("/sitemap_index.xml", static(template("sitemap-index.xml", base), XML))
    server.route("/sitemaps/news.xml", static(template("news-sitemap.xml", base), XML))
    paths = serve_articles(server, "/news")
    config = write_config(tmp_path, [{"name": "Kino Wire", "url": f"{base}/", "kind": "sitemap"}])
    assert run_all(config) == 0
    assert server.hits("/sitemap_index.xml") == 1
    assert server.hits("/sitemaps/news.xml") == 1
    stored = articles(tmp_path, "Kino Wire")
    assert set(stored) == {base + p for p in paths.values()}


def test_homepage_without_a_sitemap_fails_alone(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.base_url
    homepage(server)
    server.route("/robots.txt", static("User-agent: *\nDisallow: /admin/\n", "text/plain"))
    feed_base = server.url("/wire")
    server.route("/wire/rss.xml", static(rss("Wire", feed_base, [EN_OTHER]), XML))
    server.route(
        f"/wire/articles/{EN_OTHER.slug}.html", static(page(EN_OTHER.title, EN_OTHER.paragraphs))
    )
    config = write_config(
        tmp_path,
        [
            {"name": "Kino Wire", "url": f"{base}/", "kind": "sitemap"},
            {"name": "Wire", "url": f"{feed_base}/rss.xml"},
        ],
    )
    assert run_all(config) == 0
    assert source_row(tmp_path, "Kino Wire") == ("parse.no_sitemap", "error", 1)
    assert source_row(tmp_path, "Wire") == (None, "ok", 0)
    assert articles(tmp_path, "Kino Wire") == {}
    assert [title for title, _, _ in articles(tmp_path, "Wire").values()] == [EN_OTHER.title]
    assert "parse.no_sitemap" in capsys.readouterr().err

    assert monitor(config, "sources", "status") == 0
    table = capsys.readouterr().out.splitlines()
    kino = next(line for line in table if line.startswith("Kino Wire"))
    assert "failing (soft)" in kino and "parse.no_sitemap" in kino
    wire = next(line for line in table if line.startswith("Wire "))
    assert " ok " in wire


def test_homepage_without_robots_txt_is_reported_as_no_sitemap(
    server: LocalServer, tmp_path: Path
) -> None:
    """Not fetch.http_404, which would read as if the homepage itself were gone (hard)."""
    homepage(server)  # no /robots.txt: the server answers 404
    config = write_config(
        tmp_path, [{"name": "Kino Wire", "url": f"{server.base_url}/", "kind": "sitemap"}]
    )
    assert run_all(config) == 1  # the only source failed
    assert source_row(tmp_path, "Kino Wire") == ("parse.no_sitemap", "error", 1)
    assert server.hits("/robots.txt") == 1


# -- kind: html -------------------------------------------------------------------------------

LISTING_PATH = "/section/industry/"
LISTING_TITLES = {
    "Baku and Rome film agencies sign a co-production treaty",
    "Tbilisi opens a regional film fund",
    "Almaty festival announces dates",
}


def serve_listing(server: LocalServer) -> set[str]:
    """The section front and its three articles; the articles' URLs."""
    server.route(LISTING_PATH, static((DATA / "section.html").read_bytes(), HTML))
    paths = serve_articles(server, "/news/2026")
    return {server.base_url + p for p in paths.values()}


@pytest.mark.parametrize(
    "rule",
    [
        {"selector": '"h3.title a"'},
        {"pattern": r"'/news/\d{4}/[a-z-]+\.html$'"},
        {"selector": "'.card'", "pattern": "'/news/'"},
    ],
    ids=["selector", "pattern", "both"],
)
def test_listing_page_yields_only_the_article_links(
    server: LocalServer, tmp_path: Path, rule: dict[str, str]
) -> None:
    expected = serve_listing(server)
    source = {"name": "Kino Wire", "url": server.url(LISTING_PATH), "kind": "html", **rule}
    config = write_config(tmp_path, [source])
    assert run_all(config) == 0

    stored = articles(tmp_path, "Kino Wire")
    assert set(stored) == expected
    assert {title for title, _, _ in stored.values()} == LISTING_TITLES
    assert {origin for _, origin, _ in stored.values()} == {"page"}
    # Navigation, sidebar, pager and footer links were never requested.
    fetched = {r.path for r in server.requests}
    assert fetched == {LISTING_PATH, "/robots.txt"} | {u[len(server.base_url) :] for u in expected}


def test_listing_whose_selector_matches_nothing_warns(server: LocalServer, tmp_path: Path) -> None:
    serve_listing(server)
    source = {
        "name": "Kino Wire",
        "url": server.url(LISTING_PATH),
        "kind": "html",
        "selector": '"h2.headline a"',
    }
    config = write_config(tmp_path, [source])
    assert run_all(config) == 0
    assert articles(tmp_path, "Kino Wire") == {}
    (warnings,) = rows(tmp_path, "SELECT warnings FROM run_sources")[0]
    assert "no article links matched selector 'h2.headline a'" in warnings


# -- configuration mistakes -------------------------------------------------------------------

GOOD = {"name": "Good", "url": "http://127.0.0.1:9/rss.xml"}


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (
            {"name": "Listing", "url": "http://127.0.0.1:9/news/", "kind": "html"},
            'sources["Listing"]',
            "kind html needs a 'selector'",
        ),
        (
            {"name": "Listing", "url": "http://127.0.0.1:9/rss", "selector": '"h3 a"'},
            'sources["Listing"]',
            "'selector' and 'pattern' are for kind html only",
        ),
        (
            {"name": "Listing", "url": "http://127.0.0.1:9/s", "kind": "sitemap", "pattern": "x"},
            'sources["Listing"]',
            "'selector' and 'pattern' are for kind html only",
        ),
        (
            {
                "name": "Listing",
                "url": "http://127.0.0.1:9/news/",
                "kind": "html",
                "selector": '"h3..title a"',
            },
            'sources["Listing"].selector',
            "invalid CSS selector 'h3..title a'",
        ),
        (
            {
                "name": "Listing",
                "url": "http://127.0.0.1:9/news/",
                "kind": "html",
                "pattern": "'(unclosed'",
            },
            'sources["Listing"].pattern',
            "invalid URL pattern '(unclosed'",
        ),
        (
            {"name": "Listing", "url": "http://127.0.0.1:9/news/", "kind": "rss"},
            'sources["Listing"].kind',
            "'feed', 'sitemap', 'html' or 'telegram'",
        ),
    ],
    ids=[
        "html-without-rule",
        "selector-on-feed",
        "pattern-on-sitemap",
        "bad-css",
        "bad-regex",
        "unknown-kind",
    ],
)
def test_configuration_mistakes_stop_the_run_with_file_and_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad: dict[str, str],
    field: str,
    message: str,
) -> None:
    config = write_config(tmp_path, [GOOD, bad])
    lines = config.read_text(encoding="utf-8").splitlines()
    entry = lines.index("  - name: Listing") + 1
    key = field.rsplit(".", 1)[-1]
    line = (
        entry
        if key == 'sources["Listing"]'
        else next(i for i, text in enumerate(lines, 1) if text.startswith(f"    {key}:"))
    )
    assert run_all(config) == 2
    err = capsys.readouterr().err
    assert f"{config}:{line}: {field}: " in err
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]  # nothing written


# -- ``monitor sources test`` on these kinds --------------------------------------------------


def try_source(config: Path, name: str) -> int:
    return monitor(config, "sources", "test", name)


def test_trying_a_news_sitemap_and_a_listing(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.base_url
    server.route("/news-sitemap.xml", static(template("news-sitemap.xml", base), XML))
    serve_articles(server, "/news")
    listed = serve_listing(server)
    config = write_config(
        tmp_path,
        [
            {"name": "Map", "url": f"{base}/news-sitemap.xml", "kind": "sitemap"},
            {
                "name": "List",
                "url": server.url(LISTING_PATH),
                "kind": "html",
                "pattern": "'/news/2026/'",
            },
        ],
    )
    assert try_source(config, "Map") == 0
    out = capsys.readouterr().out
    assert out.startswith("Map: sitemap, 3 items\n")
    assert all(f"\n- {title}\n" in out for title in SITEMAP_TITLES)
    assert "TAGGED film_cooperation" in out and "not tagged" in out

    assert try_source(config, "List") == 0
    out = capsys.readouterr().out
    assert out.startswith("List: html, 3 items\n")
    assert all(url in out for url in listed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]


def test_trying_a_sitemap_index_shows_its_articles(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.base_url
    server.route("/sitemap_index.xml", static(template("sitemap-index.xml", base), XML))
    server.route("/sitemaps/news.xml", static(template("news-sitemap.xml", base), XML))
    serve_articles(server, "/news")
    config = write_config(
        tmp_path, [{"name": "Index", "url": f"{base}/sitemap_index.xml", "kind": "sitemap"}]
    )
    assert try_source(config, "Index") == 0
    out = capsys.readouterr().out
    assert out.startswith("Index: sitemap, 3 items\n")


def test_trying_a_homepage_sitemap_source_follows_robots_txt(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.base_url
    homepage(server)
    server.route("/robots.txt", static("Sitemap: /sitemaps/news.xml\n", "text/plain"))
    server.route("/sitemaps/news.xml", static(template("news-sitemap.xml", base), XML))
    serve_articles(server, "/news")
    config = write_config(tmp_path, [{"name": "Home", "url": f"{base}/", "kind": "sitemap"}])
    assert try_source(config, "Home") == 0
    out = capsys.readouterr().out
    assert "3 items" in out.splitlines()[0]
