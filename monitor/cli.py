"""Command line: ``monitor [--config PATH] run | serve | digest | sources … | users … |
feedback export | alerts status|test | tag | eval``.

``tag`` and ``eval`` run the tagger alone (no fetching, no database): with the configuration's
topic files when there is a configuration file, with the built-in rules when there is none.

Exit status: 0 the command did its work (failed sources are reported, not fatal); 1 no source at
all could be fetched, or storage or delivery failed; 2 bad usage or configuration, or bad input
lines for ``tag`` and ``eval`` (reported and skipped, the others are done); 75 another
cycle or a service holds the storage lock (try again later).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from monitor import __version__
from monitor.config import ENV_VAR, Config, find_config, load_config, nothing_to_check
from monitor.errors import (
    AccountError,
    AlertNotFound,
    ConfigError,
    DeliveryError,
    Problem,
    RunLockedError,
    SourceError,
    StorageError,
)
from monitor.interrupt import EXIT_INTERRUPTED, interruptible
from monitor.lock import cycle_lock, lock_path
from monitor.models import Source, SourceOutcome, SourceStatus, Tagging
from monitor.text import plural

# Each command imports what it uses: `monitor digest` need not load httpx, trafilatura and the
# tagger, and extraction workers never import this module at all (see monitor/entry.py).
if TYPE_CHECKING:
    from monitor import app
    from monitor.evaluate import Example, Prediction
    from monitor.store import Store
    from monitor.tag import Tagger, TagInput

log = logging.getLogger("monitor")
T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="configuration file (default: $MONITOR_CONFIG, then ./sources.yaml)",
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more detail"
    )
    common.add_argument(
        "-q", "--quiet", action="count", default=argparse.SUPPRESS, help="warnings only"
    )

    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watch news feeds for cooperation in the film industry and write a daily digest.",
        parents=[common],
        epilog="Exit status: 0 done, 1 no source could be fetched or storage failed, "
        "2 bad usage or configuration, 75 another cycle is running.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", parents=[common], help="run one monitoring cycle, then write today's digest",
        description="Fetch every source that is due, extract and tag new articles, store them, "
        "then write today's digest files. When the digest's time (digest.time) has passed and "
        "its digest was not sent yet, send it: a crontab line calling this every few minutes is "
        "a complete installation.",
    )  # fmt: skip
    run.add_argument("--all", action="store_true", help="fetch every enabled source, due or not")
    run.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="wait this long for a running cycle to finish (default: exit at once)")  # fmt: skip
    run.add_argument("--no-digest", action="store_true",
                     help="neither write nor send a digest afterwards")  # fmt: skip

    commands.add_parser(
        "serve", parents=[common], help="run as a service: fetch on schedule, send the digest daily",
        description="Run until SIGTERM or SIGINT: each source is fetched when due (its interval "
        "adapts to how often it publishes), the digest is sent daily at digest.time, and "
        "sources.yaml is reloaded when it changes or on SIGHUP (a bad edit is reported and the "
        "running configuration kept).",
    )  # fmt: skip

    digest = commands.add_parser(
        "digest", parents=[common], help="write the digest of a day or a period",
        description="Write the digest (JSON, Markdown, HTML; index and feed updated) with the "
        "tagged stories of one day or period in the configured time zone, and the health of every "
        "source; then send it by e-mail and webhook when configured. A period's files are named "
        "FIRST_LAST, so no digest replaces another period's.",
    )  # fmt: skip
    when = digest.add_mutually_exclusive_group()
    when.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                      help="the day: a date, today or yesterday (default: today)")  # fmt: skip
    when.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="first day of a period")
    when.add_argument("--weekly", action="store_true",
                      help="the seven days that end with --until (default: yesterday)")  # fmt: skip
    digest.add_argument("--until", type=_date, metavar="YYYY-MM-DD",
                        help="last day of the period (default: today; with --weekly, yesterday)")  # fmt: skip

    sources = commands.add_parser(
        "sources", parents=[common], help="look at the configured sources"
    )
    sources_commands = sources.add_subparsers(
        dest="sources_command", metavar="COMMAND", required=True
    )
    sources_commands.add_parser(
        "status", parents=[common], help="each source's health: state, last success, errors, next fetch",
    )  # fmt: skip
    sources_commands.add_parser("list", parents=[common], help="the same as status")
    sources_commands.add_parser(
        "validate", parents=[common], help="check sources.yaml and its rule files, every problem at once",
    )  # fmt: skip
    add = sources_commands.add_parser(
        "add", parents=[common], help="find the feeds of a site and add one to sources.yaml",
        description="Find the feeds of URL (declared by the page, or at the usual addresses), "
        "list them, and append the best one (or --pick N) to sources.yaml, keeping its comments.",
    )  # fmt: skip
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", help="the source's name (default: from the feed's title)")
    add.add_argument("--language", help="ISO 639 code, e.g. az (default: what the feed declares)")
    add.add_argument("--country", help="ISO 3166 code, e.g. AZ")
    add.add_argument("--interval", help="e.g. 30m, 2h (default: 1h, then adapted)")
    add.add_argument("--pick", type=int, default=1, metavar="N", help="add the N-th feed found")
    add.add_argument("--dry-run", action="store_true", help="show the entry, change nothing")
    trial = sources_commands.add_parser(
        "test", parents=[common], help="try a source without storing anything",
        description="Fetch, parse, extract and tag the latest items of a configured source (by "
        "name) or of a feed URL, and print what the digest would show. Nothing is written.",
    )  # fmt: skip
    trial.add_argument("source", metavar="NAME|URL")
    trial.add_argument(
        "--items", type=int, default=5, metavar="N", help="how many items (default 5)"
    )
    trial.add_argument("--language", help="for a URL: the feed's language")

    storage = commands.add_parser("storage", parents=[common], help="look after the database")
    storage_commands = storage.add_subparsers(
        dest="storage_command", metavar="COMMAND", required=True
    )
    backup = storage_commands.add_parser(
        "backup", parents=[common], help="a consistent copy of the SQLite database, while in use",
        description="Copy the SQLite database with SQLite's online backup: the service may go on "
        "writing meanwhile. TARGET is a file, or a folder to put monitor-DATE-TIME.db in. The "
        "copy is checked before it replaces TARGET. (A database server is backed up with its own "
        "tools, e.g. pg_dump.)",
    )  # fmt: skip
    backup.add_argument("target", type=Path, metavar="TARGET")
    storage_commands.add_parser(
        "migrate", parents=[common], help="bring the database's schema up to this version",
        description="Open the configured storage and apply the schema changes this version "
        "brings (any command does so on its first start; this one does only that).",
    )  # fmt: skip
    copy = storage_commands.add_parser(
        "copy", parents=[common], help="copy the whole archive into another database",
        description="Copy every table of the configured storage into the database at URL "
        "(e.g. postgresql://monitor@db.example.org/monitor; the password from PGPASSWORD or "
        "~/.pgpass), then compare the counts. Interrupted, it resumes where it stopped when run "
        "again. Stop the monitor first, then point storage: at URL.",
    )  # fmt: skip
    copy.add_argument("--to", required=True, metavar="URL", dest="target_url")

    init = commands.add_parser(
        "init", parents=[common], help="write a first sources.yaml and its folders",
        description="Write DIR/sources.yaml (commented: every key explained) with the shipped "
        "outlets disabled, except those chosen with --enable or all with --all, and create the "
        "storage and reports folders (in DIR, or in --data). An existing sources.yaml is kept "
        "unless --force.",
    )  # fmt: skip
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR",
                      help="where sources.yaml goes (default: the current folder)")  # fmt: skip
    init.add_argument("--data", type=Path, metavar="DIR",
                      help="where storage/ and reports/ go (default: DIR), e.g. /var/lib/film-monitor")  # fmt: skip
    init.add_argument("--enable", action="append", default=[], metavar="NAME|CC",
                      help="keep this shipped outlet (or every outlet of a country code) enabled; "
                      "repeatable")  # fmt: skip
    init.add_argument("--all", action="store_true", help="keep every shipped outlet enabled")
    init.add_argument("--force", action="store_true", help="replace an existing sources.yaml")

    tag = commands.add_parser(
        "tag", parents=[common], help="tag articles given as JSON Lines",
        description="Read JSON Lines with title and text (optional: id, lang, lead) from FILE or "
        "standard input; write each line back with language, topics, score, aspects, countries "
        "and evidence added. Bad lines are reported with their line number and skipped; the exit "
        "status is then 2.",
    )  # fmt: skip
    tag.add_argument("file", nargs="?", type=Path, metavar="FILE", help="default: standard input")

    commands.add_parser(
        "workers", parents=[common], help="the workers sharing the database, their leases",
        description="With several `monitor serve` (or `monitor run`) on one PostgreSQL "
        "database: each worker with its last heartbeat and the sources it holds, and those that "
        "stopped answering (their sources go back to the others when the lease ends).",
    )  # fmt: skip

    web = commands.add_parser(
        "web", parents=[common], help="the press office's workspace in the browser",
        description="Serve the workspace (latest stories, archive search, story pages with "
        "feedback, and a JSON API at /api, described at /api/docs) from the configured storage, "
        "beside monitor serve or alone. Add accounts first with monitor users add. Behind a "
        "reverse proxy that adds HTTPS, pass --secure-cookies.",
    )  # fmt: skip
    web.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")  # fmt: skip
    web.add_argument("--port", type=int, default=8080, help="default 8080")
    web.add_argument("--workers", type=int, default=1, metavar="N",
                     help="processes serving requests (default 1; one a core for a busy office)")  # fmt: skip
    web.add_argument("--secure-cookies", action="store_true",
                     help="send the session cookie over HTTPS only (behind an HTTPS proxy)")  # fmt: skip

    users = commands.add_parser(
        "users", parents=[common], help="accounts of the workspace and their API tokens"
    )
    users_commands = users.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    user_add = users_commands.add_parser(
        "add", parents=[common], help="add a user (the password is asked for)",
        description="Add a user of the workspace. Readers browse, search and give feedback; "
        "admins also see the sources. The password (at least 10 characters) is asked for twice, "
        "or read from the first line of standard input with --password-stdin.",
    )  # fmt: skip
    user_add.add_argument("name", metavar="NAME")
    user_add.add_argument("--role", choices=("admin", "reader"), default="reader",
                          help="default: reader")  # fmt: skip
    user_add.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input")  # fmt: skip
    users_commands.add_parser("list", parents=[common], help="the users, their roles and tokens")
    user_remove = users_commands.add_parser(
        "remove", parents=[common], help="remove a user with their tokens and feedback"
    )
    user_remove.add_argument("name", metavar="NAME")
    user_token = users_commands.add_parser(
        "token", parents=[common], help="print a new API token for a user (shown once)"
    )
    user_token.add_argument("name", metavar="NAME")

    feedback = commands.add_parser("feedback", parents=[common], help="the office's judgements")
    feedback_commands = feedback.add_subparsers(
        dest="feedback_command", metavar="COMMAND", required=True
    )
    export = feedback_commands.add_parser(
        "export", parents=[common], help="the judged stories as labeled JSON Lines",
        description="Write every story the office judged (relevant or not) as a labeled line in "
        "the format monitor eval reads: measure the tagger on the office's own labels with "
        "monitor feedback export -o office.jsonl; monitor eval office.jsonl",
    )  # fmt: skip
    export.add_argument("--since", type=_date, metavar="YYYY-MM-DD",
                        help="only judgements made on or after this day")  # fmt: skip
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE (default: standard output)")  # fmt: skip

    alerts = commands.add_parser("alerts", parents=[common], help="the instant alert rules")
    alerts_commands = alerts.add_subparsers(dest="alerts_command", metavar="COMMAND", required=True)
    alerts_commands.add_parser(
        "status", parents=[common],
        help="each rule: stories alerted, last sent, deliveries pending and failing",
    )  # fmt: skip
    alert_test = alerts_commands.add_parser(
        "test", parents=[common], help="send a sample story through every channel of a rule"
    )
    alert_test.add_argument("name", metavar="NAME", help="the rule's name")

    evaluation = commands.add_parser(
        "eval", parents=[common], help="measure the tagger on labeled JSON Lines",
        description="Tag labeled lines (id, lang, title, text, label, borderline, aspects, "
        "countries; lang is given to the tagger as the source's declared language) and print "
        "precision, recall and F1 per language and overall, borderline lines apart, aspect and "
        "country accuracy, and the misclassified lines. Bad lines are reported and skipped; the "
        "exit status is then 2.",
    )  # fmt: skip
    evaluation.add_argument("files", nargs="+", type=Path, metavar="FILE")
    evaluation.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def _period(args: argparse.Namespace, today: date) -> tuple[date, date | None]:
    """The days a ``digest`` command covers: (first, last), last None for a single day."""
    until, since, day = (_day(getattr(args, k), today) for k in ("until", "since", "date"))
    if args.weekly:
        last = until or today - timedelta(days=1)
        return last - timedelta(days=6), last
    if since:
        last = until or today
        if last < since:
            raise ConfigError([Problem("command line", None, "--until", "is before --since")])
        return since, last
    if until:
        raise ConfigError([Problem("command line", None, "--until", "needs --since or --weekly")])
    return day or today, None


_RELATIVE_DAYS = {"today": 0, "yesterday": -1}


def _date(text: str) -> date | int:
    """A day: ISO, or "today" / "yesterday" (an offset, resolved in the configured time zone)."""
    if text.strip().lower() in _RELATIVE_DAYS:
        return _RELATIVE_DAYS[text.strip().lower()]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date like 2026-11-26 (or today, yesterday)"
        ) from None


def _day(value: date | int | None, today: date) -> date | None:
    return today + timedelta(days=value) if isinstance(value, int) else value


def _init(args: argparse.Namespace) -> int:
    from monitor.init_cmd import init

    done = init(args.folder, args.data, args.enable, args.all, args.force)
    print(f"wrote {done.config}")
    for folder in done.folders:
        print(f"created {folder}/")
    chosen = len(done.enabled)
    print(f"{plural(done.shipped, 'shipped outlet')}, {chosen} enabled"
          + (f": {', '.join(done.enabled)}" if 0 < chosen <= 10 else ""))  # fmt: skip
    config = f" --config {done.config}" if done.config.parent.resolve() != Path.cwd() else ""
    print("next: edit it, or add a source with: monitor" + config + " sources add URL;")
    print("      then check it with: monitor" + config + " sources validate; and run: monitor"
          + config + " run")  # fmt: skip
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    verbosity = getattr(args, "verbose", 0) - getattr(args, "quiet", 0)
    _setup_logging(verbosity)
    try:
        if args.command == "tag":
            return _tag(_tagger(getattr(args, "config", None)), args.file, sys.stdout)
        if args.command == "eval":
            return _eval(_tagger(getattr(args, "config", None)), args.files, args.json, sys.stdout)
        if args.command == "init":
            return _init(args)
        path = find_config(getattr(args, "config", None))
        if args.command == "sources" and args.sources_command == "validate":
            from monitor import sources_cmd

            sources_cmd.validate(path, sys.stdout)
            return EXIT_OK
        if args.command == "serve":
            from monitor.service import Service

            return Service(path).run()
        config = load_config(path)
        if args.command == "run":
            return _run(config, args, verbosity)
        if args.command == "storage":
            return _storage(config, args)
        if args.command == "digest":
            first, last = _period(args, datetime.now(UTC).astimezone(config.timezone).date())
            return _digest(config, first, last)
        if args.command in ("users", "feedback"):
            return _workspace(config, args)
        if args.command == "alerts":
            from monitor import alerts_cmd

            if args.alerts_command == "status":
                alerts_cmd.status(config, sys.stdout)
                return EXIT_OK
            return EXIT_FAILED if alerts_cmd.test(config, args.name, sys.stdout) else EXIT_OK
        if args.command == "workers":
            from monitor.store import Store
            from monitor.workers import print_workers

            with Store(config.storage_url) as store:
                print_workers(store, sys.stdout)
            return EXIT_OK
        if args.command == "web":
            from monitor.web.app import serve

            return serve(
                config,
                args.host,
                args.port,
                secure_cookies=args.secure_cookies,
                workers=max(1, args.workers),
            )
        return _sources(config, args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except RunLockedError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (AccountError, AlertNotFound) as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, DeliveryError, SourceError) as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("monitor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`monitor sources status | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


# Libraries that log every request or every job at INFO/DEBUG: a day of `monitor serve` would
# write tens of thousands of lines. They speak from -vv on.
_CHATTY = ("httpx", "httpcore", "hpack", "trafilatura", "htmldate", "charset_normalizer",
           "apscheduler", "urllib3", "asyncio", "apprise")  # fmt: skip
_UTC_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _setup_logging(verbosity: int, env: Mapping[str, str] | None = None) -> None:
    """INFO by default (what happened: cycles with counts, digests, failures), WARNING with
    -q, the monitor's DEBUG with -v, every library's with -vv. Times are UTC; under systemd
    (JOURNAL_STREAM set) the journal stamps each line itself, so the lines carry none."""
    env = os.environ if env is None else env
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if env.get("JOURNAL_STREAM"):
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        utc = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", _UTC_TIME)
        utc.converter = time.gmtime  # one time zone in the log, whatever the machine's
        handler.setFormatter(utc)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.NOTSET if verbosity > 1 else logging.WARNING)


def _run(config: Config, args: argparse.Namespace, verbosity: int) -> int:
    from monitor import app
    from monitor.extractors import ProcessExtractor
    from monitor.store import Store
    from monitor.workers import Worker, shared_storage

    # A bad rule file of the user's stops us before anything is written.
    tagger: Tagger | None = None
    if config.topic_files:
        from monitor.tag import load_tagger

        tagger = load_tagger(config.topic_files)
    if not any(s.enabled for s in config.sources):
        print(f"monitor: {nothing_to_check(config)}", file=sys.stderr)
    waiting = (
        "waiting for the requests under way and the pages being extracted to end "
        f"(at most {config.fetch.total_timeout:g} s)"
    )
    with ExitStack() as stack:
        stack.enter_context(interruptible(waiting))
        # On a database server several hosts may run cycles at once, kept apart by leases
        # (monitor.workers); a SQLite file is one machine's: one cycle at a time, by file lock.
        shared = shared_storage(config.storage_url)
        if not shared:
            stack.enter_context(
                cycle_lock(lock_path(config.sqlite_path, config.reports_dir), args.wait)
            )
        store = stack.enter_context(Store(config.storage_url))
        worker = stack.enter_context(Worker(store, config.schedule.lease)) if shared else None
        name = worker.name if worker is not None else None
        extract = stack.enter_context(ProcessExtractor())
        sources: tuple[Source, ...] = ()
        idle = not (args.all or app.anything_due(config, store))
        if not idle:
            sources = app.claim(config, worker, force=args.all)
            idle = not sources  # all that is due is another worker's
        failed = False
        if not idle:
            from monitor.tag import load_tagger

            tagger = tagger or load_tagger()
            done: set[str] = set()
            failed = True
            while sources:
                progress = _Progress(sys.stderr, live=sys.stderr.isatty() and verbosity >= 0)
                report = asyncio.run(app.cycle(config, store, tagger, extract, force=args.all,
                                               progress=progress, sources=sources, worker=name))  # fmt: skip
                progress.finish()
                print(app.summary(report), file=sys.stderr)
                failed = failed and report.all_failed
                if worker is None:
                    break
                # A worker takes its share of the sites due; a run takes what the others
                # left too, rather than leaving it to the next run.
                done.update(s.name for s in sources)
                sources = app.claim(config, worker, force=args.all, exclude=done)
        else:
            # From cron every few minutes this is the common case: no tagger compiled (two
            # seconds), no HTTP client, no extractor.
            print(app.summary(app.idle_cycle(config, store, worker=name)), file=sys.stderr)
        delivery = EXIT_OK
        if not args.no_digest:
            if idle and app.digest_is_current(config, store):
                print("today's digest is up to date: nothing was due", file=sys.stderr)
            else:
                delivery = _print(app.write_digest(config, store, deliver=False))
            delivery = max(delivery, _scheduled_digest(config, store))
    return EXIT_FAILED if failed or delivery != EXIT_OK else EXIT_OK


def _scheduled_digest(config: Config, store: Store) -> int:
    """Send the scheduled digest when its time has passed (by less than schedule.grace) and
    it was not sent yet: cron and the service keep the same schedule."""
    from monitor import app
    from monitor.schedule import digest_trigger, missed_slot

    now = datetime.now(UTC)
    trigger = digest_trigger(config.digest.time, config.timezone)
    slot = missed_slot(trigger, now, store.last_digest_slot(), config.schedule.grace)
    if slot is None:
        return EXIT_OK
    from monitor.service import scheduled_day  # the service's modules, only when one is due

    result = app.scheduled_digest(config, store, scheduled_day(slot, config), slot, now)
    return EXIT_OK if result is None else _print(result)


def _print(result: app.DigestResult) -> int:
    for path in result.paths:
        print(path)
    for failure in result.failures:
        print(f"monitor: delivery failed: {failure}", file=sys.stderr)
    return EXIT_FAILED if result.failures else EXIT_OK


def _digest(config: Config, day: date, last: date | None) -> int:
    from monitor import app
    from monitor.store import Store

    with Store(config.storage_url) as store:
        return _print(app.write_digest(config, store, day, last))


def _storage(config: Config, args: argparse.Namespace) -> int:
    from monitor.backup import backup_sqlite
    from monitor.store import Store, safe_url

    if args.storage_command == "migrate":
        with Store(config.storage_url) as store:
            print(f"{safe_url(config.storage_url)}: schema version {store.schema_version()}")
        return EXIT_OK
    if args.storage_command == "copy":
        from monitor.config import storage_url
        from monitor.storage_copy import copy_storage

        target = storage_url(args.target_url, config.path.resolve().parent)
        if target == config.storage_url:
            raise StorageError("the target is the configured storage itself")
        with Store(config.storage_url) as source, Store(target) as into:
            copied = copy_storage(source, into)
        for table in copied:
            print(f"{table.table}: {table.rows} rows ({table.written} written now)")
        print(f"copied into {safe_url(target)}; the counts match")
        return EXIT_OK

    if config.sqlite_path is None:
        raise StorageError(
            "storage is a database server: back it up with its own tools (e.g. pg_dump)"
        )
    done = backup_sqlite(config.sqlite_path, args.target)
    print(f"{done.path}: {done.bytes / 1e6:.1f} MB, {plural(done.articles, 'article')}, checked")
    return EXIT_OK


def _workspace(config: Config, args: argparse.Namespace) -> int:
    from monitor import workspace_cmd

    if args.command == "feedback":
        today = datetime.now(UTC).astimezone(config.timezone).date()
        workspace_cmd.feedback_export(config, _day(args.since, today), args.output, sys.stdout)
        return EXIT_OK
    command = args.users_command
    if command == "add":
        password = workspace_cmd.read_password(args.password_stdin)
        workspace_cmd.users_add(config, args.name, args.role, password, sys.stdout)
    elif command == "list":
        workspace_cmd.users_list(config, sys.stdout)
    elif command == "remove":
        workspace_cmd.users_remove(config, args.name, sys.stdout)
    else:
        workspace_cmd.users_token(config, args.name, sys.stdout)
    return EXIT_OK


def _sources(config: Config, args: argparse.Namespace) -> int:
    from monitor import sources_cmd
    from monitor.tag import load_tagger

    command = args.sources_command
    if command in ("status", "list"):
        sources_cmd.status(config, sys.stdout)
        return EXIT_OK
    if command == "add":
        options = sources_cmd.AddOptions(
            name=args.name,
            language=args.language,
            country=args.country,
            interval=args.interval,
            pick=args.pick,
            dry_run=args.dry_run,
        )
        return sources_cmd.add(config, args.url, options, sys.stdout)
    source = sources_cmd.find_source(config, args.source, args.language)
    tagger = load_tagger(config.topic_files)
    return sources_cmd.test(config, source, tagger, sys.stdout, items=args.items)


def _tagger(explicit: str | None) -> Tagger:
    """The built-in rules plus the configuration's topic files. Without any configuration file
    (no --config, no $MONITOR_CONFIG, no ./sources.yaml) the built-in rules alone: tagging
    needs no sources."""
    from monitor.tag import load_tagger

    path = find_config(explicit)
    if not explicit and not os.environ.get(ENV_VAR) and not path.exists():
        return load_tagger()
    return load_tagger(load_config(path).topic_files)


def _json_lines(path: Path | None) -> Iterator[tuple[str, int, Any, str | None]]:
    """(file name, line number, decoded object or None, problem or None) for each non-blank
    line of ``path``, or of standard input when ``path`` is None or "-"."""
    if path is None or str(path) == "-":
        yield from _decoded("<stdin>", getattr(sys.stdin, "buffer", sys.stdin))
        return
    try:
        with path.open("rb") as stream:
            yield from _decoded(str(path), stream)
    except OSError as exc:
        yield str(path), 0, None, f"cannot read: {exc.strerror or exc}"


def _decoded(name: str, stream: Any) -> Iterator[tuple[str, int, Any, str | None]]:
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            yield name, number, None, "not UTF-8"
            continue
        if not line.strip():
            continue
        try:
            yield name, number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield name, number, None, f"invalid JSON: {exc.msg} (column {exc.colno})"


def _report(name: str, number: int, problem: str) -> None:
    where = f"{name}:{number}" if number else name
    print(f"error: {where}: {problem}", file=sys.stderr)


def _valid_lines(
    path: Path | None, parse: Callable[[Any], T], bad: list[str]
) -> Iterator[tuple[Any, T]]:
    """(object, parsed) for each good line; a bad line is reported on stderr, skipped and
    recorded in ``bad``."""
    for name, number, data, problem in _json_lines(path):
        try:
            if problem is not None:
                raise ValueError(problem)
            parsed = parse(data)
        except ValueError as exc:
            _report(name, number, str(exc))
            bad.append(f"{name}:{number}")
            continue
        yield data, parsed


def _tag_input(data: Any) -> TagInput:
    from monitor.tag import TagInput

    """A JSON Lines object as tagger input. Raises ValueError naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with title and text")
    for key in ("title", "text"):
        if key not in data:
            raise ValueError(f"{key!r} is missing")
        if not isinstance(data[key], str):
            raise ValueError(f"{key!r} must be a string")
    for key in ("lang", "lead", "country"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"{key!r} must be a string")
    country = data.get("country")
    if country is not None and not (len(country) == 2 and country.isascii() and country.isupper()):
        raise ValueError(
            f"'country' must be an ISO 3166-1 alpha-2 code such as AZ, not {country!r}"
        )
    return TagInput(data["title"], data["text"], data.get("lead") or "", data.get("lang"), country)


