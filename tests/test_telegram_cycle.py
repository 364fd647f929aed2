"""``kind: telegram`` end to end: a channel's preview and the articles it links to served on
127.0.0.1, read by ``monitor run`` and ``monitor sources test``, checked in the database. Text
posts are stored with their own text and tagged, link posts with the extracted article; the
first run reads back ``pages`` pages, later runs the newest page with a conditional request,
and nothing is stored twice. A name without a public channel fails alone, with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.localserver import Handler, LocalServer, Reply, Request, static
from tests.sites import HTML, monitor, page, rows, run_all, write_config
from tests.telegram_pages import Post, contact_page, preview

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli", "warm_extraction")]

NOW = datetime.now(UTC).replace(microsecond=0)
CHANNEL = "kinowire"
TREATY = (
    "The film agencies of Kazakhstan and Georgia signed a co-production agreement in Almaty "
    "on Monday.<br/><br/>The agreement lets producers of both countries pool national film "
    "funding for feature films and documentaries, and opens the two national film funds to "
    "joint projects from next year."
)
ARTICLES = {
    "baku-rome-coproduction": (
        "Baku and Rome film agencies sign a co-production treaty",
        (
            "The film agencies of Azerbaijan and Italy signed a co-production treaty in Baku on "
            "Tuesday.",
            "The treaty lets producers of both countries pool national film funding for "
            "features and documentaries.",
            "The first joint project is expected to start shooting in Sheki next spring.",
        ),
    ),
    "tbilisi-film-fund": (
        "Tbilisi opens a regional film fund",
        (
            "Georgia's national film center opened a regional fund for films made with "
            "neighbouring countries.",
            "The fund will support development and production of up to six projects a year.",
            "Applications open in January and close at the end of March.",
        ),
    ),
}


def at(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def link_post(number: int, hours: float, base: str, slug: str) -> Post:
    url = f"{base}/news/{slug}.html"
    return Post(
        number,
        at(hours),
        f'{ARTICLES[slug][0]}: <a href="{url}" target="_blank">read on the site</a>',
        card=(url, "Film Daily", ARTICLES[slug][0]),
    )


def newest(base: str) -> list[Post]:
    return [
        Post(201, at(6), TREATY),
        link_post(202, 5, base, "baku-rome-coproduction"),
        Post(203, at(4), "The Almaty studio's new sound stage, in pictures", photos=3),
        Post(
            204,
            at(3),
            "Accreditation for the industry market of the festival opens next month.",
            forwarded_from=("Almaty Film Festival", "https://t.me/almatyff/45"),
        ),
        Post(205, at(2), "Channel photo updated", service=True),
        Post(206, at(1), "", photos=1),
    ]


def older(base: str) -> list[Post]:
    return [
        Post(181, at(30), "A week of Georgian cinema opens in Baku cinemas on Friday."),
        link_post(182, 29, base, "tbilisi-film-fund"),
    ]


def oldest() -> list[Post]:
    return [Post(170, at(60), "Welcome to the channel.")]


class Channel:
    """The channel's preview: the newest page (answering conditional requests) and the older
    ones by their ``?before=``; ``post`` adds a message to the newest page."""

    def __init__(self, server: LocalServer) -> None:
        base = server.base_url
        self.posts = newest(base)
        self.version = 1
        self.pages: dict[str, Handler] = {
            "before=201": static(preview(CHANNEL, "Kino Wire", older(base), before=181), HTML),
            "before=181": static(preview(CHANNEL, "Kino Wire", oldest(), before=170), HTML),
        }
        self.requests: list[Request] = []
        self._newest = self._page()
        server.route(f"/s/{CHANNEL}", self.handle)
        for slug, (title, paragraphs) in ARTICLES.items():
            server.route(f"/news/{slug}.html", static(page(title, paragraphs), HTML))

    def _page(self) -> Handler:
        body = preview(CHANNEL, "Kino Wire", self.posts, before=201)
        return static(body, HTML, etag=f'"v{self.version}"')

    def post(self, post: Post) -> None:
        self.posts.append(post)
        self.version += 1
        self._newest = self._page()

    def handle(self, request: Request) -> Reply:
        self.requests.append(request)
        return self.pages[request.query](request) if request.query else self._newest(request)

    def asked(self, query: str) -> int:
        return sum(1 for r in self.requests if r.query == query)


def stored(folder: Path) -> dict[str, tuple[str, str, str, str | None, str | None]]:
    """url -> (title, text_origin, text, author, guid) of every stored article."""
    return {
        url: (title, origin, text, author, guid)
        for url, title, origin, text, author, guid in rows(
            folder, "SELECT url, title, text_origin, text, author, guid FROM articles"
        )
    }


def topics(folder: Path, url: str) -> list[str]:
    return [
        topic
        for (topic,) in rows(
            folder,
            f"SELECT t.topic FROM tags t JOIN articles a ON a.id = t.article_id WHERE a.url = '{url}'",
        )
    ]


def telegram_config(folder: Path, base: str, **extra: str) -> Path:
    source = {"name": "Kino Wire", "kind": "telegram", "url": f"{base}/s/{CHANNEL}", **extra}
    return write_config(folder, [source])


def test_a_channel_read_three_times(server: LocalServer, tmp_path: Path) -> None:
    base = server.base_url
    channel = Channel(server)
    config = telegram_config(tmp_path, base, pages="2")

    assert run_all(config) == 0
    articles = stored(tmp_path)
    message = "https://t.me/kinowire/"
    assert set(articles) == {
        message + "201",
        f"{base}/news/baku-rome-coproduction.html",
        message + "203",
        message + "204",
        message + "181",
        f"{base}/news/tbilisi-film-fund.html",
    }
    # A text post: its own text, tagged, its author the channel it was forwarded from if any.
    title, origin, text, author, guid = articles[message + "201"]
    assert title == (
        "The film agencies of Kazakhstan and Georgia signed a co-production agreement in Almaty "
        "on Monday."
    )
    assert (origin, author, guid) == ("feed_content", None, message + "201")
    assert text.startswith(title + "\n\nThe agreement lets producers of both countries")
    assert topics(tmp_path, message + "201") == ["film_cooperation"]
    assert articles[message + "204"][3] == "Almaty Film Festival"
    assert articles[message + "203"][0] == "The Almaty studio's new sound stage, in pictures"
    # A link post: the article, extracted from its page, the message kept as its guid.
    title, origin, text, author, guid = articles[f"{base}/news/baku-rome-coproduction.html"]
    assert (title, origin, guid) == (
        "Baku and Rome film agencies sign a co-production treaty",
        "page",
        message + "202",
    )
    assert "first joint project is expected to start shooting in Sheki" in text
    assert topics(tmp_path, f"{base}/news/baku-rome-coproduction.html") == ["film_cooperation"]
    # Dated by the message: the newest page's first post six hours ago.
    (published,) = rows(tmp_path, f"SELECT published_at FROM articles WHERE url = '{message}201'")[
        0
    ]
    assert published.startswith(at(6).strftime("%Y-%m-%d %H:%M:%S"))
    assert channel.asked("before=201") == 1
    assert channel.asked("before=181") == 0  # pages: 2
    assert server.hits("/news/baku-rome-coproduction.html") == 1

    # Unchanged: the server answers the conditional request with 304 and nothing is read.
    assert run_all(config) == 0
    assert channel.requests[-1].headers.get("if-none-match") == '"v1"'
    assert rows(tmp_path, "SELECT last_status FROM sources") == [("not_modified",)]
    assert len(stored(tmp_path)) == 6

    # A new message: the newest page only is read, and only the new message is stored.
    channel.post(Post(207, at(0.5), "Shooting of the joint Kazakh-Georgian feature starts today."))
    assert run_all(config) == 0
    assert set(stored(tmp_path)) - set(articles) == {message + "207"}
    assert len(stored(tmp_path)) == 7
    assert channel.asked("before=201") == 1
    assert server.hits("/news/baku-rome-coproduction.html") == 1
    assert rows(tmp_path, "SELECT last_status, last_new_items FROM sources") == [("ok", 1)]


def test_the_first_read_goes_back_three_pages_by_default(
    server: LocalServer, tmp_path: Path
) -> None:
    channel = Channel(server)
    config = telegram_config(tmp_path, server.base_url)
    assert run_all(config) == 0
    assert (channel.asked("before=201"), channel.asked("before=181")) == (1, 1)
    assert len(stored(tmp_path)) == 7  # the oldest page's post too


def test_a_name_without_a_channel_fails_alone_with_its_reason(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.base_url
    Channel(server)
    server.route("/s/gonechannel", lambda _: Reply(302, b"", {"Location": "/gonechannel"}))
    server.route("/gonechannel", static(contact_page("gonechannel", None), HTML))
    config = write_config(
        tmp_path,
        [
            {"name": "Gone", "kind": "telegram", "url": f"{base}/s/gonechannel"},
            {"name": "Kino Wire", "kind": "telegram", "url": f"{base}/s/{CHANNEL}"},
        ],
    )
    assert run_all(config) == 0
    assert rows(
        tmp_path,
        "SELECT name, last_status, last_error_code, last_error_message FROM sources ORDER BY name",
    ) == [
        (
            "Gone",
            "error",
            "parse.no_channel",
            "there is no public Telegram channel @gonechannel: the name is unused or was deleted",
        ),
        ("Kino Wire", "ok", None, None),
    ]
    capsys.readouterr()
    assert monitor(config, "sources", "status") == 0
    assert "failing (hard)" in capsys.readouterr().out


def test_trying_a_channel(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.base_url
    Channel(server)
    server.route("/s/closedclub", lambda _: Reply(302, b"", {"Location": "/closedclub"}))
    server.route("/closedclub", static(contact_page("closedclub", "Closed Club"), HTML))
    config = write_config(
        tmp_path,
        [
            {"name": "Kino Wire", "kind": "telegram", "url": f"{base}/s/{CHANNEL}"},
            {"name": "Club", "kind": "telegram", "url": f"{base}/s/closedclub"},
        ],
    )
    assert monitor(config, "sources", "test", "Kino Wire") == 0
    out = capsys.readouterr().out
    assert out.startswith("Kino Wire: telegram, 4 items\n")  # the newest page only
    assert "\n  https://t.me/kinowire/201\n" in out
    assert "feed_content (" in out and "the item's own text) · TAGGED film_cooperation" in out
    assert f"\n  {base}/news/baku-rome-coproduction.html\n" in out
    assert "page text) · TAGGED film_cooperation" in out

    assert monitor(config, "sources", "test", "Club") == 1
    out = capsys.readouterr().out
    assert out.startswith("Club: parse.no_channel: @closedclub (Closed Club) shows no messages")
    assert f"Open {base}/s/closedclub in a browser" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]  # nothing written
