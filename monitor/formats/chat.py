"""The digest as a short chat message (Slack's and Mattermost's incoming-webhook format), in the
reader's language, built from the digest's JSON contract."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from monitor.coverage import banner, cause_lines, coverage_from_json
from monitor.formats import DigestFormat, View
from monitor.formats.jsondata import to_json
from monitor.labels import Labels, labels_for
from monitor.models import Digest
from monitor.text import clip


def chat_payload(
    digest_json: Mapping[str, Any], labels: Labels | None = None, max_stories: int = 10
) -> dict[str, Any]:
    """A short message for a chat channel from the digest's JSON (the contract in the README),
    in ``labels``' language (English by default).

    ``text`` uses Slack's ``<url|title>`` links, which Mattermost also converts; ``stories``
    repeats the shown stories as data for bots that build their own message. A day on which
    many sources could not be checked says so before the stories, with the causes.
    """
    labels = labels or labels_for("en")
    stories = list(digest_json.get("stories") or [])
    shown = stories[: max(max_stories, 0)]
    coverage = coverage_from_json(digest_json.get("coverage"))
    lines = [labels.digest_title.format(date=digest_json.get("date", ""))]
    note = banner(coverage, labels) if coverage else None
    if note:
        lines.append(f"⚠ {_escape(note)}")
    counts = [labels.count_stories(len(stories))]
    if coverage and coverage.sources:
        counts.append(labels.coverage_checked.format(ok=coverage.ok, n=coverage.sources))
    lines.append(" · ".join(counts))
    if coverage:
        lines.extend(f"• {_escape(line)}" for line in cause_lines(coverage, labels, names=3))
    if shown:
        lines.append("")
        lines.extend(_story_line(s, labels) for s in shown)
    if len(stories) > len(shown):
        lines.append(f"… (+{len(stories) - len(shown)})")
    return {
        "text": "\n".join(lines),
        "stories": [
            {
                "title": s.get("title", ""),
                "url": s.get("url"),
                "source": s.get("source", ""),
                "language": s.get("language"),
                "published": s.get("published"),
                "countries": list(s.get("countries") or []),
                "aspects": list(s.get("aspects") or []),
            }
            for s in shown
        ],
    }


def _story_line(story: Mapping[str, Any], labels: Labels) -> str:
    title = _escape(clip(" ".join(str(story.get("title") or "(untitled)").split()), 200))
    url = story.get("url")
    head = f"<{_link_url(url)}|{title}>" if isinstance(url, str) and url else title
    meta = _escape(str(story.get("source") or ""))
    if story.get("language"):
        meta += f" ({story['language']})"
    countries = story.get("countries") or []
    if countries:
        meta += " · " + ", ".join(str(c) for c in countries)
    versions = [a for a in story.get("also") or [] if isinstance(a, Mapping)]
    also = [str(a.get("language") or a.get("source") or "?") for a in versions]
    if also:
        meta += f" · {labels.also_in}: {', '.join(also)}"
    return f"• {head} — {meta}"


def _escape(text: str) -> str:
    # The three characters Slack's message format reserves; Mattermost reads the same escapes.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_url(url: str) -> str:
    # "|" and ">" end a Slack link early; spaces and other unsafe characters become %XX.
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _render(digest: Digest, view: View) -> str:
    return json.dumps(chat_payload(to_json(digest), labels_for(view.locale)), ensure_ascii=False)


FORMAT = DigestFormat("chat", "", "application/json", _render)
