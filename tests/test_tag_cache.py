"""The cache of built taggers (monitor.tag.cache): read back when nothing changed, built afresh
when a rule file did, and never trusted blindly or allowed to fail a run."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ConfigError
from monitor.tag import RuleTagger, TagInput, load_tagger
from monitor.tag import cache as tag_cache

STORY = TagInput(
    "Azerbaijan and Türkiye sign a film co-production agreement",
    "The film agencies of Azerbaijan and Türkiye signed a co-production agreement in Baku.",
    language="en",
)
PACK = """\
language: en
topics:
  film_cooperation:
    concepts: {cooperation: [twinning]}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[int]]:
    """A cache folder of the test's own, and a count of the tagger builds."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(folder))
    builds: list[int] = []
    real = tag_cache.load_or_build

    def counting(name: str, build: Callable[[], Any], kind: type, *args: Any) -> Any:
        def counted() -> Any:
            builds.append(1)
            return build()

        return real(name, counted, kind, *args)

    monkeypatch.setattr("monitor.tag.load_or_build", counting)
    return folder, builds


def _tagger_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("tagger-*.pickle"))


def test_the_second_load_reads_what_the_first_built(cache: tuple[Path, list[int]]) -> None:
    folder, builds = cache
    first = load_tagger()
    second = load_tagger()
    assert builds == [1]
    assert isinstance(second, RuleTagger) and second.tag(STORY) == first.tag(STORY)
    [kept] = _tagger_files(folder)
    assert kept.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_changed_rule_file_builds_afresh(cache: tuple[Path, list[int]], tmp_path: Path) -> None:
    folder, builds = cache
    pack = tmp_path / "mine.yaml"
    pack.write_text(PACK, encoding="utf-8")
    load_tagger([pack])
    load_tagger([pack])
    assert builds == [1]
    pack.write_text(PACK.replace("twinning", "sister cities"), encoding="utf-8")
    load_tagger([pack])
    assert builds == [1, 1]
    assert len(_tagger_files(folder)) == 2


def test_a_bad_rule_file_is_reported_not_cached(
    cache: tuple[Path, list[int]], tmp_path: Path
) -> None:
    folder, _ = cache
    pack = tmp_path / "mine.yaml"
    pack.write_text(PACK.replace("[twinning]", "[twinning"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError):
            load_tagger([pack])
    assert _tagger_files(folder) == []


def test_a_damaged_file_is_rebuilt(cache: tuple[Path, list[int]]) -> None:
    folder, builds = cache
    load_tagger()
    [kept] = _tagger_files(folder)
    kept.write_bytes(kept.read_bytes()[:1000])  # cut short, as by a full disk
    assert load_tagger().tag(STORY).topics == ("film_cooperation",)
    assert builds == [1, 1]


def test_a_file_others_may_write_is_not_read(cache: tuple[Path, list[int]]) -> None:
    folder, builds = cache
    load_tagger()
    [kept] = _tagger_files(folder)
    kept.write_bytes(pickle.dumps("not a tagger"))
    os.chmod(kept, 0o666)
    assert load_tagger().tag(STORY).topics == ("film_cooperation",)  # not the file's string
    assert builds == [1, 1]


def test_an_unwritable_cache_costs_a_build_not_the_run(
    cache: tuple[Path, list[int]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, builds = cache
    blocker = tmp_path / "a file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(blocker / "cache"))
    assert load_tagger().tag(STORY).topics == ("film_cooperation",)
    monkeypatch.setenv("MONITOR_CACHE_DIR", "off")
    load_tagger()
    assert builds == [1, 1]


def test_where_the_cache_lives() -> None:
    home = Path.home()
    assert tag_cache.cache_dir({}) == home / ".cache" / "film-coop-monitor"
    assert tag_cache.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/film-coop-monitor")
    assert tag_cache.cache_dir({"CACHE_DIRECTORY": "/var/cache/film-monitor"}) == Path(
        "/var/cache/film-monitor"
    )
    assert tag_cache.cache_dir({"MONITOR_CACHE_DIR": "/c", "CACHE_DIRECTORY": "/d"}) == Path("/c")
    assert tag_cache.cache_dir({"MONITOR_CACHE_DIR": "off"}) is None


def test_the_language_packs_are_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest's grouping reads the packs too: validating their YAML again in every
    process would cost most of a second."""
    from monitor.tag import packs

    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path))
    packs.builtin_packs.cache_clear()
    try:
        first = packs.builtin_packs()
        assert len(list(tmp_path.glob("packs-*.pickle"))) == 1
        packs.builtin_packs.cache_clear()

        def no_reading(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the packs were read again")

        monkeypatch.setattr(packs, "load_packs", no_reading)
        assert packs.builtin_packs() == first
        assert {p.language for p in first} >= {"en", "ru", "az", "ka", "kk", "ur"}
    finally:
        packs.builtin_packs.cache_clear()
