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
    for row in rows:
        line = lines.get(row["article_id"])
        if line is None:
            line = lines[row["article_id"]] = {
                "id": f"office-{row['article_id']}",
                "lang": row["language"] or "",
                "title": row["title"],
                "text": row["text"],
                "label": True,
                "borderline": False,
                "tagged": False,
                "source": row["source"],
                "source_url": row["url"] or "",
                "judged_by": [],
                "why": "",
                "_votes": {},
                "_notes": {},
            }
        line["tagged"] = line["tagged"] or row["topic"] == FILM_TOPIC
        line["_votes"][row["user"]] = bool(row["relevant"])
        if row["note"]:
            line["_notes"][row["user"]] = row["note"]
    result = []
    for line in lines.values():
        votes, notes = line.pop("_votes"), line.pop("_notes")
        line["label"] = all(votes.values())
        line["borderline"] = len(set(votes.values())) > 1
        line["judged_by"] = sorted(votes)
        line["why"] = " | ".join(f"{user}: {note}" for user, note in sorted(notes.items()))
        result.append(line)
    return result


def summary(lines: Iterable[Mapping[str, Any]]) -> FeedbackSummary:
    """Exported lines counted: stories judged, and those the office and the monitor disagree on
    (colleagues who disagree among themselves are not counted against the monitor)."""
    marked = contradicted = 0
    for line in lines:
        marked += 1
        contradicted += not line["borderline"] and line["label"] != line["tagged"]
    return FeedbackSummary(marked, contradicted)
