"""Putting a digest where people read it: files in the reports folder, e-mail, webhooks."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from monitor.digest import to_json, to_markdown
from monitor.errors import DeliveryError
from monitor.labels import labels_for
from monitor.mail import SmtpSettings, build_message, send_digest
from monitor.models import Digest, Story
from monitor.render import GroupBy, render_atom, render_html, render_index
from monitor.webhook import Webhook, chat_payload, post_digest

FEED_NAME = "feed.xml"


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
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
) -> list[Path]:
    """The day's digest as ``reports/YYYY-MM-DD.{json,md,html}`` (the same day's digest is
    replaced by a newer one), then ``index.html`` listing every digest and ``feed.xml`` with
    ``feed_stories``. Each file is written whole or not at all."""
    stem = reports_dir / digest.name
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".html")]
    try:
        write_atomic(paths[0], json.dumps(to_json(digest), ensure_ascii=False, indent=2) + "\n")
        write_atomic(paths[1], to_markdown(digest))
        write_atomic(paths[2], render_html(digest, locale, group_by))
        pages = sorted(p for p in reports_dir.glob("????-??-??*.html"))
        index = reports_dir / "index.html"
        write_atomic(index, render_index([(p.stem, p.name) for p in pages], locale, FEED_NAME))
        feed = reports_dir / FEED_NAME
        title = labels_for(locale).digest_title.split("{date}")[0].rstrip(" —-")
        write_atomic(
            feed,
            render_atom(feed_stories, feed.resolve().as_uri(), digest.generated_at, title, locale),
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
        subject = labels.digest_title.format(date=digest.period)
        message = build_message(subject, render_html(digest, locale, group_by), to_markdown(digest),
                                email.sender, email.recipients)  # fmt: skip
        try:
            send_digest(email, message, env)
        except DeliveryError as exc:
            failures.append(f"e-mail: {exc}")
    data = to_json(digest)
    for hook in webhooks:
        payload = chat_payload(data) if hook.format == "chat" else data
        try:
            post_digest(hook.url, payload, timeout=hook.timeout)
        except DeliveryError as exc:
            failures.append(f"webhook: {exc}")
    return failures
