"""The daily digest: which stories, in which order, and which sources were heard.

Pure: stored articles and source health in, a ``Digest`` out. How it reads is the formats' job
(``monitor.formats``), writing and sending it ``monitor.deliver``'s.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.formats import best_first
from monitor.grouping import RawAnchors, group_stories
from monitor.models import AlsoIn, Digest, SourceHealth, Story
from monitor.store import StoredArticle
from monitor.text import first_sentences

RECENT_DAYS = 30  # the window health.recent_items counts over (store.health's default)
SILENT_FACTOR = 3  # silent: no new article for this many times the source's usual gap ...
MIN_SILENCE = timedelta(days=1)  # ... and for at least this long
EVIDENCE_PER_STORY = 6  # matched terms kept per story


def day_window(day: date, tz: ZoneInfo, until: date | None = None) -> tuple[datetime, datetime]:
    """Start of ``day`` and end of ``until`` (default: the same day) in ``tz``; a DST day is
    23 or 25 hours long."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine((until or day) + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def build_digest(
    day: date,
    tz: ZoneInfo,
    generated_at: datetime,
    stored: Sequence[StoredArticle],
    health: Sequence[SourceHealth],
    until: date | None = None,
    prefer_languages: Sequence[str] = (),
    kept: MutableMapping[str, RawAnchors] | None = None,
) -> Digest:
    """The digest of ``day``, or of the days from ``day`` to ``until`` inclusive. Sources are
    marked silent as of ``generated_at``; ``kept`` as for :func:`select_stories`."""
    return Digest(
        date=day.isoformat(),
        timezone=tz.key,
        generated_at=generated_at.astimezone(tz),
        stories=select_stories(stored, tz, prefer_languages, kept),
        sources=tuple(replace(h, silent=is_silent(h, generated_at)) for h in health),
        until=until.isoformat() if until and until != day else None,
    )


def usual_gap(health: SourceHealth) -> timedelta | None:
    """How often the source published lately, on average; None without enough history."""
    if health.recent_items < 2:
        return None
    return timedelta(days=RECENT_DAYS) / health.recent_items


def is_silent(health: SourceHealth, now: datetime) -> bool:
    """No new article for much longer than usual. A source that answers but stopped
    publishing (a moved feed, a frozen CMS) fails no fetch, so only this shows it."""
    if health.last_item is None:
        return False  # never published anything yet: nothing is usual
    gap = usual_gap(health)
    limit = max(SILENT_FACTOR * gap, MIN_SILENCE) if gap else timedelta(days=RECENT_DAYS // 4)
    return now - health.last_item > limit


def select_stories(
    stored: Sequence[StoredArticle],
    tz: ZoneInfo,
    prefer_languages: Sequence[str] = (),
    kept: MutableMapping[str, RawAnchors] | None = None,
) -> tuple[Story, ...]:
    """Best first; the same story from several outlets or in several languages shown once,
    with the others under ``also`` (the version in a preferred language leads its group).
    ``kept``: what an earlier grouping found of each story (see :mod:`monitor.kept_anchors`)."""
    stories = best_first(story_of(s, tz) for s in stored)
    texts = {s.article.url: s.article.text for s in stored if s.article.url}
    return group_stories(stories, texts=texts, prefer_languages=prefer_languages, kept=kept)


def versions_of(url: str, around: Sequence[StoredArticle], tz: ZoneInfo) -> tuple[AlsoIn, ...]:
    """The other versions of the story at ``url`` (same story, other outlets or languages), as
    the digest groups the tagged stories ``around`` it; none when it is not among them."""
    for story in select_stories(around, tz):
        group = [AlsoIn(story.url, story.source, story.language), *story.also]
        if any(member.url == url for member in group):
            return tuple(member for member in group if member.url != url)
    return ()


def story_of(stored: StoredArticle, tz: ZoneInfo) -> Story:
    """A stored tagged article as the digest (and an alert) shows it."""
    article = stored.article
    tagging = article.tagging
    dated = article.published or article.fetched_at
    summary = _summary(article.title, article.text) or first_sentences(article.summary)
    return Story(
        url=article.url,
        title=article.title,
        source=article.source,
        language=article.language,
        published=dated.astimezone(tz),
        topics=tagging.topics,
        score=round(tagging.score, 3),
        aspects=tagging.aspects,
        countries=tagging.countries,
        evidence=tagging.evidence[:EVIDENCE_PER_STORY],
        summary=summary,
        dated_by_fetch=article.published is None,
    )


def _summary(title: str, text: str) -> str:
    """Opening sentences of the article; extracted text often starts with the headline again."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if (
        paragraphs
        and " ".join(paragraphs[0].split()).casefold() == " ".join(title.split()).casefold()
    ):
        paragraphs = paragraphs[1:]
    return first_sentences("\n\n".join(paragraphs))
