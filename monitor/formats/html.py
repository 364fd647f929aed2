"""The digest as a self-contained HTML page, and the index of all digests.

Pure: a ``Digest`` in, text out. Everything that came from a feed is escaped:
the templates autoescape, and the only markup built here (the highlighted evidence) is assembled
from escaped pieces. Links are kept only for http(s) URLs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from monitor.coverage import banner, cause_lines, coverage_of
from monitor.formats import DigestFormat, GroupBy, View, best_first, evidence_by_sentence
from monitor.labels import ASPECT_ORDER, Labels, country_name, labels_for, language_name
from monitor.models import Digest, SourceHealth, SourceStatus, Story
from monitor.text import xml_safe as _clean
from monitor.urls import is_http_url


@cache
def _environment() -> Environment:
    # autoescape=True, not select_autoescape: the latter does not cover "*.html.j2".
    return Environment(
        loader=PackageLoader("monitor", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# --- evidence highlighting -------------------------------------------------------------------


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation of the terms, longest first, any run of spaces matching any other."""
    parts = []
    for term in sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True):
        parts.append(r"\s+".join(re.escape(word) for word in term.split()))
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def highlight(sentence: str, terms: Iterable[str]) -> Markup:
    """``sentence`` escaped, with each case-insensitive occurrence of a term in ``<mark>``.

    Matching runs on the raw text and every piece is escaped on its own, so a term never
    matches inside an entity and no feed text reaches the page unescaped.
    """
    sentence = _clean(sentence)
    pattern = _term_pattern(_clean(t) for t in terms)
    if pattern is None:
        return escape(sentence)
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(sentence):
        if match.end() == match.start():
            continue
        out.append(str(escape(sentence[pos : match.start()])))
        out.append(f"<mark>{escape(match.group())}</mark>")
        pos = match.end()
    out.append(str(escape(sentence[pos:])))
    return Markup("".join(out))


def _evidence(story: Story) -> list[Markup]:
    """Each evidence sentence once, in order. Every term the story matched is marked in every
    sentence shown: the tagger records a term once, though it may recur in the next sentence."""
    sentences = [sentence for sentence, _ in evidence_by_sentence(story)]
    terms = [ev.term for ev in story.evidence]
    return [highlight(text, terms) for text in sentences]


# --- the digest page -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Badge:
    text: str
    title: str
    kind: str  # "aspect" or "country": picks the badge's colour


@dataclass(frozen=True)
class _AlsoView:
    href: str
    text: str
    title: str


@dataclass(frozen=True)
class _StoryView:
    title: str
    href: str | None
    source: str
    language: str
    language_text: str  # its name in the reader's language
    time_iso: str
    time_text: str
    fetched: bool
    summary: str
    badges: tuple[_Badge, ...]
    evidence: tuple[Markup, ...]
    also: tuple[_AlsoView, ...]


@dataclass(frozen=True)
class _Group:
    heading: str | None
    stories: tuple[_StoryView, ...]


@dataclass(frozen=True)
class _HealthView:
    name: str
    status: str
    status_text: str
    new_items: int
    error: str
    message: str
    failures: str
    last_success: str
    silent: str  # empty unless the source has been silent for longer than usual


def _story_view(story: Story, labels: Labels, locale: Locale) -> _StoryView:
    badges = [_Badge(labels.aspect(a), a, "aspect") for a in story.aspects]
    badges += [_Badge(country_name(locale, c), c, "country") for c in story.countries]
    also = tuple(
        _AlsoView(
            a.url,
            f"{_clean(a.source)} ({a.language})" if a.language else _clean(a.source),
            language_name(locale, a.language or "?"),
        )
        for a in story.also
        if is_http_url(a.url)
    )
    return _StoryView(
        title=_clean(story.title),
        href=story.url if is_http_url(story.url) else None,
        source=_clean(story.source),
        language=story.language or "?",
        language_text=language_name(locale, story.language or "?"),
        time_iso=story.published.isoformat(timespec="seconds"),
        time_text=story.published.strftime("%H:%M"),
        fetched=story.dated_by_fetch,
        summary=_clean(story.summary),
        badges=tuple(badges),
        evidence=tuple(_evidence(story)),
        also=also,
    )


def _capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def _groups(
    stories: Sequence[Story], group_by: GroupBy, labels: Labels, locale: Locale
) -> list[_Group]:
    """Stories under their first (strongest) aspect or country, so each story shows once."""
    ordered = best_first(stories)
    if group_by is None:
        return (
            [_Group(None, tuple(_story_view(s, labels, locale) for s in ordered))]
            if ordered
            else []
        )
    buckets: dict[str, list[Story]] = {}
    for story in ordered:
        keys = story.aspects if group_by == "aspect" else story.countries
        buckets.setdefault(keys[0] if keys else "", []).append(story)
    if group_by == "aspect":
        rank = {name: i for i, name in enumerate(ASPECT_ORDER)}
        order = sorted(buckets, key=lambda k: (k == "", rank.get(k, len(rank)), k))
        heading = {k: _capitalised(labels.aspect(k)) if k else labels.other_aspect for k in buckets}
    else:
        # Countries with most stories first: the page answers "where did it happen" at a glance.
        order = sorted(buckets, key=lambda k: (k == "", -len(buckets[k]), k))
        heading = {k: country_name(locale, k) if k else labels.no_country for k in buckets}
    return [
        _Group(heading[k], tuple(_story_view(s, labels, locale) for s in buckets[k])) for k in order
    ]


