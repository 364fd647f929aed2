"""The digest as Markdown, in the reader's language (the feed text as it came, escaped)."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from babel import Locale

from monitor.coverage import Coverage, banner, cause_lines, coverage_of
from monitor.formats import DigestFormat, View, evidence_by_sentence
from monitor.labels import Labels, country_name, labels_for, language_name
from monitor.models import Digest, SourceStatus, Story
from monitor.urls import is_http_url


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
    if digest.feedback is not None:
        lines += [_md_escape(labels.judged(digest.feedback)), ""]
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
    for sentence, terms in evidence_by_sentence(story):
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


def _render(digest: Digest, view: View) -> str:
    return to_markdown(digest, view.locale)


FORMAT = DigestFormat("markdown", ".md", "text/markdown", _render)