def _tagging_fields(tagging: Tagging) -> dict[str, Any]:
    return {
        "language": tagging.language,
        "topics": list(tagging.topics),
        "score": tagging.score,
        "aspects": list(tagging.aspects),
        "countries": list(tagging.countries),
        # The same term in the same sentence may be evidence for two concepts: show it once.
        "evidence": [
            {"term": term, "text": text}
            for term, text in dict.fromkeys((e.term, e.text) for e in tagging.evidence)
        ],
    }


def _tag(tagger: Tagger, path: Path | None, out: TextIO) -> int:
    """Tag JSON Lines; every bad line is reported and skipped, and makes the exit status 2."""
    bad: list[str] = []
    for data, doc in _valid_lines(path, _tag_input, bad):
        out.write(json.dumps({**data, **_tagging_fields(tagger.tag(doc))}, ensure_ascii=False))
        out.write("\n")
    return EXIT_USAGE if bad else EXIT_OK


def _eval(tagger: Tagger, paths: Sequence[Path], as_json: bool, out: TextIO) -> int:
    """Tag labeled lines and print the figures; bad lines are reported, skipped, and make the
    exit status 2. Lines labeled with an ``event`` are also grouped as the digest groups them."""
    from monitor.evaluate import (
        Prediction,
        evaluate,
        format_grouping,
        format_table,
        parse_example,
        score_grouping,
        to_json,
    )
    from monitor.tag import TagInput

    bad: list[str] = []
    pairs: list[tuple[Example, Prediction]] = []
    taggings: list[Tagging] = []
    for path in paths:
        for _data, example in _valid_lines(path, parse_example, bad):
            tagging = tagger.tag(
                TagInput(example.title, example.text, example.lead, language=example.language)
            )
            prediction = Prediction(
                tagging.tagged,
                tagging.score,
                frozenset(tagging.aspects),
                frozenset(tagging.countries),
                tagging.language,
            )
            pairs.append((example, prediction))
            taggings.append(tagging)
    report = evaluate(pairs)
    events = {e.id: e.event for e, _ in pairs if e.event}
    grouping = None
    if events:
        seen = Counter(e.id for e, _ in pairs if e.event)
        twice = sorted(i for i, n in seen.items() if n > 1)
        if twice:
            _report("eval", 0, f"lines with an event need unique ids; used twice: {twice}")
            return EXIT_USAGE
        labeled = [(e, t) for (e, _), t in zip(pairs, taggings, strict=True) if e.event]
        grouping = score_grouping(events, _entries(labeled))
    if as_json:
        out.write(json.dumps(to_json(report, grouping), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_table(report))
        if grouping is not None:
            out.write("\n" + format_grouping(grouping, events))
    return EXIT_USAGE if bad else EXIT_OK


def _entries(labeled: Sequence[tuple[Example, Tagging]]) -> list[set[str]]:
    """The digest's entries over labeled lines, as sets of line ids: the lines are stored as
    articles (their tagging as the cycle would store it) and selected as the digest selects."""
    from zoneinfo import ZoneInfo

    from monitor.digest import select_stories
    from monitor.models import Article, TextOrigin
    from monitor.store import StoredArticle

    stored = []
    ids: dict[str, str] = {}
    for n, (example, tagging) in enumerate(labeled):
        url = f"eval:{example.id}"
        ids[url] = example.id
        assert example.published is not None and example.source is not None  # parse_example
        article = Article(
            # A feed is one outlet in one language (sources.yaml lists Trend's English and
            # Russian feeds as two sources): an outlet's versions in two languages are two
            # sources' stories, its two articles in one language one source's.
            source=f"{example.source} [{example.language}]",
            url=url,
            title=example.title,
            text=example.text,
            text_origin=TextOrigin.PAGE,
            fetched_at=example.published,
            summary=example.lead,
            published=example.published,
            language=tagging.language or example.language,
            tagging=tagging,
        )
        stored.append(StoredArticle(n, article))
    stories = select_stories(stored, ZoneInfo("UTC"))
    return [{ids[s.url], *(ids[a.url] for a in s.also)} for s in stories]


class _Progress:
    """One updating line on a terminal; a log line per source otherwise."""

    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream = stream
        self.live = live
        self.sources = 0
        self.found = 0
        self.done = 0

    def source_done(self, outcome: SourceOutcome) -> None:
        self.sources += 1
        # Failures are logged as warnings by the pipeline itself, terminal or not.
        if not self.live and outcome.status is not SourceStatus.ERROR:
            log.info("%s: %s (%s new)", outcome.name, outcome.status.value, outcome.new_items)
        self._draw()

    def articles_found(self, count: int) -> None:
        self.found += count
        self._draw()

    def article_done(self) -> None:
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if self.live:
            self.stream.write(
                f"\r\x1b[Ksources done: {self.sources} · articles: {self.done}/{self.found}"
            )
            self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
