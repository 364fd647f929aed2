"""Extraction quality: the monitor's ``extract_page`` against plain ``trafilatura.extract`` on the
article-extraction benchmark (181 real pages with their article bodies, in ../shared/corpora).

The benchmark's own measure: each text a bag of whitespace-separated tokens; precision is the
share of the extracted tokens found in the true body, recall the share of the body's tokens
extracted, F1 their harmonic mean; page figures averaged over all pages (a page with no text
extracted scores 0). Time is one process on one core, pages already in memory.

    .venv/bin/python bench/extraction_quality.py [--corpus ../shared/corpora/article-extraction-benchmark]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from monitor.errors import ExtractError
from monitor.extract import extract_page, page_metadata

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/corpora/article-extraction-benchmark"


def scores(extracted: str, truth: str) -> tuple[float, float, float]:
    got, want = Counter(extracted.split()), Counter(truth.split())
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def monitor_text(html: bytes, url: str) -> str:
    try:
        return extract_page(html, url, "text/html").text
    except ExtractError:
        return ""


def plain_text(html: bytes, url: str) -> str:
    return trafilatura.extract(html.decode("utf-8", "replace"), url=url) or ""


def metadata_differences(pages: list[tuple[bytes, str, str]]) -> int:
    """Pages whose title, author, date or site name, as the monitor finds them, differ from
    trafilatura's full ``extract_metadata``."""
    fields = ("title", "author", "date", "sitename")
    params = {
        "extensive_search": False,
        "original_date": True,
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    }
    differ = 0
    for html, url, _ in pages:
        if load_html(html) is None:
            continue
        ours, theirs = (
            page_metadata(load_html(html), url),
            extract_metadata(load_html(html), url, params),
        )
        differ += any(getattr(ours, f) != (getattr(theirs, f) or None) for f in fields)
    return differ


def measure(
    name: str, extract: Callable[[bytes, str], str], pages: list[tuple[bytes, str, str]]
) -> dict[str, float]:
    results, started = [], time.perf_counter()
    for html, url, truth in pages:
        results.append(scores(extract(html, url), truth))
    seconds = time.perf_counter() - started
    precision, recall, f1 = (statistics.fmean(r[i] for r in results) for i in range(3))
    empty = sum(1 for r in results if r == (0.0, 0.0, 0.0))
    print(
        f"{name:<34} P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}  "
        f"no text {empty:>3}  {1000 * seconds / len(pages):5.1f} ms a page"
    )
    return {"precision": precision, "recall": recall, "f1": f1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    truth = json.loads((args.corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, entry in sorted(truth.items()):
        html = gzip.decompress((args.corpus / "html" / f"{key}.html.gz").read_bytes())
        pages.append((html, entry.get("url") or "", entry["articleBody"]))
    print(f"{len(pages)} pages of {args.corpus}")
    for warm in pages[:3]:  # first calls load trafilatura's caches: not timed
        plain_text(warm[0], warm[1])
        monitor_text(warm[0], warm[1])
    plain = measure("trafilatura.extract (defaults)", plain_text, pages)
    ours = measure("monitor extract_page", monitor_text, pages)
    print(
        f"metadata: {metadata_differences(pages)} of {len(pages)} pages differ from extract_metadata"
    )
    drop = plain["f1"] - ours["f1"]
    verdict = "ok" if drop <= 0.01 else "FAIL"
    print(f"F1 difference {ours['f1'] - plain['f1']:+.3f} (target: no drop beyond 0.01): {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
