"""Appending a source to sources.yaml: comments and existing entries untouched, refusals safe."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.sources_file import append_source, suggest_name

REPO_SOURCES = Path(__file__).parents[1] / "sources.yaml"

NEW = {
    "name": "Kino Coop Blog",
    "url": "https://kinocoop.example/feed/",
    "language": "en",
    "country": "GE",
}


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    shutil.copyfile(REPO_SOURCES, path)
    return path


def index_of(path: Path, name: str) -> int:
    return [s.name for s in load_config(path).sources].index(name)


def line_at(path: Path, number: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[number - 1]


def refused(path: Path, entry: Mapping[str, object]) -> ConfigError:
    before = path.read_bytes() if path.exists() else None
    listing = sorted(os.listdir(path.parent))
    with pytest.raises(ConfigError) as info:
        append_source(path, entry)
    assert (path.read_bytes() if path.exists() else None) == before
    assert sorted(os.listdir(path.parent)) == listing  # no temporary file left behind
    return info.value


def test_append_to_the_repository_file(sources: Path) -> None:
    original = sources.read_text(encoding="utf-8")
    line = append_source(sources, {**NEW, "interval": "2h"})
    text = sources.read_text(encoding="utf-8")

    # Everything before the insertion point is byte-identical: comments, quotes, entries.
    assert text.startswith(original)
    comments = [ln for ln in original.splitlines() if ln.lstrip().startswith("#")]
    assert comments and all(c in text.splitlines() for c in comments)
    added = text[len(original) :]
    assert added == (
        "\n"
        "  - name: Kino Coop Blog\n"
        "    url: https://kinocoop.example/feed/\n"
        "    language: en\n"
        "    country: GE\n"
        "    interval: 2h\n"
    )
    assert line_at(sources, line) == "  - name: Kino Coop Blog"

    config = load_config(sources)
    assert config.sources[-1].name == "Kino Coop Blog"
    assert config.sources[-1].url == "https://kinocoop.example/feed/"
    assert config.sources[-1].country == "GE"
    assert [s.name for s in config.sources[:-1]] == [
        s.name for s in load_config(REPO_SOURCES).sources
    ]


def test_two_appends_in_a_row(sources: Path) -> None:
    first = append_source(sources, NEW)
    second = append_source(sources, {"name": "Other", "url": "https://other.example/rss"})
    assert second > first
    assert line_at(sources, second) == "  - name: Other"
    assert [s.name for s in load_config(sources).sources][-2:] == ["Kino Coop Blog", "Other"]


def test_keys_in_order_and_none_left_out(sources: Path) -> None:
    line = append_source(
        sources,
        {
            "interval": "6h",
            "country": "AZ",
            "enabled": False,
            "url": "https://a.example/rss",
            "language": None,
            "name": "A",
        },
    )
    lines = sources.read_text(encoding="utf-8").splitlines()[line - 1 :]
    assert lines == [
        "  - name: A",
        "    url: https://a.example/rss",
        "    country: AZ",
        "    interval: 6h",
        "    enabled: false",
    ]
    assert load_config(sources).sources[-1].enabled is False


def test_values_that_need_quoting(sources: Path) -> None:
    line = append_source(sources, {"name": "Kino: News # 1", "url": "https://k.example/?a=1&b=2"})
    assert line_at(sources, line) == "  - name: 'Kino: News # 1'"
    source = load_config(sources).sources[-1]
    assert (source.name, source.url) == ("Kino: News # 1", "https://k.example/?a=1&b=2")


def test_yaml_11_booleans_are_quoted(sources: Path) -> None:
    # Norwegian is "no": a string to our YAML 1.2 loader, but false to YAML 1.1 tools and eyes.
    line = append_source(sources, {"name": "NRK", "url": "https://nrk.example/", "language": "no"})
    assert line_at(sources, line + 2) == "    language: 'no'"
    assert load_config(sources).sources[-1].language == "no"


def test_duplicate_name_refused_with_its_line(sources: Path) -> None:
    error = refused(sources, {"name": "  dawn ", "url": "https://new.example/feed"})
    [problem] = error.problems
    assert problem.file == str(sources)
    assert problem.field == 'sources["Dawn"].name'  # named as the file names it
    assert line_at(sources, problem.line or 0) == "  - name: Dawn"
    assert "already exists" in problem.message


def test_duplicate_url_refused_by_canonical_form(sources: Path) -> None:
    error = refused(
        sources, {"name": "Dawn again", "url": "HTTPS://www.Dawn.com:443/feeds/home?utm_source=x"}
    )
    [problem] = error.problems
    assert problem.field == 'sources["Dawn"].url'
    assert line_at(sources, problem.line or 0) == "    url: https://www.dawn.com/feeds/home"
    assert "Dawn" in problem.message
    assert str(problem).startswith(f"{sources}:{problem.line}: ")


def test_missing_sources_list_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("# settings only\n\ntimezone: UTC\nstorage: x.db\n", encoding="utf-8")
    [problem] = refused(path, NEW).problems
    assert (problem.line, problem.field) == (3, "sources")
    assert "no 'sources' list" in problem.message


@pytest.mark.parametrize(
    "empty", ["sources:\n", "sources: []\n", "sources:   # ours\n", "sources:\n\n# end\n"]
)
def test_the_first_source_starts_the_list(tmp_path: Path, empty: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"timezone: UTC\n{empty}", encoding="utf-8")
    assert append_source(path, NEW) == 3
    assert [s.name for s in load_config(path).sources] == [NEW["name"]]
    assert path.read_text(encoding="utf-8").startswith("timezone: UTC\nsources:")
    if "# ours" in empty:
        assert "sources:  # ours\n  - name: " in path.read_text(encoding="utf-8")
    assert append_source(path, {**NEW, "name": "Other", "url": "https://o.example/rss"}) > 3


def test_wrong_sources_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources: https://a.example/rss\n", encoding="utf-8")
    assert "not a list" in refused(path, NEW).problems[0].message
    path.write_text("- name: A\n", encoding="utf-8")
    assert refused(path, NEW).problems[0].line == 1
    path.write_text("", encoding="utf-8")
    assert "empty" in refused(path, NEW).problems[0].message


def test_missing_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    [problem] = refused(path, NEW).problems
    assert "not found" in problem.message
    assert not path.exists()


def test_invalid_entry_refused_and_file_unchanged(sources: Path) -> None:
    error = refused(sources, {**NEW, "language": "xx", "interval": "soon"})
    assert {p.field for p in error.problems} == {
        f'sources["{NEW["name"]}"].language',
        f'sources["{NEW["name"]}"].interval',
    }
    assert all(p.line is None and "new entry" in p.message for p in error.problems)


def test_already_invalid_file_refused_with_its_own_lines(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: A\n    url: https://a.example/rss\n    country: XX\n"
        "timezone: Nowhere/City\n",
        encoding="utf-8",
    )
    problems = refused(path, NEW).problems
    assert {(p.line, p.field) for p in problems} == {(4, 'sources["A"].country'), (5, "timezone")}


def test_file_mode_kept(sources: Path) -> None:
    sources.chmod(0o640)
    append_source(sources, NEW)
    assert stat.S_IMODE(sources.stat().st_mode) == 0o640


def test_symlink_kept(sources: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(sources)
    append_source(link, NEW)
    assert link.is_symlink()
    assert load_config(sources).sources[-1].name == "Kino Coop Blog"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "# top\nsources:\n- name: A\n  url: https://a.example/rss   # note",
            "# top\nsources:\n- name: A\n  url: https://a.example/rss   # note\n"
            "- name: Kino Coop Blog\n  url: https://kinocoop.example/feed/\n"
            "  language: en\n  country: GE\n",
            id="unindented-no-final-newline",
        ),
        pytest.param(
            "sources:\r\n    -   name: A\r\n        url: https://a.example/rss\r\n\r\n"
            "timezone: UTC\r\n",
            "sources:\r\n    -   name: A\r\n        url: https://a.example/rss\r\n"
            "    -   name: Kino Coop Blog\r\n        url: https://kinocoop.example/feed/\r\n"
            "        language: en\r\n        country: GE\r\n\r\ntimezone: UTC\r\n",
            id="crlf-wide-indent",
        ),
        pytest.param(
            "sources:\n  - {name: A, url: 'https://a.example/rss'}\n"
            "  - {name: B, url: 'https://b.example/rss'}\n",
            "sources:\n  - {name: A, url: 'https://a.example/rss'}\n"
            "  - {name: B, url: 'https://b.example/rss'}\n"
            "  - {name: Kino Coop Blog, url: https://kinocoop.example/feed/, language: en, "
            "country: GE}\n",
            id="flow-entries",
        ),
        pytest.param(
            "sources: [{name: A, url: 'https://a.example/rss'}]  # one for now\n",
            "sources: [{name: A, url: 'https://a.example/rss'}, {name: Kino Coop Blog, "
            "url: https://kinocoop.example/feed/, language: en, country: GE}]  # one for now\n",
            id="flow-sequence",
        ),
        pytest.param(
            "sources:\n  - name: A\n    url: https://a.example/rss\n\n"
            "# How digests are delivered\ndigest:\n  locale: ru\n",
            "sources:\n  - name: A\n    url: https://a.example/rss\n"
            "  - name: Kino Coop Blog\n    url: https://kinocoop.example/feed/\n"
            "    language: en\n    country: GE\n\n"
            "# How digests are delivered\ndigest:\n  locale: ru\n",
            id="section-after",
        ),
        pytest.param(
            "sources:\n  - name: A\n    url: https://a.example/rss\n"
            "  # - name: Paused\n  #   url: https://p.example/rss\n",
            "sources:\n  - name: A\n    url: https://a.example/rss\n"
            "  - name: Kino Coop Blog\n    url: https://kinocoop.example/feed/\n"
            "    language: en\n    country: GE\n"
            "  # - name: Paused\n  #   url: https://p.example/rss\n",
            id="commented-out-entry-after",
        ),
    ],
)
def test_layouts(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_bytes(text.encode("utf-8"))
    line = append_source(path, NEW)
    assert path.read_bytes().decode("utf-8") == expected
    assert "Kino Coop Blog" in line_at(path, line)
    assert [s.name for s in load_config(path).sources][-1] == "Kino Coop Blog"


# --- suggest_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Dawn - RSS", "Dawn"),
        ("Kino Coop Blog » Feed", "Kino Coop Blog"),
        ("Kino Coop Blog &raquo; Feed", "Kino Coop Blog"),
        ("Trend News Agency RSS Feed", "Trend News Agency"),
        ("Report.az | RSS", "Report.az"),
        ("RSS: Trend.az", "Trend.az"),
        ("APA.az - Latest news RSS", "APA.az"),
        ("Eurasianet RSS 2.0", "Eurasianet"),
        ("Новости кино - RSS", "Новости кино"),
        ("  The   Guardian ", "The Guardian"),
        ("Newsfeed", "Newsfeed"),
        ("RSS feed", "dawn.com"),
        ("", "dawn.com"),
    ],
)
def test_suggest_name_cleans_titles(title: str, expected: str) -> None:
    assert suggest_name(title, "https://www.dawn.com/feeds/home", []) == expected


def test_suggest_name_is_unique_and_short() -> None:
    assert suggest_name("Dawn", "https://dawn.com/", ["dawn"]) == "Dawn (2)"
    assert suggest_name("Dawn", "https://dawn.com/", ["Dawn", "DAWN (2)"]) == "Dawn (3)"
    assert suggest_name("", "https://feeds.example.org/x", ["Other"]) == "feeds.example.org"
    long = suggest_name("Film " * 30, "https://a.example/", [])
    assert len(long) <= 61 and long.endswith("…") and " " not in long[-2:]
