"""``monitor sources status | validate | add | test``: looking after the list of outlets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from monitor.config import Config, load_config
from monitor.digest import is_silent
from monitor.discover import FoundFeed, discover_feeds
from monitor.errors import ConfigError, Problem, SourceError
from monitor.extractors import ThreadExtractor
from monitor.fetch import Fetcher
from monitor.item import ItemTools, private_ok, process_item
from monitor.kinds import read_source, reader
from monitor.kinds.telegram import channel_named_by, preview_url
from monitor.models import (
    Article,
    FeedItem,
    ParsedFeed,
    Source,
    SourceHealth,
    SourceKind,
    SourceStatus,
    Tagging,
    TextOrigin,
)
from monitor.robots import Robots
from monitor.schedule import failure_class
from monitor.sources_file import append_source, entry_yaml, suggest_name
from monitor.store import Store
from monitor.tag import Tagger, TagInput, load_tagger
from monitor.text import plural

# -- status ---------------------------------------------------------------------------------


def status(config: Config, out: TextIO, now: datetime | None = None) -> None:
    """A table of every source's health; reads the database, never creates it."""
    now = now or datetime.now(UTC)
    health: dict[str, SourceHealth] = {}
    due: dict[str, datetime | None] = {}
    if config.sqlite_path is None or config.sqlite_path.exists():
        with Store(config.storage_url) as store:
            health, due = _health(config, store, now)
    rows = [STATUS_COLUMNS, *status_rows(config, health, due, now)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


STATUS_COLUMNS = (
    "name", "kind", "lang", "every", "state", "last success", "fails", "last error", "next",
    "30 days",
)  # fmt: skip


def health_table(config: Config, store: Store, now: datetime) -> list[tuple[str, ...]]:
    """The rows of ``monitor sources status`` (columns ``STATUS_COLUMNS``), from an open store:
    the workspace shows the same table."""
    health, due = _health(config, store, now)
    return status_rows(config, health, due, now)


def _health(
    config: Config, store: Store, now: datetime
) -> tuple[dict[str, SourceHealth], dict[str, datetime | None]]:
    names = [s.name for s in config.sources]
    health = {h.name: h for h in store.health(names, now - timedelta(days=1), now)}
    return health, store.next_due(names)


def status_rows(
    config: Config,
    health: dict[str, SourceHealth],
    due: dict[str, datetime | None],
    now: datetime,
) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for source in config.sources:
        h = health.get(source.name)
        rows.append(
            (
                source.name,
                source.kind.value,
                source.language or "-",
                _span(source.interval),
                _state(source, h, now),
                _ago(h.last_success, now) if h else "-",
                str(h.consecutive_failures) if h and h.consecutive_failures else "-",
                h.error or "-" if h else "-",
                _when(due.get(source.name), now) if source.enabled else "-",
                _per_week(h),
            )
        )
    return rows


def _state(source: Source, health: SourceHealth | None, now: datetime) -> str:
    if not source.enabled:
        return "disabled"
    if health is None or not health.url or health.status is SourceStatus.SKIPPED:
        return "never fetched"
    if health.status is SourceStatus.ERROR:
        return f"failing ({failure_class(health.error).value})"
    if is_silent(health, now):
        return "silent"
    return "ok"


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    if now - when < timedelta(minutes=1):
        return "just now"
    return _span(now - when) + " ago"


def _when(when: datetime | None, now: datetime) -> str:
    if when is None or when <= now:
        return "now"
    return "in " + _span(when - now)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes // (24 * 60)}d"


def _per_week(health: SourceHealth | None) -> str:
    return str(health.recent_items) if health is not None and health.url else "-"


# -- validate -------------------------------------------------------------------------------


def validate(path: Path, out: TextIO) -> Config:
    """Load the configuration and every rule file it names. Raises ConfigError with every
    problem found."""
    config = load_config(path)
    load_tagger(config.topic_files)
    enabled = sum(1 for s in config.sources if s.enabled)
    out.write(f"{path}: valid; {plural(len(config.sources), 'source')} ({enabled} enabled)\n")
    return config


# -- add ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddOptions:
    name: str | None = None
    language: str | None = None
    country: str | None = None
    interval: str | None = None
    pick: int = 1  # which of the feeds found (1 = the best)
    dry_run: bool = False


def add(config: Config, url: str, options: AddOptions, out: TextIO) -> int:
    """Find the feeds of ``url``, append the chosen one to the configuration file. Returns the
    exit status: 0 added (or shown with ``dry_run``), 1 no feed found."""
    url = with_scheme(url)
    channel = channel_named_by(url)
    if channel is not None:
        out.write(
            f"{url} is a Telegram channel, which has no feed; add it to {config.path} as:\n"
            f"  - name: {options.name or channel}\n    kind: telegram\n    channel: {channel}\n"
            "(see 'Telegram channels' in the README)\n"
        )
        return 1
    found = asyncio.run(_discover(config, url))
    if not found:
        out.write(
            f"no feed found at {url}: neither declared by the page nor at the usual addresses.\n"
            "If the site has a news sitemap or a list of articles, add it by hand with "
            "'kind: sitemap' or 'kind: html' (see the README).\n"
        )
        return 1
    for i, feed in enumerate(found, 1):
        mark = "*" if i == options.pick else " "
        out.write(f"{mark} {i}. {feed.url}  ({feed.items} items; {feed.title or 'no title'})\n")
    if not 1 <= options.pick <= len(found):
        raise ConfigError([_cli_problem("--pick", f"choose a feed between 1 and {len(found)}")])
    chosen = found[options.pick - 1]
    entry: dict[str, object] = {
        "name": options.name
        or suggest_name(chosen.title, chosen.url, [s.name for s in config.sources]),
        "url": chosen.url,
        "language": options.language or chosen.language,
        "country": options.country.upper() if options.country else None,
    }
    if options.interval:
        entry["interval"] = options.interval
    # Every check of a real addition (codes, duplicates, the whole file loading), then either
    # the entry shown or the file changed.
    line = append_source(config.path, entry, dry_run=options.dry_run)
    if options.dry_run:
        out.write(f"would add at {config.path}:{line} (nothing written):\n{entry_yaml(entry)}")
        return 0
    out.write(f"added {entry['name']!r} at {config.path}:{line}\n")
    if not entry["language"] or not entry["country"]:
        out.write("set its language and country there (or pass --language and --country)\n")
    return 0


async def _discover(config: Config, url: str) -> list[FoundFeed]:
    async with Fetcher(config.fetch) as fetcher:
        return await discover_feeds(url, fetcher)


def with_scheme(url: str) -> str:
    """``oxu.az`` or ``oxu.az/rss`` as a person types it: https, as every outlet serves today."""
    text = url.strip()
    return text if "://" in text else f"https://{text.lstrip('/')}"


def _cli_problem(field: str, message: str) -> Problem:
    return Problem("command line", None, field, message)


# -- test -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tried:
    item: FeedItem
    text_origin: str
    text_chars: int
    page_error: str | None
    topics: tuple[str, ...]
    score: float
    aspects: tuple[str, ...]
    countries: tuple[str, ...]
    evidence: str | None
    language: str | None


def find_source(config: Config, name_or_url: str, language: str | None = None) -> Source:
    """A configured source by name (any case), or a throw-away source for a URL: a Telegram
    channel's when it names one, else a feed's."""
    for source in config.sources:
        if source.name.casefold() == name_or_url.casefold() or source.url == name_or_url:
            return source
    if "://" not in name_or_url:
        names = ", ".join(s.name for s in config.sources)
        raise ConfigError(
            [_cli_problem("NAME", f"no source named {name_or_url!r} (configured: {names})")]
        )
    channel = channel_named_by(name_or_url)
    if channel is not None:
        return Source(
            name=name_or_url, url=preview_url(channel), language=language, kind=SourceKind.TELEGRAM
        )
    return Source(name=name_or_url, url=name_or_url, language=language)


def test(config: Config, source: Source, tagger: Tagger, out: TextIO, *, items: int = 5) -> int:
    """Fetch, parse, extract and tag the latest ``items`` of ``source`` and print what the
    digest would show; nothing is written. Exit status 1 when the source itself fails."""
    try:
        feed, tried = asyncio.run(_try(config, source, tagger, items))
    except SourceError as exc:
        out.write(f"{source.name}: {exc.code}: {exc.message}\n")
        advice = reader(source.kind).advice(source, exc.code)
        if advice:
            out.write(advice + "\n")
        return 1
    out.write(f"{source.name}: {feed.version}, {len(feed.items)} items")
    out.write(f" ({feed.warning})\n" if feed.warning else "\n")
    for t in tried:
        verdict = (
            f"TAGGED {', '.join(t.topics)} {t.score:.2f}; aspects: {', '.join(t.aspects) or '-'}; "
            f"countries: {', '.join(t.countries) or '-'}"
            if t.topics
            else "not tagged"
        )
        page = (
            "page text"
            if t.text_origin == TextOrigin.PAGE
            else f"page not used: {t.page_error}"
            if t.page_error
            else "the item's own text"
        )
        out.write(f"\n- {t.item.title or '(no title)'}\n  {t.item.url}\n")
        out.write(
            f"  {t.language or '?'} · {t.text_origin} ({t.text_chars} chars; {page}) · {verdict}\n"
        )
        if t.evidence:
            out.write(f"  why: {t.evidence}\n")
    return 0


async def _try(
    config: Config, source: Source, tagger: Tagger, count: int
) -> tuple[ParsedFeed, list[Tried]]:
    async with Fetcher(config.fetch) as fetcher:
        private = await private_ok(fetcher, source)
        fetched = await fetcher.fetch(
            source.url, accept=reader(source.kind).accept, private_ok=private
        )
        feed = await read_source(
            fetcher,
            source,
            fetched,
            now=datetime.now(UTC),
            timezone=config.timezone,
            private_ok=private,
        )
        latest = sorted(
            feed.items,
            key=lambda i: i.published or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )[:count]
        with ThreadExtractor() as extract:
            tools = ItemTools(
                fetcher=fetcher,
                extract=extract,
                tag=_in_thread(tagger),
                clock=lambda: datetime.now(UTC),
                robots=Robots(fetcher),
            )
            articles = await asyncio.gather(
                *(process_item(tools, source, item, private=private) for item in latest)
            )
        return feed, [_tried(i, a) for i, a in zip(latest, articles, strict=True)]


def _in_thread(tagger: Tagger) -> Callable[[TagInput], Awaitable[Tagging]]:
    async def tag(doc: TagInput) -> Tagging:
        return await asyncio.to_thread(tagger.tag, doc)

    return tag


def _tried(item: FeedItem, article: Article) -> Tried:
    tagging = article.tagging
    return Tried(
        item=item,
        text_origin=article.text_origin.value,
        text_chars=len(article.text),
        page_error=article.extract_error,
        topics=tagging.topics,
        score=tagging.score,
        aspects=tagging.aspects,
        countries=tagging.countries,
        evidence=tagging.evidence[0].text if tagging.evidence else None,
        language=tagging.language,
    )
