"""Putting a digest where people read it: files in the reports folder, e-mail, webhooks.

The formats and the channels (SMTP, the HTTP client) are imported by the function that uses
them: a run with nothing due asks only ``written_after``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import formats
from monitor.atomic import replacing
from monitor.errors import DeliveryError
from monitor.formats import GroupBy, View
from monitor.labels import labels_for
from monitor.models import Digest, Story

if TYPE_CHECKING:
    from monitor.settings import SmtpSettings, Webhook

FEED_NAME = "feed.xml"  # written last: its time says when the whole set was


def written_after(reports_dir: Path, name: str, moment: float) -> bool:
    """Whether the digest ``name`` and the feed written with it (last) are both newer than
    ``moment`` (seconds since the epoch)."""
    try:
        first = (reports_dir / f"{name}.json").stat().st_mtime
        last = (reports_dir / FEED_NAME).stat().st_mtime
    except OSError:
        return False
    return first > moment and last >= first


def current_umask() -> int:
    """The process's umask. Linux shows it in /proc; elsewhere it is read by setting it, which
    is safe here (no other thread creates files while the digest is written)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write via a temporary file and rename, so a reader never sees half a digest. The file
    gets ``mode``, or what the umask leaves of 0666 like any file a program creates (a
    temporary file is created 0600: left so, no web server or colleague could read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path, mode if mode is not None else 0o666 & ~current_umask()) as handle:
        handle.write(text.encode("utf-8"))


def write_files(
    digest: Digest,
    reports_dir: Path,
    *,
    locale: str = "en",
    group_by: GroupBy = None,
    feed_stories: Sequence[Story] = (),
    mode: int | None = None,
) -> list[Path]:
    """The day's digest in every file format (``reports/YYYY-MM-DD.json``, ``.md``, ``.html``;
    the same day's digest is replaced by a newer one), then ``index.html`` listing every digest
    and ``feed.xml`` with ``feed_stories``. Each file is written whole or not at all, with
    ``mode`` (by default what the umask allows)."""
    from monitor.formats.atom import render_atom
    from monitor.formats.html import render_index

    mode = mode if mode is not None else 0o666 & ~current_umask()  # read once, not per file
    view = View(locale, group_by)
    stem = reports_dir / digest.name
    paths = []
    try:
        for form in formats.file_formats():
            path = stem.with_suffix(form.suffix)
            write_atomic(path, form.render(digest, view), mode)
            paths.append(path)
        pages = sorted(p for p in reports_dir.glob("????-??-??*.html"))
        index = reports_dir / "index.html"
        write_atomic(
            index, render_index([(p.stem, p.name) for p in pages], locale, FEED_NAME), mode
        )
        feed = reports_dir / FEED_NAME
        title = labels_for(locale).digest_title.split("{date}")[0].rstrip(" —-")
        write_atomic(
            feed,
            render_atom(feed_stories, feed.resolve().as_uri(), digest.generated_at, title, locale),
            mode,
        )
    except OSError as exc:
        raise DeliveryError(f"cannot write the digest to {reports_dir}: {exc}") from exc
    return [*paths, index, feed]


def send(
    digest: Digest,
    *,
    locale: str,
    group_by: GroupBy,
    email: SmtpSettings | None,
    webhooks: Sequence[Webhook],
    env: Mapping[str, str],
) -> list[str]:
    """Through every configured channel (``monitor.channels``), each tried on its own. Returns
    one message per failed channel; the files are written before this runs, so a failure here
    loses nothing."""
    from monitor.channels import configured

    view = View(locale, group_by)
    failures = []
    for channel in configured(email, webhooks):
        try:
            channel.send(digest, view, env)
        except DeliveryError as exc:
            failures.append(f"{channel.label}: {exc}")
    return failures
