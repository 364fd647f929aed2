"""Putting a digest where people read it. For now: files in the reports folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from monitor.digest import to_json, to_markdown
from monitor.errors import DeliveryError
from monitor.models import Digest


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


def write_files(digest: Digest, reports_dir: Path) -> list[Path]:
    """``reports/YYYY-MM-DD.json`` and ``.md``; the same day's digest is replaced by a newer one."""
    paths = [reports_dir / f"{digest.date}.json", reports_dir / f"{digest.date}.md"]
    try:
        write_atomic(paths[0], json.dumps(to_json(digest), ensure_ascii=False, indent=2) + "\n")
        write_atomic(paths[1], to_markdown(digest))
    except OSError as exc:
        raise DeliveryError(f"cannot write the digest to {reports_dir}: {exc}") from exc
    return paths
