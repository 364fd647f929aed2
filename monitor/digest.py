"""The daily digest: which stories, in which order, and how they read as JSON and Markdown.

Pure: stored articles and source health in, ``Digest`` and text out. Writing files is
``monitor.deliver``'s job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.grouping import group_stories
from monitor.labels import labels_for
from monitor.models import Digest, SourceHealth, SourceStatus, Story
from monitor.store import StoredArticle
from monitor.text import first_sentences
from monitor.urls import is_http_url

RECENT_DAYS = 30  # the window health.recent_items counts over (store.health's default)
SILENT_FACTOR = 3  # silent: no new article for this many times the source's usual gap ...
MIN_SILENCE = timedelta(days=1)  # ... and for at least this long
ENGLISH = labels_for("en")  # the Markdown digest is in English
EVIDENCE_PER_STORY = 6  # matched terms kept per story
EVIDENCE_SENTENCES = 3  # sentences the Markdown shows


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
) -> Digest:
    """The digest of ``day``, or of the days from ``day`` to ``until`` inclusive. Sources are
    marked silent as of ``generated_at``."""
    return Digest(
        date=day.isoformat(),
        timezone=tz.key,
        generated_at=generated_at.astimezone(tz),
        stories=select_stories(stored, tz, prefer_languages),
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
    stored: Sequence[StoredArticle], tz: ZoneInfo, prefer_languages: Sequence[str] = ()
) -> tuple[Story, ...]:
    """Best first; the same story from several outlets or in several languages shown once,
    with the others under ``also`` (the version in a preferred language leads its group)."""
    stories = sorted(
        (_story(s, tz) for s in stored), key=lambda s: (-s.score, -s.published.timestamp(), s.url)
    )
    texts = {s.article.url: s.article.text for s in stored if s.article.url}
    return group_stories(stories, texts=texts, prefer_languages=prefer_languages)


def _story(stored: StoredArticle, tz: ZoneInfo) -> Story:
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


def _by_sentence(story: Story) -> list[tuple[str, list[str]]]:
    """Evidence grouped by sentence, in order: each sentence once, with the terms it matched."""
    grouped: dict[str, list[str]] = {}
    for ev in story.evidence:
        terms = grouped.setdefault(ev.text, [])
        if ev.term not in terms:
            terms.append(ev.term)
    return list(grouped.items())[:EVIDENCE_SENTENCES]


def to_json(digest: Digest) -> dict[str, Any]:
    """The digest as the JSON contract other tools read (keys documented in the README)."""
    return {
        "date": digest.date,
        "until": digest.until or digest.date,
        "timezone": digest.timezone,
        "generated_at": digest.generated_at.isoformat(timespec="seconds"),
        "stories": [
            {
                "url": s.url or None,
                "title": s.title,
                "source": s.source,
                "language": s.language,
                "published": s.published.isoformat(timespec="seconds"),
                "topics": list(s.topics),
                "score": s.score,
                "aspects": list(s.aspects),
                "countries": list(s.countries),
                "evidence": [{"term": e.term, "text": e.text} for e in s.evidence],
                "summary": s.summary,
                "also": [
                    {"url": a.url, "source": a.source, "language": a.language} for a in s.also
                ],
                "dated_by_fetch": s.dated_by_fetch,
            }
            for s in digest.stories
        ],
        "sources": [
            {
                "name": h.name,
                "url": h.url,
                "status": h.status.value,
                "new_items": h.new_items,
                "error": h.error,
                "error_message": h.error_message,
                "last_success": h.last_success.isoformat(timespec="seconds")
                if h.last_success
                else None,
                "consecutive_failures": h.consecutive_failures,
                "silent": h.silent,
                "last_item": h.last_item.isoformat(timespec="seconds") if h.last_item else None,
            }
            for h in digest.sources
        ],
    }


def _md_escape(text: str) -> str:
    """Neutralise Markdown and HTML syntax in text that came from a feed."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]<>#|!~":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out).replace("\n", " ")


def _md_url(url: str) -> str:
    return url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def to_markdown(digest: Digest) -> str:
    lines = [f"# Film cooperation digest — {digest.period}", ""]
    count = len(digest.stories)
    by_language = Counter(s.language or "?" for s in digest.stories)
    by_country = Counter(c for s in digest.stories for c in s.countries)
    if count:
        lines.append(
            f"{count} {'story' if count == 1 else 'stories'}"
            f" · languages: {', '.join(f'{k} {v}' for k, v in by_language.most_common())}"
            + (
                f" · countries: {', '.join(f'{k} {v}' for k, v in by_country.most_common())}"
                if by_country
                else ""
            )
        )
    else:
        lines.append("No film-cooperation stories were found for this day.")
    lines.append("")
    for story in digest.stories:
        title = _md_escape(story.title)
        heading = f"[{title}](<{_md_url(story.url)}>)" if is_http_url(story.url) else title
        lines.append(f"## {heading}")
        when = story.published.strftime("%H:%M") + (" (fetched)" if story.dated_by_fetch else "")
        lines.append(f"*{_md_escape(story.source)} · {story.language or '?'} · {when}*")
        lines.append("")
        badges = [ENGLISH.aspect(a) for a in story.aspects] + list(story.countries)
        if badges:
            lines.append(" ".join(f"`{b}`" for b in badges))
            lines.append("")
        if story.summary:
            lines.append(_md_escape(story.summary))
            lines.append("")
        also = [a for a in story.also if is_http_url(a.url)]
        if also:
            links = " · ".join(f"[{a.language or '?'}](<{_md_url(a.url)}>)" for a in also)
            lines.append(f"Also in: {links}")
            lines.append("")
        for sentence, terms in _by_sentence(story):
            matched = ", ".join(f"**{_md_escape(t)}**" for t in terms)
            lines.append(f"> {_md_escape(sentence)}  ")
            lines.append(f"> — matched: {matched}")
            lines.append("")
    lines.append("## Sources")
    lines.append("")
    lines.append("| source | status | new | problem |")
    lines.append("| --- | --- | ---: | --- |")
    for h in digest.sources:
        problem = f"{h.error}: {h.error_message}" if h.error else ""
        if h.status is SourceStatus.ERROR and h.consecutive_failures > 1:
            problem += f" ({h.consecutive_failures} failures in a row)"
        if h.silent and h.last_item:
            when = h.last_item.astimezone(ZoneInfo(digest.timezone)).strftime("%Y-%m-%d %H:%M")
            problem = (problem + "; " if problem else "") + f"silent: nothing new since {when}"
        lines.append(
            f"| {_md_escape(h.name)} | {h.status.value} | {h.new_items} | {_md_escape(problem)} |"
        )
    lines.append("")
    lines.append(
        f"_Generated {digest.generated_at.isoformat(timespec='seconds')} ({digest.timezone})._"
    )
    return "\n".join(lines) + "\n"
