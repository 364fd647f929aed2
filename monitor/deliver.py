"""Putting a digest where people read it: files in the reports folder, e-mail, webhooks."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from monitor.coverage import coverage_of
from monitor.coverage import subject as coverage_subject
from monitor.digest import to_json, to_markdown
from monitor.errors import DeliveryError
from monitor.labels import labels_for
from monitor.mail import SmtpSettings, build_message, send_digest
from monitor.models import Digest, Story
from monitor.render import GroupBy, render_atom, render_html, render_index
from monitor.webhook import Webhook, chat_payload, post_digest

FEED_NAME = "feed.xml"


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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode if mode is not None else 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(
    digest: Digest,
    reports_dir: Path,
    *,
    locale: str = "en",
    group_by: GroupBy = None,
    feed_stories: Sequence[Story] = (),
    mode: int | None = None,
) -> list[Path]:
    """The day's digest as ``reports/YYYY-MM-DD.{json,md,html}`` (the same day's digest is
    replaced by a newer one), then ``index.html`` listing every digest and ``feed.xml`` with
    ``feed_stories``. Each file is written whole or not at all, with ``mode`` (by default what
    the umask allows)."""
    mode = mode if mode is not None else 0o666 & ~current_umask()  # read once, not per file
    stem = reports_dir / digest.name
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".html")]
    try:
        data = json.dumps(to_json(digest), ensure_ascii=False, indent=2) + "\n"
        write_atomic(paths[0], data, mode)
        write_atomic(paths[1], to_markdown(digest, locale), mode)
        write_atomic(paths[2], render_html(digest, locale, group_by), mode)
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
    """E-mail and webhooks, each tried on its own. Returns one message per failed channel;
    the files are written before this runs, so a failure here loses nothing."""
    failures = []
    if email is not None:
        labels = labels_for(locale)
        title = labels.digest_title.format(date=digest.period)
        subject = coverage_subject(title, coverage_of(digest.sources), labels)
        message = build_message(subject, render_html(digest, locale, group_by),
                                to_markdown(digest, locale), email.sender,
                                email.recipients)  # fmt: skip
        try:
            send_digest(email, message, env)
        except DeliveryError as exc:
            failures.append(f"e-mail: {exc}")
    data = to_json(digest)
    for hook in webhooks:
        payload = chat_payload(data, labels_for(locale)) if hook.format == "chat" else data
        try:
            post_digest(hook.url, payload, timeout=hook.timeout)
        except DeliveryError as exc:
            failures.append(f"webhook: {exc}")
    return failures
