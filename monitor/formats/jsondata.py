"""The digest as JSON: the contract other tools read (its keys are documented in the README;
``coverage`` is ``monitor.coverage``'s)."""

from __future__ import annotations

import json
from typing import Any

from monitor.coverage import coverage_of
from monitor.formats import DigestFormat, View
from monitor.models import Digest, Story


def story_json(s: Story) -> dict[str, Any]:
    """A story as the JSON contract has it (also what an alert's stories are cut from)."""
    return {
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
        "also": [{"url": a.url, "source": a.source, "language": a.language} for a in s.also],
        "dated_by_fetch": s.dated_by_fetch,
    }


def to_json(digest: Digest) -> dict[str, Any]:
    """The digest as the JSON contract other tools read (keys documented in the README)."""
    data = {
        "date": digest.date,
        "until": digest.until or digest.date,
        "timezone": digest.timezone,
        "generated_at": digest.generated_at.isoformat(timespec="seconds"),
        "stories": [story_json(s) for s in digest.stories],
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
    if digest.feedback is not None:
        data["feedback"] = {
            "marked": digest.feedback.marked,
            "contradicted": digest.feedback.contradicted,
        }
    return data


def _render(digest: Digest, view: View) -> str:
    # The contract is data, in no reader's language: ``view`` changes nothing.
    return json.dumps(to_json(digest), ensure_ascii=False, indent=2) + "\n"


FORMAT = DigestFormat("json", ".json", "application/json", _render)
