"""``kind: telegram``: a public Telegram channel, read from its web preview
(``https://t.me/s/<channel>``, parsed by ``monitor.telegram``); ``channel: <name>`` in the
configuration stands for that address.

Every message with words is an item. Its guid is the message's address
``https://t.me/<channel>/<id>``, its date when it was posted, its author the channel or person it
was forwarded from. What the story is depends on the message:

- A message that is mostly a link to an article is that article: it has exactly one link outside
  Telegram (in its text or its link card, counted once) and at most ``LINK_POST_WORDS`` words
  besides it (addresses and hashtags not counted), as in "Baku and Rome sign a co-production
  treaty https://outlet.example/news/123". The item's link is the article's, which is fetched
  and extracted like a feed's item; the message's words (with their links) are the item's
  summary, and its text should the page fail. An article another source has stored already is
  the same story and is not stored again.
- Any other message is a story in itself: its text, each link's address written after its
  words, is the item's content and its link is the message's. The per-item path takes that
  text as it is and fetches nothing (``FeedItem.page``).

Messages without words (a photo, an album without caption, a sticker) and service messages
bring nothing to read and are left out. On a source's first read, the preview is followed back
``pages`` pages through its "load more" link (``?before=<id>``); later reads take the newest page
only, with the validators of the last one (conditional requests, where the server allows them).
A name that is no public channel fails with ``parse.no_channel``, which backs off like a gone
address. Private channels, and the comments under a channel's posts, are not on the preview and
cannot be read.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor.errors import FetchError, ParseError
from monitor.kinds import Reader
from monitor.models import FeedItem, Fetched, ParsedFeed, Source, SourceKind
from monitor.text import first_sentences

if TYPE_CHECKING:
    from monitor.fetch import Fetcher
    from monitor.telegram import Message

log = logging.getLogger(__name__)

LINK_POST_WORDS = 30  # words besides the link, at most, in a message that is "mostly a link"
MAX_PAGES = 20  # the most a source may ask to read back on its first fetch
TITLE_CHARS = 160

# Telegram usernames: 5 to 32 letters, digits and underscores, the first a letter.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
# Telegram's own hosts: links there are other messages, channels and people, never an article.
TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "telegram.org"})
_PREVIEW_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(?:[\w-]+\.)+[a-z]{2,}(?:[/?#]\S*)?", re.I)


def check_channel(value: str) -> str:
    """The channel's name as the preview's address needs it (an ``@`` in front dropped); raise
    ValueError, naming it, unless it is a Telegram username."""
    name = value.strip().removeprefix("@")
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{value!r} is not a Telegram channel name: 5 to 32 letters, digits or "
            "underscores, the first a letter (the name in the channel's address t.me/<name>)"
        )
    return name


def preview_url(channel: str) -> str:
    return f"https://t.me/s/{channel}"


def check_preview_url(url: str) -> None:
    """Raise ValueError unless ``url`` is a channel's web preview: ``https://t.me/s/<name>``
    (or telegram.me). A private or loopback address with that path is accepted as a local copy
    of the preview (the tests, an offline demo)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    match = re.fullmatch(r"/s/([^/]+)/?", parts.path)
    if host not in _PREVIEW_HOSTS and not _local(host):
        raise ValueError(
            f"{url!r} is not a Telegram channel's preview; write https://t.me/s/<name>, or "
            "channel: <name> instead of url"
        )
    if match is None or parts.query or parts.fragment:
        segments = [p for p in parts.path.split("/") if p]
        named = segments[1:] if segments[:1] == ["s"] else segments
        name = named[0] if named else "<name>"
        raise ValueError(
            f"{url!r} is not a channel's web preview; write https://t.me/s/{name}, or "
            f"channel: {name} instead of url"
        )
    check_channel(match.group(1))


