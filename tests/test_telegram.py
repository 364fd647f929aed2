"""``kind: telegram``: a channel's web preview read into messages (``monitor.telegram``), the
messages into items (``monitor.kinds.telegram``: a story of its own, or mostly a link to an
article), and the configuration's checks of ``channel``, ``url`` and ``pages``. The pages are
written in the preview's structure by ``tests.telegram_pages``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.codes import FailureClass, lookup
from monitor.config import load_config
from monitor.errors import ParseError
from monitor.kinds.telegram import (
    LINK_POST_WORDS,
    channel_named_by,
    check_channel,
    check_preview_url,
    message_item,
)
from monitor.models import TELEGRAM_PAGES, FeedItem, SourceKind
from monitor.sources_cmd import find_source
from monitor.telegram import Message, Preview, parse_preview
from tests.telegram_pages import Post, contact_page, preview
from tests.test_config import problems
from tests.test_config import write as write_file

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
URL = "https://t.me/s/kinowire"
LONG_STORY = (
    "The film agencies of Azerbaijan and Italy signed a co-production treaty in Baku on "
    "Tuesday.<br/><br/>The treaty lets producers of both countries pool national film funding "
    "for features and documentaries, and the first joint project is expected to start "
    "shooting in Sheki next spring."
)


def read(posts: list[Post], *, before: int | None = None) -> Preview:
    body = preview("kinowire", "Kino Wire", posts, before=before).encode()
    return parse_preview(body, URL, channel="kinowire", now=NOW)


def only(posts: list[Post]) -> tuple[Message, FeedItem | None]:
    (message,) = read(posts).messages
    return message, message_item(message)


def at(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


# -- messages -------------------------------------------------------------------------------


def test_a_text_post_is_a_story_of_its_own() -> None:
    message, item = only([Post(41, at(2), LONG_STORY)])
    assert message.link == "https://t.me/kinowire/41"
    assert message.published == at(2)
    assert message.text.split("\n\n") == [
        "The film agencies of Azerbaijan and Italy signed a co-production treaty in Baku on "
        "Tuesday.",
        "The treaty lets producers of both countries pool national film funding for features "
        "and documentaries, and the first joint project is expected to start shooting in Sheki "
        "next spring.",
    ]
    assert item == FeedItem(
        url="https://t.me/kinowire/41",
        title="The film agencies of Azerbaijan and Italy signed a co-production treaty in Baku "
        "on Tuesday.",
        guid="https://t.me/kinowire/41",
        content=message.text,
        published=at(2),
        page=False,
    )


def test_a_link_post_is_the_article_it_links_to() -> None:
    message, item = only(
        [
            Post(
                42,
                at(1),
                'Tbilisi opens a regional film fund: <a href="https://kino.example/news/'
                '2?utm_source=telegram" target="_blank" rel="noopener" onclick="return '
                "confirm('Open this link?')\">read more</a> #funds",
                card=("https://kino.example/news/2", "Kino Daily", "Tbilisi opens a film fund"),
            )
        ]
    )
    # The link in the text and the card's are one link (tracking parameters dropped).
    assert message.links == ("https://kino.example/news/2",)
    assert item is not None and item.page
    assert item.url == "https://kino.example/news/2"
    assert item.title == "Tbilisi opens a film fund"  # the card's, the article's own headline
    assert item.guid == "https://t.me/kinowire/42"
    assert item.summary == (
        "Tbilisi opens a regional film fund: read more (https://kino.example/news/2) #funds"
    )
    assert item.content == ""


def test_a_bare_address_is_a_link_post_titled_by_its_words() -> None:
    _, item = only(
        [
            Post(
                43,
                at(1),
                'Almaty festival dates <a href="https://kino.example/a">kino.example/a</a>',
            )
        ]
    )
    assert item is not None and item.url == "https://kino.example/a"
    assert item.title == "Almaty festival dates kino.example/a"
    assert item.summary == "Almaty festival dates kino.example/a"  # the address shows already


def test_long_words_around_a_link_are_a_story_that_keeps_the_link() -> None:
    words = " ".join(["word"] * LINK_POST_WORDS)  # and the link's own word: one too many
    message, item = only([Post(44, at(1), f'{words} <a href="https://kino.example/b">source</a>')])
    assert item is not None and not item.page
    assert item.url == message.link
    assert item.content.endswith("word source (https://kino.example/b)")
    shorter = " ".join(["word"] * (LINK_POST_WORDS - 1))
    _, link_post = only([Post(45, at(1), f'{shorter} <a href="https://kino.example/b">b</a>')])
    assert link_post is not None and link_post.url == "https://kino.example/b"


def test_two_articles_or_only_telegram_links_make_a_story() -> None:
    _, two = only(
        [
            Post(
                46,
                at(1),
                'Two takes: <a href="https://kino.example/c">one</a> and '
                '<a href="https://news.example/d">two</a>',
            )
        ]
    )
    assert two is not None and two.url == "https://t.me/kinowire/46" and not two.page
    message, mention = only(
        [
            Post(
                47,
                at(1),
                'Read <a href="https://t.me/almatyff">@almatyff</a> and '
                '<a href="https://t.me/almatyff/45">their post</a>',
            )
        ]
    )
    assert mention is not None and not mention.page
    assert message.links == ("https://t.me/almatyff", "https://t.me/almatyff/45")
    # A mention shows its name only; the post's address is written after its words.
    assert mention.content == "Read @almatyff and their post (https://t.me/almatyff/45)"


def test_an_album_is_one_message_with_its_caption() -> None:
    message, item = only([Post(50, at(1), "Photos from the festival's opening night", photos=4)])
    assert message.id == 50 and message.links == ()  # the photos' own addresses are not links
    assert item is not None and item.content == "Photos from the festival's opening night"
    assert item.title == "Photos from the festival's opening night"
    _, uncaptioned = only([Post(60, at(1), "", photos=3)])
    assert uncaptioned is None  # nothing to read


def test_a_forwarded_post_names_where_it_came_from() -> None:
    message, item = only(
        [
            Post(
                70,
                at(1),
                LONG_STORY,
                forwarded_from=("Almaty Film Festival", "https://t.me/almatyff/45"),
            )
        ]
    )
    assert message.forwarded_from == "Almaty Film Festival"
    assert item is not None and item.author == "Almaty Film Festival"
    assert item.url == "https://t.me/kinowire/70"  # the channel's message, not the original


def test_a_reply_keeps_its_own_text_only() -> None:
    message, _ = only([Post(71, at(1), "Dates confirmed.", reply_to="When is the festival?")])
    assert message.text == "Dates confirmed."


def test_service_messages_and_photos_without_words_are_left_out() -> None:
    page = read(
        [
            Post(80, at(3), "Channel created", service=True),
            Post(81, at(2), "", photos=1),
            Post(82, at(1), "A day at the studio in Baku."),
        ]
    )
    assert [m.id for m in page.messages] == [82, 81]
    assert [i.guid for i in map(message_item, page.messages) if i] == ["https://t.me/kinowire/82"]


def test_messages_newest_first_and_the_older_page() -> None:
    page = read([Post(n, at(100 - n), f"Message {n}.") for n in (90, 92, 91)], before=90)
    assert page.title == "Kino Wire"
    assert [m.id for m in page.messages] == [92, 91, 90]
    assert page.older == "https://t.me/s/kinowire?before=90"
    local = parse_preview(
        preview("kinowire", "Kino Wire", [Post(5, at(1), "x")], before=5).encode(),
        "http://127.0.0.1:8080/s/kinowire?before=30",
        channel="kinowire",
        now=NOW,
    )
    assert local.older == "http://127.0.0.1:8080/s/kinowire?before=5"


def test_the_first_page_of_a_channel_leads_nowhere_older() -> None:
    assert read([Post(1, at(1), "Hello")]).older is None


def test_a_channel_without_messages_is_empty_not_an_error() -> None:
    assert read([]) == Preview(title="Kino Wire", messages=(), older=None)


def test_a_date_in_the_future_is_not_believed() -> None:
    message, item = only([Post(93, NOW + timedelta(days=3), "From the future.")])
    assert message.published is None and item is not None and item.published is None


def test_an_unused_name_is_a_hard_error_that_says_so() -> None:
    with pytest.raises(ParseError) as info:
        parse_preview(
            contact_page("kinowire", None).encode(),
            "https://t.me/kinowire",
            channel="kinowire",
            now=NOW,
        )
    assert info.value.code == "parse.no_channel"
    assert info.value.message == (
        "there is no public Telegram channel @kinowire: the name is unused or was deleted"
    )
    entry = lookup("parse.no_channel")
    assert entry is not None and entry.backoff is FailureClass.HARD


def test_a_private_channel_is_named_with_why_it_cannot_be_read() -> None:
    with pytest.raises(ParseError) as info:
        parse_preview(
            contact_page("closedclub", "Closed Club").encode(),
            "https://t.me/closedclub",
            channel="closedclub",
            now=NOW,
        )
    assert info.value.code == "parse.no_channel"
    assert info.value.message.startswith("@closedclub (Closed Club) shows no messages on the web")
    assert "private channel" in info.value.message


def test_an_empty_answer_is_not_a_channel_either() -> None:
    with pytest.raises(ParseError) as info:
        parse_preview(b"  ", URL, channel="kinowire", now=NOW)
    assert info.value.code == "parse.empty"


# -- names and addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "name"),
    [("kinowire", "kinowire"), ("@Kino_Wire2", "Kino_Wire2"), (" a1234 ", "a1234")],
)
def test_channel_names(given: str, name: str) -> None:
    assert check_channel(given) == name


@pytest.mark.parametrize("given", ["kino", "1kinowire", "kino-wire", "k" * 33, "t.me/kinowire"])
def test_not_channel_names(given: str) -> None:
    with pytest.raises(ValueError, match="is not a Telegram channel name"):
        check_channel(given)


@pytest.mark.parametrize(
    "url",
    [
        "https://t.me/s/kinowire",
        "https://telegram.me/s/kinowire/",
        "http://127.0.0.1:8080/s/kinowire",
        "http://localhost/s/kinowire",
    ],
)
def test_preview_addresses(url: str) -> None:
    check_preview_url(url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://t.me/kinowire", "write https://t.me/s/kinowire, or channel: kinowire"),
        ("https://t.me/kinowire/1234", "write https://t.me/s/kinowire, or channel: kinowire"),
        ("https://t.me/s/kinowire?before=40", "is not a channel's web preview"),
        ("https://news.example/s/kinowire", "is not a Telegram channel's preview"),
        ("https://t.me/s/kin", "is not a Telegram channel name"),
    ],
)
def test_not_preview_addresses(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("?", r"\?")):
        check_preview_url(url)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://t.me/kinowire", "kinowire"),
        ("https://telegram.me/s/kinowire/", "kinowire"),
        ("https://t.me/kinowire/1234", None),  # a message, not a channel
        ("https://t.me/kin", None),
        ("https://kinowire.example/", None),
        ("http://127.0.0.1:8080/s/kinowire", None),  # a local copy is added by hand
    ],
)
def test_channels_named_by_addresses(url: str, name: str | None) -> None:
    assert channel_named_by(url) == name


# -- configuration --------------------------------------------------------------------------


def write(tmp_path: Path, entries: str) -> Path:
    return write_file(tmp_path, "sources:\n" + entries)


def test_a_channel_stands_for_its_preview(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "  - name: Kino Wire\n"
            "    kind: telegram\n"
            "    channel: '@kinowire'\n"
            "  - name: Film Club\n"
            "    kind: telegram\n"
            "    url: https://t.me/s/filmclub\n"
            "    pages: 5\n",
        )
    )
    wire, club = config.sources
    assert (wire.kind, wire.url, wire.pages) == (
        SourceKind.TELEGRAM,
        "https://t.me/s/kinowire",
        TELEGRAM_PAGES,
    )
    assert (club.url, club.pages) == ("https://t.me/s/filmclub", 5)


def test_telegram_mistakes_with_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  - name: A\n"  # 2
        "    kind: telegram\n"  # 3
        "    channel: kin-o\n"  # 4
        "  - name: B\n"  # 5
        "    kind: telegram\n"  # 6
        "    url: https://t.me/filmclub\n"  # 7
        "  - name: C\n"  # 8
        "    kind: telegram\n"  # 9
        "    channel: cinemaclub\n"  # 10
        "    url: https://t.me/s/cinemaclub\n"  # 11
        "  - name: D\n"  # 12
        "    kind: telegram\n"  # 13
        "  - name: E\n"  # 14
        "    kind: telegram\n"  # 15
        "    channel: kinowire\n"  # 16
        "    pages: 0\n"  # 17
        "  - name: F\n"  # 18
        "    url: https://f.example/rss\n"  # 19
        "    pages: 2\n"  # 20
        "  - name: G\n"  # 21
        "    channel: filmclub\n",  # 22
    )
    assert problems(path) == [
        f"{path}:4: sources[\"A\"].channel: 'kin-o' is not a Telegram channel name: 5 to 32 "
        "letters, digits or underscores, the first a letter (the name in the channel's address "
        "t.me/<name>)",
        f"{path}:7: sources[\"B\"].url: 'https://t.me/filmclub' is not a channel's web preview; "
        "write https://t.me/s/filmclub, or channel: filmclub instead of url",
        f"{path}:11: sources[\"C\"].url: 'channel' stands for the url: give one of them, not both",
        f'{path}:12: sources["D"].url: required field is missing: a telegram source needs '
        "'channel: <name>' or 'url: https://t.me/s/<name>'",
        f'{path}:17: sources["E"].pages: Input should be greater than or equal to 1',
        f"{path}:18: sources[\"F\"]: 'channel' and 'pages' are for kind telegram only",
        f"{path}:21: sources[\"G\"].url: required field is missing ('channel' names a Telegram "
        "channel: add 'kind: telegram')",
    ]


def test_a_channel_and_its_address_are_one_source(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  - name: A\n"
        "    kind: telegram\n"
        "    channel: kinowire\n"
        "  - name: B\n"
        "    kind: telegram\n"
        "    url: https://t.me/s/kinowire\n",
    )
    assert problems(path) == [
        f'{path}:7: sources["B"].url: duplicate source url (first used at line 2)'
    ]


def test_trying_a_telegram_address_tries_the_channel(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "  - name: Wire\n    url: https://wire.example/rss\n"))
    source = find_source(config, "https://t.me/kinowire")
    assert (source.kind, source.url) == (SourceKind.TELEGRAM, "https://t.me/s/kinowire")
    assert find_source(config, "https://wire.example/feed").kind is SourceKind.FEED


# -- any page -------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "Film",
        "co-production",
        "<br/>",
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        '<a href="https://kino.example/x?a=1&amp;b=2">',
        '<a href="https://t.me/other/5">',
        '<a href="?q=%23news">',
        "</a>",
        "#news",
        "kino.example/y",
        "&amp;",
        "<",
        "\u00a0",
        "Кино",
    ]
)


@settings(max_examples=200)
@given(st.lists(_PIECES, max_size=40).map(" ".join))
def test_any_message_text_reads_into_one_item_or_none(text: str) -> None:
    message, item = only([Post(7, at(1), text)])
    assert "<b>" not in message.text and "</a>" not in message.text
    assert all(link.startswith("https://") for link in message.links)
    if item is not None:
        assert item.guid == "https://t.me/kinowire/7"
        assert item.page == (item.url != message.link)
        assert item.url == message.link or item.url in message.links


@settings(max_examples=200)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_body_is_a_preview_or_a_parse_error(body: bytes) -> None:
    try:
        parse_preview(body, URL, channel="kinowire", now=NOW)
    except ParseError as exc:
        assert exc.code in ("parse.empty", "parse.no_channel")
