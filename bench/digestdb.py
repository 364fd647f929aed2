"""The digest over a large database: 1,000,000 stored articles, one day's digest.

``build`` makes a SQLite database with the monitor's own schema (``monitor.store.Store`` creates
it) and fills it directly with sqlite3 (``executemany``, journal off while it fills): ``--sources``
outlets, ``--articles`` articles spread evenly over ``--days`` days that end with the digest's
day, each with a real article's text (300-800 words, drawn from the news web's generator), about
``--tagged`` of them tagged film_cooperation with a row in ``tags``. The file is kept and reused
(same parameters, same file name) unless ``--fresh``.

With ``--postgres URL`` the same archive goes into that PostgreSQL database instead (its
monitor tables dropped first), loaded with COPY, and ``time`` reads it there.

``time`` opens the database once (a newer monitor migrates it then, untimed) and reads the file
once (so that every figure has it in the page cache), writes the digest of the day before
(untimed: a daily run finds what the run before it kept of its week's stories, see
``monitor.kept_anchors``), then runs ``monitor digest --date DAY`` in a process of its own (what
a user waits for: interpreter start and imports included; six of the feed's seven days kept),
then ``monitor.app.write_digest`` in this process, then its steps one by one (the store's
queries, grouping, writing the files; these find the whole week kept, and the feed's grouping
is also timed with nothing kept, as a new version's first run)::

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


def postgres_of(args: argparse.Namespace) -> str | None:
    """The PostgreSQL URL to build on (``--postgres``); None for SQLite (also when the caller's
    own options have no such field, as bench/workspace.py's)."""
    return getattr(args, "postgres", None)


def folder_for(args: argparse.Namespace) -> Path:
    kind = "-pg" if postgres_of(args) else ""
    return Path(args.dir) / f"digest-{args.articles}-{args.days}d-{args.sources}s-{args.seed}{kind}"


def digest_day(args: argparse.Namespace) -> date:
    return date.fromisoformat(args.date) if args.date else datetime.now(UTC).date()


def write_config(folder: Path, sources: int, storage: str | None = None) -> Path:
    lines = [f'storage: "{storage or "monitor.db"}"', "reports: reports/", "timezone: UTC"]
    lines.append("sources:")
    content = Content(sources, 1)
    for k in range(sources):
        outlet = content.outlet(k)
        lines += [f'  - name: "{outlet.name}"', f"    url: http://{outlet.host}/feed.xml"]
        lines.append(f"    language: {outlet.language.code}")
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_SOURCE_COLUMNS = (
    "id, name, url, language, country, consecutive_failures, last_new_items, last_status, "
    "last_attempt_at, last_success_at, first_attempt_at"
)
_ARTICLE_COLUMNS = (
    "id, source_id, url, guid, title, summary, text, published_at, fetched_at, dated_at, "
    "categories, language, text_origin, author"
)
_TAG_COLUMNS = "article_id, topic, score, aspects, countries, evidence"


def _rows(args: argparse.Namespace, content: Content, start: datetime, end: datetime) -> Any:
    """The sources' rows, then batches of (article rows, tag rows), in the columns above."""
    rng = random.Random(args.seed)
    pool = [content.item(k, i) for k in range(args.sources) for i in range(100)]
    film = [item for item in pool if item.film] or pool
    step = (end - start) / args.articles
    names = [content.outlet(k) for k in range(args.sources)]
    yield [
        (k + 1, o.name, f"http://{o.host}/feed.xml", o.language.code, o.language.country, 0, 0,
         "ok", end.strftime(_FMT), end.strftime(_FMT), start.strftime(_FMT))
        for k, o in enumerate(names)
    ]  # fmt: skip
    texts = {id(item): "\n\n".join(item.paragraphs) for item in pool}
    batch: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[Any, ...]] = []
    for n in range(args.articles):
        article_id = n + 1
        source = rng.randrange(args.sources)
        is_tagged = rng.random() < args.tagged
        item = rng.choice(film if is_tagged else pool)
        published = start + step * n + timedelta(seconds=rng.randint(0, 59))
        fetched = published + timedelta(minutes=rng.randint(2, 30))
        url = f"http://{names[source].host}/news/{published:%Y/%m/%d}/n{article_id}.html"
        batch.append(
            (article_id, source + 1, url, url, item.title, item.summary, texts[id(item)],
             published.strftime(_FMT), fetched.strftime(_FMT), published.strftime(_FMT),
             json.dumps([item.section], ensure_ascii=False), names[source].language.code,
             "page", "Staff reporter")
        )  # fmt: skip
        if is_tagged:
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
            yield batch, tag_rows
            batch, tag_rows = [], []
    if batch:
        yield batch, tag_rows