def channel_named_by(url: str) -> str | None:
    """The channel a Telegram address names (``t.me/<name>``, ``t.me/s/<name>``), or None for
    any other address."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in _PREVIEW_HOSTS:
        return None
    path = parts.path.strip("/").split("/")
    name = path[1] if len(path) == 2 and path[0] == "s" else path[0] if len(path) == 1 else ""
    return name if _NAME.fullmatch(name) else None


def channel_of(url: str) -> str:
    """The channel's name in its preview's address."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback


class TelegramReader(Reader):
    kind = SourceKind.TELEGRAM
    options = ("channel", "pages")

    def parse(self, source: Source, fetched: Fetched, *, now: datetime, tz: tzinfo) -> ParsedFeed:
        return _read(source, fetched, now)

    async def expand(
        self,
        fetcher: Fetcher,
        source: Source,
        fetched: Fetched,
        first: ParsedFeed,
        *,
        now: datetime,
        private_ok: bool,
        first_read: bool,
    ) -> ParsedFeed:
        """On the first read, the older pages, up to ``source.pages`` in all. A page that
        cannot be read ends the walk back; what was read is kept."""
        if not first_read:
            return first
        items = list(first.items)
        seen = {fetched.url, fetched.final_url}
        older = first.children[0] if first.children else None
        for _ in range(source.pages - 1):
            if older is None or older in seen:
                break
            seen.add(older)
            try:
                page = _read(
                    source,
                    await fetcher.fetch(older, accept=self.accept, private_ok=private_ok),
                    now,
                )
            except (FetchError, ParseError) as exc:
                log.info("%s: older messages at %s not read (%s)", source.name, older, exc)
                break
            items.extend(page.items)
            older = page.children[0] if page.children else None
        return ParsedFeed(first.title, tuple(items), first.version, first.warning)

    def advice(self, source: Source, code: str) -> str | None:
        if code != "parse.no_channel":
            return None
        return (
            f"Open {source.url} in a browser: only a public channel whose messages show there "
            "can be followed. Check the name in the channel's address (t.me/<name>)."
        )


def _read(source: Source, fetched: Fetched, now: datetime) -> ParsedFeed:
    from monitor.telegram import parse_preview  # lxml: see monitor.kinds

    preview = parse_preview(
        fetched.body,
        fetched.final_url,
        channel=channel_of(source.url),
        now=now,
        content_type=fetched.headers.get("content-type"),
    )
    items = tuple(i for i in map(message_item, preview.messages) if i is not None)
    older = (preview.older,) if preview.older else ()
    return ParsedFeed(preview.title, items, "telegram", children=older)


def message_item(message: Message) -> FeedItem | None:
    """The item a message makes (see the module), or None for a message without words."""
    article = article_link(message)
    if article is not None:
        return FeedItem(
            url=article,
            title=message.card_title or headline(message.text),
            guid=message.link,
            summary=message.text_with_links,
            published=message.published,
            author=message.forwarded_from,
        )
    if not message.text:
        return None
    return FeedItem(
        url=message.link,
        title=headline(message.text),
        guid=message.link,
        content=message.text_with_links,
        published=message.published,
        author=message.forwarded_from,
        page=False,
    )


def article_link(message: Message) -> str | None:
    """The article a message is mostly a link to, or None (see the module)."""
    outside = [link for link in message.links if not _on_telegram(link)]
    if len(outside) != 1:
        return None
    words = [
        w
        for w in message.text.split()
        if not w.startswith("#") and not _ADDRESS.fullmatch(w.strip(".,;:!?()«»\"'"))
    ]
    return outside[0] if len(words) <= LINK_POST_WORDS else None


def _on_telegram(link: str) -> bool:
    host = (urlsplit(link).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in TELEGRAM_HOSTS)


def headline(text: str) -> str:
    """A message's title: its first line, or that line's first sentence when it is long."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if len(line) <= TITLE_CHARS:
        return line
    return first_sentences(line, count=1, max_chars=TITLE_CHARS)


READER = TelegramReader()
