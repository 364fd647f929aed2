"""The digest over a large database: 1,000,000 stored articles, one day's digest.

``build`` makes a SQLite database with the monitor's own schema (``monitor.store.Store`` creates
it) and fills it directly with sqlite3 (``executemany``, journal off while it fills): ``--sources``
outlets, ``--articles`` articles spread evenly over ``--days`` days that end with the digest's
day, each with a real article's text (300-800 words, drawn from the news web's generator), about
``--tagged`` of them tagged film_cooperation with a row in ``tags``. The file is kept and reused
(same parameters, same file name) unless ``--fresh``.

``time`` opens the database once (a newer monitor migrates it then, untimed) and reads the file
once (so that every figure has it in the page cache), then
runs ``monitor digest --date DAY`` in a process of its own (what a user waits for: interpreter
start and imports included), then ``monitor.app.write_digest`` in this process, then its steps
one by one (the store's queries, grouping, writing the files)::

    .venv/bin/python bench/digestdb.py build --articles 1000000
    .venv/bin/python bench/digestdb.py time --articles 1000000

Both print JSON on the last line of standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitorrun import monitor_command
from newsweb import Content

DEFAULT_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "newsweb-bench"
TOPIC = "film_cooperation"
_FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
_ASPECTS = ("co_production", "agreement", "festival", "distribution", "training", "funding")
_COUNTRIES = ("AZ", "TR", "KZ", "UZ", "GE", "IT", "PK", "IR", "RU")


def folder_for(args: argparse.Namespace) -> Path:
    return Path(args.dir) / f"digest-{args.articles}-{args.days}d-{args.sources}s-{args.seed}"


def digest_day(args: argparse.Namespace) -> date:
    return date.fromisoformat(args.date) if args.date else datetime.now(UTC).date()


def write_config(folder: Path, sources: int) -> Path:
    lines = ["storage: monitor.db", "reports: reports/", "timezone: UTC", "sources:"]
    content = Content(sources, 1)
    for k in range(sources):
        outlet = content.outlet(k)
        lines += [f'  - name: "{outlet.name}"', f"    url: http://{outlet.host}/feed.xml"]
        lines.append(f"    language: {outlet.language.code}")
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(args: argparse.Namespace) -> dict[str, Any]:
    from monitor.store import Store

    folder = folder_for(args)
    database = folder / "monitor.db"
    done = folder / "built.json"
    if done.exists() and not args.fresh:
        return {**json.loads(done.read_text()), "reused": True}
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    done.unlink(missing_ok=True)
    write_config(folder, args.sources)
    started = time.perf_counter()
    Store(f"sqlite:///{database}").close()  # the schema, by the monitor itself

    rng = random.Random(args.seed)
    content = Content(args.sources, 100, seed=args.seed)
    pool = [content.item(k, i) for k in range(args.sources) for i in range(100)]
    film = [item for item in pool if item.film] or pool
    last = digest_day(args)
    end = datetime.combine(last + timedelta(days=1), dtime(0), tzinfo=UTC)
    start = end - timedelta(days=args.days)
    step = (end - start) / args.articles

    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")  # 1 GB: the unique indexes are filled at random
    names = [content.outlet(k) for k in range(args.sources)]
    db.executemany(
        "insert into sources (id, name, url, language, country, consecutive_failures, "
        "last_new_items, last_status, last_attempt_at, last_success_at, first_attempt_at) "
        "values (?, ?, ?, ?, ?, 0, 0, 'ok', ?, ?, ?)",
        [
            (
                k + 1,
                o.name,
                f"http://{o.host}/feed.xml",
                o.language.code,
                o.language.country,
                end.strftime(_FMT),
                end.strftime(_FMT),
                start.strftime(_FMT),
            )
            for k, o in enumerate(names)
        ],
    )
    texts = {id(item): "\n\n".join(item.paragraphs) for item in pool}
    batch: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[Any, ...]] = []
    tagged = 0

    def flush() -> None:
        db.execute("begin")
        db.executemany(
            "insert into articles (id, source_id, run_id, url, guid, title, summary, text, "
            "text_origin, extract_error, published_at, fetched_at, dated_at, author, "
            "categories, language) values (?, ?, NULL, ?, ?, ?, ?, ?, 'page', NULL, ?, ?, ?, "
            "'Staff reporter', ?, ?)",
            batch,
        )
        db.executemany(
            "insert into tags (article_id, topic, score, aspects, countries, evidence) "
            "values (?, ?, ?, ?, ?, ?)",
            tag_rows,
        )
        db.execute("commit")
        batch.clear()
        tag_rows.clear()

    for n in range(args.articles):
        article_id = n + 1
        source = rng.randrange(args.sources)
        is_tagged = rng.random() < args.tagged
        item = rng.choice(film if is_tagged else pool)
        published = start + step * n + timedelta(seconds=rng.randint(0, 59))
        fetched = published + timedelta(minutes=rng.randint(2, 30))
        url = f"http://{names[source].host}/news/{published:%Y/%m/%d}/n{article_id}.html"
        batch.append(
            (
                article_id,
                source + 1,
                url,
                url,
                item.title,
                item.summary,
                texts[id(item)],
                published.strftime(_FMT),
                fetched.strftime(_FMT),
                published.strftime(_FMT),
                json.dumps([item.section], ensure_ascii=False),
                names[source].language.code,
            )
        )
        if is_tagged:
            tagged += 1
            sentences = [s for p in item.paragraphs for s in p.split(". ")][:6]
            evidence = [
                {"term": word, "text": sentence, "concept": concept}
                for sentence, word, concept in zip(
                    sentences,
                    [item.title.split()[2], item.title.split()[3], "film", "festival"],
                    ["film", "cooperation", "film", "film"],
                    strict=False,
                )
            ]
            tag_rows.append(
                (
                    article_id,
                    TOPIC,
                    round(rng.uniform(0.35, 0.95), 3),
                    json.dumps(rng.sample(_ASPECTS, rng.randint(1, 2))),
                    json.dumps(rng.sample(_COUNTRIES, 2)),
                    json.dumps(evidence, ensure_ascii=False),
                )
            )
        if len(batch) >= 20_000:
            flush()
    if batch:
        flush()
    db.execute("PRAGMA journal_mode = WAL")  # as the monitor leaves it
    if args.analyze:
        db.execute("ANALYZE")
    db.close()
    result = {
        "articles": args.articles,
        "tagged": tagged,
        "days": args.days,
        "sources": args.sources,
        "last_day": last.isoformat(),
        "bytes": database.stat().st_size,
        "build_seconds": time.perf_counter() - started,
    }
    done.write_text(json.dumps(result))
    return {**result, "reused": False}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from monitor import app
    from monitor.config import load_config
    from monitor.deliver import write_files
    from monitor.digest import build_digest, day_window, select_stories
    from monitor.store import Store

    folder = folder_for(args)
    built = json.loads((folder / "built.json").read_text())
    day = date.fromisoformat(args.date or built["last_day"])
    config_path = folder / "sources.yaml"
    result: dict[str, Any] = {"day": day.isoformat(), "articles": built["articles"]}

    # Opened once first: a monitor newer than the database migrates it (an index over 1,000,000
    # rows takes seconds), which is not the digest's cost.
    Store(f"sqlite:///{folder / 'monitor.db'}").close()
    # The database read once, so that every figure below has it in the page cache (the order of
    # the runs would otherwise decide which one pays for the disk).
    with (folder / "monitor.db").open("rb") as handle:
        while handle.read(16 * 2**20):
            pass

    # 1. What a user runs.
    command = [*monitor_command(), "--config", str(config_path), "digest"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--date", day.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    result["cli_seconds"] = time.perf_counter() - started
    result["cli_returncode"] = done.returncode
    if done.returncode != 0:
        result["cli_error"] = done.stderr[-2000:]

    # 2. The same in this process (imports and configuration done).
    config = load_config(config_path)
    with Store(config.storage_url) as store:
        started = time.perf_counter()
        app.write_digest(config, store, day, deliver=False)
        result["write_digest_seconds"] = time.perf_counter() - started

        # 3. Its steps (as in monitor.app.write_digest).
        steps: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            steps[name] = now - clock
            clock = now

        since, until = day_window(day, config.timezone)
        stored = store.tagged_between(since, until)
        lap("store.tagged_between (the day)")
        health = store.health([s.name for s in config.sources], since, until)
        lap("store.health")
        prefer = (config.digest.locale,)
        digest = build_digest(day, config.timezone, datetime.now(UTC), stored, health, None, prefer)
        lap("build_digest (grouping)")
        week = store.tagged_between(until - timedelta(days=app.FEED_DAYS), until)
        lap("store.tagged_between (7 days, for the feed)")
        recent = select_stories(week, config.timezone, prefer)
        lap("select_stories (7 days)")
        write_files(
            digest,
            config.reports_dir,
            locale=config.digest.locale,
            group_by=config.digest.group_by,
            feed_stories=recent,
        )
        lap("write_files")
        result["steps"] = steps
        result["stories"] = len(digest.stories)
        result["tagged_that_day"] = len(stored)
        result["tagged_7_days"] = len(week)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "time"))
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--tagged", type=float, default=0.05, help="share tagged (0.05)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", help="the digest's day, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help=f"default {DEFAULT_DIR}")
    parser.add_argument("--fresh", action="store_true", help="build again even if present")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after filling")
    args = parser.parse_args(argv)
    result = build(args) if args.command == "build" else measure(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
