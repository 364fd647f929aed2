"""Grouping a week of tagged stories: ``monitor.grouping.group_stories`` over ~1,000 stories.

Usage::

    .venv/bin/python bench/grouping.py                  # 1000 stories over 7 days, 100 outlets
    .venv/bin/python bench/grouping.py --stories 3000 --days 14 --seed 7
    .venv/bin/python bench/grouping.py --profile        # cProfile: the 20 costliest functions

The stories are made as ``digestdb.py`` makes its tagged articles (the news web's film items, two
countries each, evidence sentences from the text, the text passed along), sorted best first as
the digest sorts them. The first call is timed apart: it fills the word caches and reads the CLDR
country names, as the first digest of a process does. Then the best and the median of
``--repeat`` calls (CPU time of this process: other load only ever slows a call down). Prints
JSON on the last line.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from newsweb import Content

from monitor.grouping import group_stories
from monitor.models import Evidence, Story
from monitor.text import first_sentences

_COUNTRIES = ("AZ", "TR", "KZ", "UZ", "GE", "IT", "PK", "IR", "RU")
_END = datetime(2026, 11, 27, tzinfo=UTC)


def make_stories(
    count: int, days: int, sources: int, seed: int
) -> tuple[list[Story], dict[str, str]]:
    """``count`` tagged stories spread over ``days`` days, and each URL's article text."""
    rng = random.Random(seed)
    content = Content(sources, 100, seed=seed, now=_END)
    pool = [content.item(k, i) for k in range(sources) for i in range(100)]
    film = [item for item in pool if item.film] or pool
    stories: list[Story] = []
    texts: dict[str, str] = {}
    for n in range(count):
        item = rng.choice(film)
        outlet = content.outlet(rng.randrange(sources))
        published = _END - timedelta(days=days) * rng.random()
        url = f"http://{outlet.host}/news/{published:%Y/%m/%d}/n{n}.html"
        text = "\n\n".join(item.paragraphs)
        sentences = [s for p in item.paragraphs for s in p.split(". ")][:6]
        terms = [item.title.split()[2], item.title.split()[3], "film", "festival"]
        stories.append(
            Story(
                url=url,
                title=item.title,
                source=outlet.name,
                language=outlet.language.code,
                published=published,
                topics=("film_cooperation",),
                score=round(rng.uniform(0.35, 0.95), 3),
                aspects=(),
                countries=tuple(rng.sample(_COUNTRIES, 2)),
                evidence=tuple(Evidence(t, s) for s, t in zip(sentences, terms, strict=False)),
                summary=first_sentences(text),
            )
        )
        texts[url] = text
    stories.sort(key=lambda s: (-s.score, -s.published.timestamp(), s.url))
    return stories, texts


def cpu_seconds(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one warm call")
    args = parser.parse_args(argv)

    stories, texts = make_stories(args.stories, args.days, args.sources, args.seed)
    groups: tuple[Story, ...] = ()

    def run() -> None:
        nonlocal groups
        groups = group_stories(stories, texts=texts)

    first = cpu_seconds(run)
    runs = [cpu_seconds(run) for _ in range(args.repeat)]
    result: dict[str, Any] = {
        "stories": len(stories),
        "groups": len(groups),
        "grouped_away": len(stories) - len(groups),
        "first_seconds": round(first, 4),
        "best_seconds": round(min(runs), 4),
        "median_seconds": round(statistics.median(runs), 4),
    }
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)
    print(
        f"group_stories over {result['stories']} stories ({args.days} days): "
        f"first {first:.3f} s, best {min(runs):.3f} s, median {statistics.median(runs):.3f} s "
        f"(CPU), {result['groups']} groups"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
