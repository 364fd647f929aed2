"""Values that travel between the pipeline's stages.

Every stage takes and returns these frozen dataclasses; no library object (httpx response,
feedparser dict, trafilatura document) leaves the stage that made it. Datetimes are aware and in
UTC unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class SourceKind(StrEnum):
    """What a source's address serves; each kind is read by its module in ``monitor.kinds``."""

    FEED = "feed"  # RSS, Atom or JSON Feed
    SITEMAP = "sitemap"  # a (news) sitemap, a sitemap index, or the site, to look up in robots.txt
    HTML = "html"  # a page listing articles, read with a selector or a URL pattern
    TELEGRAM = "telegram"  # a public Telegram channel's web preview (t.me/s/<channel>)


# Pages of a Telegram channel's preview read on its first fetch (about 20 messages a page).
TELEGRAM_PAGES = 3


@dataclass(frozen=True)
class Source:
    """One outlet's feed, as configured in ``sources.yaml``."""

    name: str
    url: str
    language: str | None = None
    country: str | None = None
    enabled: bool = True
    interval: timedelta = timedelta(hours=1)  # the first interval; it then adapts (``adaptive``)
    kind: SourceKind = SourceKind.FEED
    selector: str | None = None  # kind html: CSS selector of the article links
    pattern: str | None = None  # kind html: regular expression the article URLs match
    robots: bool = True  # respect robots.txt for article pages
    adaptive: bool = True  # let the interval follow how often the source publishes
    pages: int = TELEGRAM_PAGES  # kind telegram: preview pages read on the first fetch


@dataclass(frozen=True)
class Validators:
    """What we remember of a feed's last successful fetch, to make the next one cheap."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A completed HTTP exchange. ``status`` is 200 (body holds the content) or 304 (empty)."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, normalised: canonical absolute link, plain-text summary, UTC time."""

    url: str
    title: str
    guid: str | None = None
    summary: str = ""
    content: str = ""
    published: datetime | None = None
    published_raw: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    # False when the item is its own story (a Telegram message): its text is ``content`` and its
    # link is not fetched for a page.
    page: bool = True


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: tuple[FeedItem, ...]
    version: str
    warning: str | None = None  # a recoverable problem (feedparser's bozo reason)
    # Documents this one leads to, read in turn: a sitemap index's sitemaps, a channel's older page
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageText:
    """What extraction found on an article page."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    sitename: str | None = None


class TextOrigin(StrEnum):
    """Where an article's text came from."""

    PAGE = "page"
    FEED_CONTENT = "feed_content"
    FEED_SUMMARY = "feed_summary"
    TITLE_ONLY = "title_only"


@dataclass(frozen=True)
class Evidence:
    """A rule that fired: the matched term (as written in the text) and its sentence."""

    term: str
    text: str
    concept: str = ""


@dataclass(frozen=True)
class Tagging:
    """A tagger's verdict on one article. ``topics`` is empty when nothing was recognised."""

    topics: tuple[str, ...] = ()
    score: float = 0.0
    aspects: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    language: str | None = None

    @property
    def tagged(self) -> bool:
        return bool(self.topics)


@dataclass(frozen=True)
class Article:
    """An item ready to be stored: feed data plus the extracted text and its tagging."""

    source: str
    url: str
    title: str
    text: str
    text_origin: TextOrigin
    fetched_at: datetime
    guid: str | None = None
    summary: str = ""
    published: datetime | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    language: str | None = None
    extract_error: str | None = None  # stable code of why the page text was not used
    tagging: Tagging = field(default_factory=Tagging)


class SourceStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SourceOutcome:
    """What happened to one source in one cycle."""

    name: str
    url: str
    status: SourceStatus
    new_items: int = 0
    error_code: str | None = None
    error_message: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunReport:
    run_id: int
    started_at: datetime
    finished_at: datetime
    outcomes: tuple[SourceOutcome, ...]
    tagged: int = 0
    alerts_sent: int = 0  # stories sent by alert rules after the cycle, once a channel
    alert_failures: tuple[str, ...] = ()  # one message per alert channel that failed (kept)

    @property
    def new_items(self) -> int:
        return sum(o.new_items for o in self.outcomes)

    @property
    def all_failed(self) -> bool:
        """True when sources were attempted and not one of them could be fetched."""
        attempted = [o for o in self.outcomes if o.status is not SourceStatus.SKIPPED]
        return bool(attempted) and all(o.status is SourceStatus.ERROR for o in attempted)


@dataclass(frozen=True)
class Story:
    """A tagged article as the digest shows it; ``published`` is in the digest's time zone."""

    url: str
    title: str
    source: str
    language: str | None
    published: datetime
    topics: tuple[str, ...]
    score: float
    aspects: tuple[str, ...]
    countries: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    summary: str
    also: tuple[AlsoIn, ...] = ()
    dated_by_fetch: bool = False  # the story had no date; its fetch time placed it


@dataclass(frozen=True)
class AlsoIn:
    url: str
    source: str
    language: str | None


@dataclass(frozen=True)
class SourceHealth:
    """A source's state for the digest: its last attempt and how it went."""

    name: str
    url: str
    status: SourceStatus
    new_items: int
    error: str | None  # stable code, e.g. fetch.http_500
    error_message: str | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_item: datetime | None = None  # when its newest article was stored
    recent_items: int = 0  # articles stored in the RECENT_DAYS before the digest's end
    silent: bool = False  # no new article for much longer than usual


@dataclass(frozen=True)
class FeedbackSummary:
    """The office's judgements made during a period: stories marked, and how many of them
    disagreed with the monitor (tagged but not relevant, or relevant but not tagged)."""

    marked: int
    contradicted: int


@dataclass(frozen=True)
class Digest:
    date: str  # YYYY-MM-DD in ``timezone``: the day, or the first day of a period
    timezone: str
    generated_at: datetime
    stories: tuple[Story, ...]
    sources: tuple[SourceHealth, ...]
    until: str | None = None  # the last day of a period of several days
    feedback: FeedbackSummary | None = None  # a period's digest says what the office judged

    @property
    def name(self) -> str:
        """The files' name: the day, or ``first_last`` for a period, so that no period's
        digest replaces another's."""
        return f"{self.date}_{self.until}" if self.until else self.date

    @property
    def period(self) -> str:
        return f"{self.date} – {self.until}" if self.until else self.date
