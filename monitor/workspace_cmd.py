"""The workspace's commands: ``monitor users add|list|remove|token`` and ``monitor feedback
export``. Each opens the configured storage; nothing here runs a cycle."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TextIO

from monitor import accounts
from monitor.config import Config
from monitor.errors import AccountError
from monitor.feedback import export_lines
from monitor.store import Store
from monitor.text import plural


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    """The new password: the first line of standard input with ``--password-stdin``, else
    asked twice at the terminal (never on the command line, where ``ps`` would show it)."""
    if from_stdin:
        line = (stdin or sys.stdin).readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AccountError("no terminal to ask for a password: pipe it in with --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def users_add(config: Config, name: str, role: str, password: str, out: TextIO) -> None:
    with Store(config.storage_url) as store:
        user = accounts.create(store, name, role, password, datetime.now(UTC))
    print(f"added {user.name} ({user.role.value})", file=out)


def users_list(config: Config, out: TextIO) -> None:
    with Store(config.storage_url) as store:
        rows = store.users()
    if not rows:
        print("no users yet: add one with monitor users add NAME --role admin", file=out)
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        since = row["created_at"].date().isoformat()
        tokens = plural(row["tokens"], "API token")
        print(f"{row['name']:<{width}}  {row['role']:<6}  since {since}  {tokens}", file=out)


def users_remove(config: Config, name: str, out: TextIO) -> None:
    with Store(config.storage_url) as store:
        store.remove_user(name)
    print(f"removed {name}, with their API tokens and feedback", file=out)


def users_token(config: Config, name: str, out: TextIO) -> None:
    with Store(config.storage_url) as store:
        token = accounts.issue_token(store, name, datetime.now(UTC))
    print(token, file=out)
    print(
        f"a new API token for {name}: shown this once, only its hash is kept "
        "(use it as: Authorization: Bearer TOKEN)",
        file=sys.stderr,
    )


def feedback_export(config: Config, since: date | None, output: Path | None, out: TextIO) -> int:
    """Writes the lines to ``output`` (or ``out``); returns how many."""
    start = datetime.combine(since, time(0), config.timezone) if since else None
    with Store(config.storage_url) as store:
        lines = export_lines(store.feedback_since(start))
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if output is None:
        out.write(text)
    else:
        from monitor.atomic import replacing

        with replacing(output) as handle:
            handle.write(text.encode("utf-8"))
        print(f"wrote {len(lines)} judged {'story' if len(lines) == 1 else 'stories'} to {output}")
    return len(lines)
