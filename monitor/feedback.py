"""The office's judgements as labeled lines: ``monitor feedback export`` writes them in the
format ``monitor eval`` reads (that of ``eval/``), so the tagger can be measured on the office's
own labels.

One line per judged article. Its label is the office's: not relevant when anyone said so (as
the digest treats it), and ``borderline`` when colleagues disagree, so that ``monitor eval``
leaves it out of the main figures. Aspects and countries are not part of a judgement and are
left out; ``tagged`` says what the monitor decided, ``why`` carries the notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from monitor.models import FeedbackSummary

FILM_TOPIC = "film_cooperation"


def export_lines(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``Store.feedback_since`` rows (one per judgement and tag) as labeled lines, in the
    order the articles were first judged."""
    lines: dict[int, dict[str, Any]] = {}
    votes: dict[int, dict[str, bool]] = {}
    notes: dict[int, dict[str, str]] = {}
    for row in rows:
        article = row["article_id"]
        line = lines.setdefault(
            article,
            {
                "id": f"office-{article}",
                "lang": row["language"] or "",
                "title": row["title"],
                "text": row["text"],
                "tagged": False,
                "source": row["source"],
                "source_url": row["url"] or "",
            },
        )
        line["tagged"] = line["tagged"] or row["topic"] == FILM_TOPIC
        votes.setdefault(article, {})[row["user"]] = bool(row["relevant"])
        if row["note"]:
            notes.setdefault(article, {})[row["user"]] = row["note"]
    for article, line in lines.items():
        verdicts, said = votes[article], notes.get(article, {})
        line["label"] = all(verdicts.values())
        line["borderline"] = len(set(verdicts.values())) > 1
        line["judged_by"] = sorted(verdicts)
        line["why"] = " | ".join(f"{user}: {note}" for user, note in sorted(said.items()))
    return list(lines.values())


def summary(lines: Iterable[Mapping[str, Any]]) -> FeedbackSummary:
    """Exported lines counted: stories judged, and those the office and the monitor disagree on
    (colleagues who disagree among themselves are not counted against the monitor)."""
    marked = contradicted = 0
    for line in lines:
        marked += 1
        contradicted += not line["borderline"] and line["label"] != line["tagged"]
    return FeedbackSummary(marked, contradicted)