def _marks(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


def _fill_sqlite(database: Path, rows: Any, analyze: bool) -> int:
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")  # 1 GB: the unique indexes are filled at random
    db.executemany(
        f"insert into sources ({_SOURCE_COLUMNS}) values ({_marks(_SOURCE_COLUMNS)})", next(rows)
    )
    tagged = 0
    for batch, tag_rows in rows:
        db.execute("begin")
        db.executemany(
            f"insert into articles ({_ARTICLE_COLUMNS}) values ({_marks(_ARTICLE_COLUMNS)})",
            batch,
        )
        db.executemany(
            f"insert into tags ({_TAG_COLUMNS}) values ({_marks(_TAG_COLUMNS)})", tag_rows
        )
        db.execute("commit")
        tagged += len(tag_rows)
    db.execute("PRAGMA journal_mode = WAL")  # as the monitor leaves it
    if analyze:
        db.execute("ANALYZE")
    db.close()
    return tagged


def _fill_postgres(url: str, rows: Any) -> int:
    """COPY, the server's bulk load; then the id sequences past the ids and VACUUM (ANALYZE)
    (what an administrator does after a bulk load, and autovacuum soon after anyway: without
    the visibility map it sets, an index-only scan reads every row's page)."""
    import psycopg

    from monitor.store import _with_driver

    dsn = _with_driver(url).replace("postgresql+psycopg://", "postgresql://")
    tagged = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.cursor().copy(f"COPY sources ({_SOURCE_COLUMNS}) FROM STDIN") as copy:
            for row in next(rows):
                copy.write_row(row)
        for batch, tag_rows in rows:
            with conn.transaction():
                with conn.cursor().copy(f"COPY articles ({_ARTICLE_COLUMNS}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
                with conn.cursor().copy(f"COPY tags ({_TAG_COLUMNS}) FROM STDIN") as copy:
                    for row in tag_rows:
                        copy.write_row(row)
            tagged += len(tag_rows)
        for table in ("sources", "articles"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute("VACUUM (ANALYZE)")
    return tagged


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
    write_config(folder, args.sources, postgres_of(args))
    started = time.perf_counter()
    if postgres_of(args):
        _drop_tables(postgres_of(args))
    Store(postgres_of(args) or f"sqlite:///{database}").close()  # the schema, by the monitor itself
    if postgres_of(args) and getattr(args, "without_search", False):
        _drop_search_words(postgres_of(args))

    content = Content(args.sources, 100, seed=args.seed)
    last = digest_day(args)
    end = datetime.combine(last + timedelta(days=1), dtime(0), tzinfo=UTC)
    start = end - timedelta(days=args.days)
    rows = _rows(args, content, start, end)
    if postgres_of(args):
        tagged = _fill_postgres(postgres_of(args), rows)
    else:
        tagged = _fill_sqlite(database, rows, args.analyze)
    result = {
        "articles": args.articles,
        "tagged": tagged,
        "days": args.days,
        "sources": args.sources,
        "last_day": last.isoformat(),
        "storage": "postgresql" if postgres_of(args) else "sqlite",
        "bytes": _size(postgres_of(args)) if postgres_of(args) else database.stat().st_size,
        "build_seconds": time.perf_counter() - started,
    }
    done.write_text(json.dumps(result))
    return {**result, "reused": False}


def _drop_search_words(url: str) -> None:
    """The archive search's stored words (and their index) left out: the server computes them
    for every row it loads, three times the load's time, and the digest reads none of them.
    The workspace's search does not work on such a database."""
    from sqlalchemy import create_engine

    from monitor.store import _with_driver

    engine = create_engine(_with_driver(url))
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE articles DROP COLUMN IF EXISTS words")
    engine.dispose()


def _drop_tables(url: str) -> None:
    """The bench database emptied of the monitor's tables (a rebuild starts from nothing)."""
    from sqlalchemy import create_engine

    from monitor.store import _with_driver, metadata

    engine = create_engine(_with_driver(url))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version, schema_version CASCADE")
        metadata.drop_all(conn)
    engine.dispose()


def _size(url: str) -> int:
    from sqlalchemy import create_engine, text

    from monitor.store import _with_driver

    engine = create_engine(_with_driver(url))
    with engine.connect() as conn:
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
    engine.dispose()
    return size


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from monitor import app
    from monitor.config import load_config
    from monitor.deliver import write_files
    from monitor.digest import build_digest, day_window, select_stories
    from monitor.kept_anchors import kept_anchors
    from monitor.store import Store

    folder = folder_for(args)
    built = json.loads((folder / "built.json").read_text())
    day = date.fromisoformat(args.date or built["last_day"])
    config_path = folder / "sources.yaml"
    result: dict[str, Any] = {"day": day.isoformat(), "articles": built["articles"]}

    # Opened once first: a monitor newer than the database migrates it (an index over 1,000,000
    # rows takes seconds), which is not the digest's cost.
    Store(postgres_of(args) or f"sqlite:///{folder / 'monitor.db'}").close()
    if not postgres_of(args):
        # The database read once, so that every figure below has it in the page cache (the
        # order of the runs would otherwise decide which one pays for the disk).
        with (folder / "monitor.db").open("rb") as handle:
            while handle.read(16 * 2**20):
                pass

    # What a daily run finds: the run of the day before kept what it read of its week's stories
    # (monitor.kept_anchors), six days of which are in this day's feed.
    config = load_config(config_path)
    with Store(config.storage_url) as store:
        app.write_digest(config, store, day - timedelta(days=1), deliver=False)

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
        with kept_anchors() as kept:  # as app.write_digest, which filled it just before
            now = datetime.now(UTC)
            digest = build_digest(day, config.timezone, now, stored, health, None, prefer, kept)
            lap("build_digest (grouping)")
            week = store.tagged_between(until - timedelta(days=app.FEED_DAYS), until)
            lap("store.tagged_between (7 days, for the feed)")
            recent = select_stories(week, config.timezone, prefer, kept)
            lap("select_stories (7 days)")
        # The same without what earlier runs kept: the first run of a new version, or a week
        # none of whose stories a run has grouped yet.
        select_stories(week, config.timezone, prefer)
        lap("select_stories (7 days, nothing kept)")
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
    parser.add_argument(
        "--without-search",
        action="store_true",
        help="PostgreSQL: leave out the search's stored words (a faster build; the digest "
        "reads none of them, the workspace's search then finds nothing)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="build and time on this PostgreSQL database instead of an SQLite file (its "
        "tables are dropped first), e.g. postgresql://postgres@127.0.0.1/bench",
    )
    args = parser.parse_args(argv)
    result = build(args) if args.command == "build" else measure(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
