"""``monitor init [DIR]``: a first configuration and its folders, for an install without a checkout.

The shipped outlets (``monitor/sources.sample.yaml``, the project's own ``sources.yaml``) are
written with ``enabled: false``, except those chosen with ``--enable`` (names or country codes)
or all with ``--all``, so that a first run fetches only what the office chose. The file keeps the
sample's comments, which explain every key. Storage and reports go to ``--data`` (by default
next to the file), so that configuration and data can live apart (``/etc/film-monitor``,
``/var/lib/film-monitor``) and an upgrade of the program never touches either.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from monitor.config import load_config
from monitor.errors import ConfigError, Problem

SAMPLE = "sources.sample.yaml"
CONFIG_NAME = "sources.yaml"
_ENTRY = re.compile(r"^  - name: (?P<name>.+?)\s*$")
_COUNTRY = re.compile(r"^    country: (?P<code>[A-Z]{2})\s*$")
_STORAGE = re.compile(r"^storage: \S+(?P<rest>.*)$", re.MULTILINE)
HEADER = """\
# Written by `monitor init`. The outlets shipped with the monitor are listed below; those with
# `enabled: false` are not fetched: delete that line to follow one. Add your own outlets with
# `monitor sources add URL`.
#
"""
_REPORTS = re.compile(r"^reports: \S+(?P<rest>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Initialised:
    config: Path
    folders: tuple[Path, ...]
    enabled: tuple[str, ...]  # names of the shipped outlets left enabled
    shipped: int


def sample_text() -> str:
    return (resources.files("monitor") / SAMPLE).read_text(encoding="utf-8")


def configuration(
    sample: str, storage: str, reports: str, enable: Sequence[str] = (), every: bool = False
) -> tuple[str, tuple[str, ...], int]:
    """The sample with its storage and reports paths replaced and its outlets disabled except
    those named in ``enable`` (a name, ignoring case, or a country code), or all with ``every``.
    Returns the text, the names left enabled, and how many outlets the sample has. Pure."""
    wanted = {w.casefold() for w in enable}
    text = _STORAGE.sub(lambda m: f"storage: {storage}{m.group('rest')}", sample, count=1)
    text = _REPORTS.sub(lambda m: f"reports: {reports}{m.group('rest')}", text, count=1)
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _ENTRY.match(line)]
    enabled: list[str] = []
    for start, end in reversed(list(zip(starts, [*starts[1:], len(lines)], strict=True))):
        name = _ENTRY.match(lines[start])["name"]  # type: ignore[index]
        countries = {
            m["code"].casefold() for line in lines[start:end] if (m := _COUNTRY.match(line))
        }
        if every or name.casefold() in wanted or countries & wanted:
            enabled.append(name)
            continue
        lines.insert(start + 1, "    enabled: false")  # right under the name: seen at a glance
    found = {n.casefold() for n in enabled} | {
        m["code"].casefold() for line in lines if (m := _COUNTRY.match(line))
    }
    unknown = [w for w in enable if w.casefold() not in found and not every]
    if unknown:
        raise ValueError(f"no shipped outlet is named so or in that country: {', '.join(unknown)}")
    return HEADER + "\n".join(lines) + "\n", tuple(reversed(enabled)), len(starts)


def init(
    folder: Path,
    data: Path | None = None,
    enable: Sequence[str] = (),
    every: bool = False,
    force: bool = False,
) -> Initialised:
    """Write ``folder/sources.yaml`` and create the storage and reports folders. Refuses to
    replace an existing file unless ``force``. Raises ConfigError naming the file."""
    target = folder / CONFIG_NAME
    if target.exists() and not force:
        raise ConfigError(
            [Problem(str(target), None, "", "already exists; keep it, or add --force to replace")]
        )
    data_dir = data if data is not None else folder
    storage_dir, reports_dir = data_dir / "storage", data_dir / "reports"
    storage = _written(storage_dir / "monitor.db", folder)
    reports = _written(reports_dir, folder) + "/"
    try:
        text, enabled, shipped = configuration(sample_text(), storage, reports, enable, every)
    except ValueError as exc:
        raise ConfigError([Problem(str(target), None, "--enable", str(exc))]) from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for made in (storage_dir, reports_dir):
            made.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.init")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        raise ConfigError([Problem(str(target), None, "", f"cannot write: {exc}")]) from None
    load_config(target)  # what was written must load: a broken sample is our bug, said now
    return Initialised(target, (storage_dir, reports_dir), enabled, shipped)


def _written(path: Path, base: Path) -> str:
    """``path`` as the configuration writes it: relative to the file's folder when inside it
    (the folder can then move as a whole), absolute otherwise."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(base.absolute()).as_posix()
    except ValueError:
        return absolute.as_posix()
