"""What an alert says: the ``stories`` JSON a webhook receives, the short chat text, and the
e-mail's subject and bodies. Pure: stories in, payloads out."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from monitor.labels import Labels
from monitor.models import Story
from monitor.text import clip

CHAT_STORIES = 10  # stories listed in a chat message; a roll-up says how many more


@dataclass(frozen=True)
class AlertMessage:
    rule: str
    stories: tuple[Story, ...]
    rollup: bool = False  # beyond the rule's max_per_hour: every held story in one message
    sample: bool = False  # `monitor alerts test`

    def title(self, labels: Labels) -> str:
        count = labels.count_stories(len(self.stories))
        kind = "test" if self.sample else ("roll-up" if self.rollup else "alert")
        return f"[{kind}] {self.rule}: {count}"

    def stories_json(self) -> dict[str, Any]:
        """The ``format: stories`` payload (its keys are documented in the README)."""
        return {
            "alert": self.rule,
            "rollup": self.rollup,
            "test": self.sample,
            "stories": [_story_json(s) for s in self.stories],
        }

    def chat_text(self, labels: Labels, *, links: str = "slack") -> str:
        """A short text: the title, then a line a story. ``links`` "slack" writes
        ``<url|title>`` (Slack, Mattermost), "plain" the title and the URL."""
        lines = [self.title(labels)]
        shown = self.stories[:CHAT_STORIES]
        lines.extend(_chat_line(s, labels, links) for s in shown)
        if len(self.stories) > len(shown):
            lines.append(f"… (+{len(self.stories) - len(shown)})")
        return "\n".join(lines)

    def email_html(self, labels: Labels) -> str:
        items = "".join(
            f'<li><a href="{html.escape(s.url)}">{html.escape(s.title)}</a> '
            f"<small>{html.escape(_meta(s, labels))}</small>"
            f"<br>{html.escape(clip(s.summary, 400))}</li>"
            for s in self.stories
        )
        return (
            f'<!doctype html><html><head><meta charset="utf-8"><title>'
            f"{html.escape(self.title(labels))}</title></head><body>"
            f"<h1>{html.escape(self.title(labels))}</h1><ul>{items}</ul></body></html>"
        )


# The keys of a story in an alert's ``stories`` JSON (the README documents them).
STORY_KEYS = ("url", "title", "source", "language", "published", "countries", "aspects",
              "summary", "evidence")  # fmt: skip


def _story_json(story: Story) -> dict[str, Any]:
    from monitor.formats.jsondata import story_json

    full = story_json(story)
    return {key: full[key] for key in STORY_KEYS}


def _meta(story: Story, labels: Labels) -> str:
    meta = story.source
    if story.language:
        meta += f" ({story.language})"
    if story.countries:
        meta += " · " + ", ".join(story.countries)
    if story.aspects:
        meta += " · " + ", ".join(labels.aspect(a) for a in story.aspects)
    return meta


def _chat_line(story: Story, labels: Labels, links: str) -> str:
    title = clip(" ".join((story.title or "(untitled)").split()), 200)
    if links == "slack" and story.url:
        # Slack's link syntax: <, > and & in the title would end or break the link.
        safe = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"• <{story.url}|{safe}> — {_meta(story, labels)}"
    where = f" {story.url}" if story.url else ""
    return f"• {title} — {_meta(story, labels)}{where}"


def sample_story(published: Any) -> Story:
    """The story `monitor alerts test` sends: plainly a test, with every field a real one has."""
    from monitor.models import Evidence

    return Story(
        url="https://example.org/film-monitor-alert-test",
        title="Test alert: two film agencies sign a co-production agreement",
        source="film monitor (test)",
        language="en",
        published=published,
        topics=("film_cooperation",),
        score=1.0,
        aspects=("co_production", "agreement"),
        countries=("AZ", "TR"),
        evidence=(Evidence("co-production agreement", "A sample sentence for the test."),),
        summary="This is a test of the alert channels; no such story was published.",
    )