def _health_view(health: SourceHealth, labels: Labels, tz: ZoneInfo) -> _HealthView:
    # Stored times are UTC; the page shows the digest's time zone throughout.
    last = (
        labels.last_success.format(
            when=health.last_success.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        )
        if health.last_success
        else labels.never_succeeded
    )
    return _HealthView(
        name=_clean(health.name),
        status=health.status.value,
        status_text=labels.status(health.status.value),
        new_items=health.new_items,
        error=_clean(health.error),
        message=_clean(health.error_message),
        failures=labels.count_failures(health.consecutive_failures)
        if health.consecutive_failures
        else "",
        last_success=last,
        silent=labels.silent_since.format(
            when=health.last_item.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        )
        if health.silent and health.last_item
        else "",
    )


def _counts(counter: Counter[str], name: dict[str, str] | None = None) -> list[tuple[str, int]]:
    return [
        ((name or {}).get(k, k), n)
        for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _period(first: date, until: str | None, cldr: Locale) -> str:
    start = str(format_date(first, "long", locale=cldr))
    if not until:
        return start
    last = datetime.strptime(until, "%Y-%m-%d").date()
    return f"{start} – {format_date(last, 'long', locale=cldr)}"


def render_html(digest: Digest, locale: str = "en", group_by: GroupBy = None) -> str:
    """The digest as one self-contained HTML page (inline CSS, no scripts, no remote resources)."""
    labels = labels_for(locale)
    cldr = Locale.parse(locale)
    if group_by not in ("aspect", "country", None):
        raise ValueError(f"group_by must be 'aspect', 'country' or None, not {group_by!r}")
    by_language = Counter(s.language or "?" for s in digest.stories)
    countries = {c for s in digest.stories for c in s.countries}
    by_country = Counter(c for s in digest.stories for c in s.countries)
    failing = [h for h in digest.sources if h.status is SourceStatus.ERROR]
    others = [h for h in digest.sources if h.status is not SourceStatus.ERROR]
    coverage = coverage_of(digest.sources)
    day = datetime.strptime(digest.date, "%Y-%m-%d").date()
    tz = ZoneInfo(digest.timezone)
    return (
        _environment()
        .get_template("digest.html.j2")
        .render(
            lang=locale,
            labels=labels,
            title=labels.digest_title.format(date=_period(day, digest.until, cldr)),
            story_count=labels.count_stories(len(digest.stories)),
            by_language=_counts(by_language, {k: language_name(cldr, k) for k in by_language}),
            by_country=_counts(by_country, {c: country_name(cldr, c) for c in countries}),
            times_in=labels.times_in.format(tz=digest.timezone),
            banner=banner(coverage, labels),
            blind=coverage.blind,
            complete=coverage.complete,
            causes=cause_lines(coverage, labels),
            groups=_groups(digest.stories, group_by, labels, cldr),
            failing=[_health_view(h, labels, tz) for h in failing],
            others=[_health_view(h, labels, tz) for h in others],
            silent=[_health_view(h, labels, tz) for h in digest.sources if h.silent],
            generated=labels.generated.format(
                when=digest.generated_at.isoformat(timespec="seconds"), tz=digest.timezone
            ),
            office_feedback=labels.judged(digest.feedback) if digest.feedback else "",
        )
    )


# --- the index of digests --------------------------------------------------------------------


def _is_relative(href: str) -> bool:
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and not href.startswith(("/", "\\"))


def render_index(
    entries: Sequence[tuple[str, str]], locale: str = "en", feed_href: str | None = None
) -> str:
    """``reports/index.html``: every digest as ``(label, relative href)``, newest first.

    Digests are named by ISO date, so the hrefs sort by date; a non-relative href is refused
    rather than written into a page that is meant to move with its folder.
    """
    labels = labels_for(locale)
    for _, href in entries:
        if not _is_relative(href):
            raise ValueError(f"index link must be a relative path, not {href!r}")
    if feed_href is not None and not _is_relative(feed_href):
        raise ValueError(f"feed link must be a relative path, not {feed_href!r}")
    ordered = sorted(entries, key=lambda e: (e[1], e[0]), reverse=True)
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            lang=locale,
            labels=labels,
            title=labels.index_title,
            entries=[(_clean(label), href) for label, href in ordered],
            feed_href=feed_href,
        )
    )


def _render(digest: Digest, view: View) -> str:
    return render_html(digest, view.locale, view.group_by)


FORMAT = DigestFormat("html", ".html", "text/html", _render)
