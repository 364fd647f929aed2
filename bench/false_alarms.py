"""False alarms on ordinary news: how many real articles about something else the tagger tags.

Usage::

    .venv/bin/python bench/false_alarms.py                 # the extraction benchmark's pages
    .venv/bin/python bench/false_alarms.py --show          # and each tagged page's evidence
    .venv/bin/python bench/false_alarms.py --jsonl more.jsonl   # also lines with title/text

The pages are the 181 real news pages of the article-extraction benchmark in
``../shared/corpora/article-extraction-benchmark`` (economy, politics, technology, sport, culture;
written by their outlets, not for this project). Each page's reference article body is tagged
with the page's ``<title>`` as the headline. None is about cooperation in the film industry, so
every tagged page is a false alarm; the target is at most 1 per 1,000 ordinary articles. Pages
about film without cooperation are listed with ``--show`` to be judged by eye.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
from pathlib import Path

from monitor.tag import TagInput, build_tagger

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "article-extraction-benchmark"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def benchmark_pages(corpus: Path) -> list[tuple[str, str, str]]:
    """(id, title, text) of every page with a reference body."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, entry in sorted(truth.items()):
        raw = gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes())
        found = _TITLE.search(raw.decode("utf-8", errors="replace"))
        title = " ".join(html.unescape(found.group(1)).split()) if found else ""
        pages.append((entry.get("url") or key, title, entry["articleBody"]))
    return pages


def jsonl_pages(path: Path) -> list[tuple[str, str, str]]:
    pages = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                data = json.loads(line)
                pages.append((str(data.get("id", f"{path}:{number}")), data["title"], data["text"]))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--jsonl", type=Path, action="append", default=[])
    parser.add_argument("--show", action="store_true", help="print each tagged page's evidence")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").exists():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    pages = benchmark_pages(args.corpus)
    for path in args.jsonl:
        pages += jsonl_pages(path)
    tagger = build_tagger()
    alarms = []
    for page_id, title, text in pages:
        tagging = tagger.tag(TagInput(title, text))
        if tagging.tagged:
            alarms.append((page_id, title, tagging))
    rate = 1000 * len(alarms) / len(pages) if pages else 0.0
    print(f"{len(pages)} ordinary articles, {len(alarms)} tagged: {rate:.1f} per 1,000")
    for page_id, title, tagging in alarms:
        print(f"  {tagging.score:.2f}  {title[:90]}  ({page_id})")
        if args.show:
            for ev in tagging.evidence[:4]:
                print(f"        {ev.term!r}: {ev.text[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
