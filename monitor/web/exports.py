"""Search results as files a press officer opens in a spreadsheet: CSV and XLSX, the same
columns as the API's stories. Pure: hits in, bytes out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from monitor.search import (
    DEEPEST,
    MARK_END,
    MARK_START,
    MAX_LIMIT,
    SearchHit,
    SearchQuery,
    search,
)
from monitor.store import Store

COLUMNS = (
    "id", "url", "title", "source", "language", "published", "topics", "aspects", "countries",
    "score", "summary", "feedback",
)  # fmt: skip
MAX_ROWS = 10_000  # an export is a working list, not a backup


def row(hit: SearchHit) -> dict[str, Any]:
    """A hit as the API shows a story (lists as lists, feedback as a word)."""
    return {
        "id": hit.id,
        "url": hit.url,
        "title": hit.title,
        "source": hit.source,
        "language": hit.language,
        "published": hit.dated_at,
        "topics": list(hit.topics),
        "aspects": list(hit.aspects),
        "countries": list(hit.countries),
        "score": hit.score,
        "summary": hit.summary or hit.passage.replace(MARK_START, "").replace(MARK_END, ""),
        "feedback": None
        if hit.relevant is None
        else "relevant"
        if hit.relevant
        else "not_relevant",
    }


def every_hit(store: Store, query: SearchQuery, most: int = MAX_ROWS) -> Iterator[SearchHit]:
    """All hits of a query, a page at a time, up to ``most``."""
    offset = 0
    query = replace(query, depth=min(most, DEEPEST))  # the newest ``most``, not a screen's worth
    while offset < most:
        page = search(store, replace(query, offset=offset, limit=min(MAX_LIMIT, most - offset)))
        yield from page.hits
        offset += len(page.hits)
        if len(page.hits) < MAX_LIMIT or offset >= page.total:
            return


def _text(value: Any) -> str:
    """A cell's text; one that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, list):
        value = " ".join(value)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_bytes(hits: Sequence[SearchHit]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for hit in hits:
        writer.writerow([_text(v) for v in row(hit).values()])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(hits: Sequence[SearchHit]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False})  # fmt: skip
    sheet = book.add_worksheet("stories")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, COLUMNS, bold)
    for number, hit in enumerate(hits, start=1):
        values = row(hit)
        for column, name in enumerate(COLUMNS):
            value = values[name]
            if name in ("id", "score") and value is not None:
                sheet.write_number(number, column, float(value))
            else:
                sheet.write_string(number, column, _text(value))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(1, len(hits)), len(COLUMNS) - 1)
    book.close()
    return out.getvalue()
