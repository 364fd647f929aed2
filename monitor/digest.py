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

from babel import Locale

from monitor.coverage import Coverage, banner, cause_lines, coverage_of
from monitor.grouping import group_stories
from monitor.labels import Labels, country_name, labels_for, language_name
from monitor.models import Digest, SourceHealth, SourceStatus, Story
from monitor.store import StoredArticle
from monitor.text import first_sentences
from monitor.urls import is_http_url

RECENT_DAYS = 30  # the window health.recent_items counts over (store.health's default)
SILENT_FACTOR = 3  # silent: no new article for this many times the source's usual gap ...
MIN_SILENCE = timedelta(days=1)  # ... and for at least this long
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
        "coverage": coverage_of(digest.sources).as_json(),
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


def to_markdown(digest: Digest, locale: str = "en") -> str:
    """The digest as Markdown, in ``locale``'s words (the feed text as it came)."""
    labels = labels_for(locale)
    cldr = Locale.parse(locale)
    coverage = coverage_of(digest.sources)
    lines = [f"# {labels.digest_title.format(date=digest.period)}", ""]
    note = banner(coverage, labels)
    if note:
        lines += [f"> **⚠ {_md_escape(note)}**", ""]
    count = len(digest.stories)
    by_language = Counter(s.language or "?" for s in digest.stories)
    by_country = Counter(c for s in digest.stories for c in s.countries)
    if count:
        parts = [labels.count_stories(count)]
        parts.append(
            f"{labels.languages}: "
            + ", ".join(f"{language_name(cldr, k)} {v}" for k, v in by_language.most_common())
        )
        if by_country:
            parts.append(
                f"{labels.countries}: "
                + ", ".join(f"{country_name(cldr, k)} {v}" for k, v in by_country.most_common())
            )
        lines.append(" · ".join(parts))  # fmt: skip
    elif not coverage.blind:
        lines.append(labels.empty_day)
    lines.append("")
    tz = ZoneInfo(digest.timezone)
    for story in digest.stories:
        lines += _md_story(story, labels, cldr)
    lines += _md_sources(digest, coverage, labels, tz)
    generated = digest.generated_at.isoformat(timespec="seconds")
    lines.append(f"_{_md_escape(labels.generated.format(when=generated, tz=digest.timezone))}_")
    return "\n".join(lines) + "\n"


def _md_story(story: Story, labels: Labels, cldr: Locale) -> list[str]:
    title = _md_escape(story.title)
    heading = f"[{title}](<{_md_url(story.url)}>)" if is_http_url(story.url) else title
    when = story.published.strftime("%H:%M") + (
        f" ({labels.fetched})" if story.dated_by_fetch else ""
    )
    language = language_name(cldr, story.language or "?")
    lines = [f"## {heading}", f"*{_md_escape(story.source)} · {language} · {when}*", ""]
    badges = [labels.aspect(a) for a in story.aspects]
    badges += [country_name(cldr, c) for c in story.countries]
    if badges:
        lines += [" ".join(f"`{b}`" for b in badges), ""]
    if story.summary:
        lines += [_md_escape(story.summary), ""]
    also = [a for a in story.also if is_http_url(a.url)]
    if also:
        links = " · ".join(
            f"[{_md_escape(a.source)} ({a.language or '?'})](<{_md_url(a.url)}>)" for a in also
        )
        lines += [f"{labels.also_in.capitalize()}: {links}", ""]
    for sentence, terms in _by_sentence(story):
        matched = ", ".join(f"**{_md_escape(t)}**" for t in terms)
        lines += [f"> {_md_escape(sentence)}  ", f"> — {matched}", ""]
    return lines


def _md_sources(digest: Digest, coverage: Coverage, labels: Labels, tz: ZoneInfo) -> list[str]:
    lines = [f"## {labels.sources}", ""]
    causes = cause_lines(coverage, labels)
    if causes:
        lines += [f"### {labels.failures_by_cause}", ""]
        lines += [f"- {_md_escape(line)}" for line in causes] + [""]
    failing = [h for h in digest.sources if h.status is SourceStatus.ERROR]
    silent = [h for h in digest.sources if h.silent and h.last_item]
    others = [h for h in digest.sources if h.status is not SourceStatus.ERROR]
    if failing:
        lines += [f"### {labels.failing_sources}", ""]
        for h in failing:
            line = f"- **{_md_escape(h.name)}**: `{h.error}`"
            if h.error_message:
                line += f" — {_md_escape(h.error_message)}"
            if h.consecutive_failures > 1:
                line += f" · {labels.count_failures(h.consecutive_failures)}"
            lines.append(line)
        lines.append("")
    if silent:
        lines += [f"### {labels.silent_sources}", ""]
        for h in silent:
            when = h.last_item.astimezone(tz).strftime("%Y-%m-%d %H:%M") if h.last_item else ""
            lines.append(f"- **{_md_escape(h.name)}**: {labels.silent_since.format(when=when)}")
        lines.append("")
    if others:
        if failing:
            lines += [f"### {labels.other_sources}", ""]
        elif coverage.complete and not silent:
            lines += [labels.all_sources_ok, ""]
        for h in others:
            status = labels.status(h.status.value)
            lines.append(f"- {_md_escape(h.name)}: {status} · {labels.new_items}: {h.new_items}")
        lines.append("")
    return lines
