"""``monitor tag`` and ``monitor eval``, run in-process as a user or a tool would."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from monitor import cli, tag
from monitor.tag import Tagger, load_tagger
from tests.sites import write_config

FILM = {
    "id": "en-1",
    "title": "Azerbaijan and Italy sign film co-production agreement",
    "text": "The film agencies of Azerbaijan and Italy signed a co-production agreement in Rome.",
    "lang": "en",
    "source": "kept as it is",
}
OTHER = {
    "id": "en-2",
    "title": "Central bank keeps its rate unchanged",
    "text": "The central bank kept its refinancing rate at 7.25 percent on Thursday.",
}
TAGGING_KEYS = {"language", "topics", "score", "aspects", "countries", "evidence"}


_TAGGERS: dict[tuple[Path, ...], Tagger] = {}


def _load_tagger_once(extra_rule_files: Sequence[Path] = ()) -> Tagger:
    """load_tagger, built once per set of rule files: building takes a second or more."""
    key = tuple(extra_rule_files)
    if key not in _TAGGERS:
        _TAGGERS[key] = load_tagger(key)
    return _TAGGERS[key]


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No sources.yaml in the working folder and no $MONITOR_CONFIG: the built-in rules."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setattr(tag, "load_tagger", _load_tagger_once)  # the CLI imports it from there


def jsonl(*lines: object) -> str:
    return "".join(
        (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines
    )


def output(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict[str, Any]], str]:
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.mark.parametrize("command", ["tag", "eval"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: monitor {command}" in capsys.readouterr().out


def test_tag_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl(FILM, OTHER), encoding="utf-8")
    assert cli.main(["tag", str(path)]) == 0
    (film, other), err = output(capsys)
    assert err == ""
    assert set(film) == set(FILM) | TAGGING_KEYS
    assert film["source"] == "kept as it is"
    assert film["topics"] == ["film_cooperation"] and film["score"] >= 0.5
    assert film["language"] == "en"
    assert film["countries"] == ["AZ", "IT"]
    assert "co_production" in film["aspects"]
    evidence = [(e["term"], e["text"]) for e in film["evidence"]]
    assert evidence and all(set(e) == {"term", "text"} for e in film["evidence"])
    assert len(set(evidence)) == len(evidence)  # co-production is film and cooperation: once
    assert other["id"] == "en-2" and other["topics"] == [] and other["evidence"] == []


def test_tag_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(jsonl(OTHER, "", FILM)))  # blank lines skipped
    assert cli.main(["tag"]) == 0
    lines, _ = output(capsys)
    assert [x["id"] for x in lines] == ["en-2", "en-1"]
    assert lines[1]["topics"] == ["film_cooperation"]


def test_bad_lines_are_reported_skipped_and_make_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = jsonl(
        FILM,
        "{not json",
        ["a", "list"],
        {"id": "x", "text": "no title"},
        {"title": 7, "text": ""},
        {"title": "t", "text": "x", "lang": 3},
        {"title": "t", "text": "x", "country": "AZE"},
        OTHER,
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert cli.main(["tag", "-"]) == 2
    tagged, err = output(capsys)
    assert [x["id"] for x in tagged] == ["en-1", "en-2"]  # the good lines around them
    assert err.splitlines() == [
        "error: <stdin>:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        "error: <stdin>:3: expected a JSON object with title and text",
        "error: <stdin>:4: 'title' is missing",
        "error: <stdin>:5: 'title' must be a string",
        "error: <stdin>:6: 'lang' must be a string",
        "error: <stdin>:7: 'country' must be an ISO 3166-1 alpha-2 code such as AZ, not 'AZE'",
    ]


def test_bad_lines_in_a_file_are_named_by_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"title": "t", "text": "x"}\n\xff\xfe\n')
    assert cli.main(["tag", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}:2: not UTF-8\n"


def test_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tag", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl: cannot read" in capsys.readouterr().err


TOPIC = """\
id: widgets
title: Widget mergers
threshold: 0.5
concepts:
  subject:
    en: [widget*]
  action:
    en: [merger]
"""


def test_the_configuration_adds_its_topic_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "widgets.yaml").write_text(TOPIC, encoding="utf-8")
    source = {"name": "Wire", "url": "https://wire.example/rss"}
    write_config(tmp_path, [source], extra="topics: [widgets.yaml]")  # ./sources.yaml
    doc = {"title": "Widget makers agree on a merger", "text": ""}
    monkeypatch.setattr("sys.stdin", io.StringIO(jsonl(doc, FILM)))
    assert cli.main(["tag"]) == 0
    lines, _ = output(capsys)
    assert [x["topics"] for x in lines] == [["widgets"], ["film_cooperation"]]


def test_a_named_configuration_must_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--config", str(tmp_path / "missing.yaml"), "tag"]) == 2
    assert "missing.yaml: file not found" in capsys.readouterr().err


LABELED = [
    {**FILM, "lang": "en", "label": True, "borderline": False, "aspects": ["agreement", "co_production"], "countries": ["AZ", "IT"]},
    {**OTHER, "lang": "en", "label": False, "borderline": False, "aspects": [], "countries": []},
    {"id": "en-3", "lang": "en", "title": "Baku hosts an energy forum", "label": True,
     "text": "Ministers met in Baku to talk about gas.", "borderline": False, "aspects": ["diplomacy"],
     "countries": ["AZ"]},
    {"id": "en-4", "lang": "en", "title": "Film critic visits Baku", "text": "He watched films.",
     "label": False, "borderline": True, "aspects": [], "countries": []},
]  # fmt: skip


def test_eval_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "en.jsonl"
    path.write_text(jsonl(*LABELED), encoding="utf-8")
    assert cli.main(["eval", str(path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:3]}
    # 3 lines outside the borderline: one true positive, one missed (en-3), one true negative.
    assert rows["en"][:9] == ["en", "3", "2", "1", "0", "1", "1.00", "0.50", "0.67"]
    assert rows["all"][1:6] == rows["en"][1:6]
    assert "FN  en-3  en" in out


def test_eval_json_and_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(jsonl(*LABELED[:2]), encoding="utf-8")
    second.write_text(jsonl(LABELED[2], {"id": "bad"}, LABELED[3]), encoding="utf-8")
    assert cli.main(["eval", "--json", str(first), str(second)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {second}:2: 'lang' is missing\n"
    data = json.loads(captured.out)
    overall = data["groups"]["all"]
    assert (overall["tp"], overall["fp"], overall["fn"], overall["borderline"]) == (1, 0, 1, 1)
    assert overall["aspects"]["precision"] is not None
    assert [m["id"] for m in data["misclassified"]] == ["en-3"]


def _version(
    id: str, event: str, source: str, lang: str, title: str, text: str
) -> dict[str, object]:
    return {"id": id, "lang": lang, "title": title, "text": text, "label": True,
            "event": event, "source": source, "published": "2026-11-24T09:00:00+04:00"}  # fmt: skip


def test_eval_measures_grouping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lines labeled with events are grouped as the digest groups them, and the pairs it got
    wrong are listed with their events."""
    treaty = (
        "Culture ministers Rashad Mammadli and Dana Nurlanova signed an agreement on film "
        "co-production in Baku on 24 November; up to 3 joint films a year will get 2.5 million "
        "dollars from the Kinokopr fund."
    )
    lines = [
        _version("t-en", "treaty", "Caspian Wire", "en",
                 "Azerbaijan and Kazakhstan sign film co-production agreement", treaty),
        _version("t-en2", "treaty", "Steppe Post", "en",
                 "Kazakhstan, Azerbaijan agree on joint films", treaty),
        _version("w-en", "week", "Galata", "en", "Italian film week opens in Tashkent",
                 "The Italian embassy and Uzbekkino opened a week of Italian films in Tashkent."),
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(*lines), encoding="utf-8")
    assert cli.main(["eval", str(path)]) == 0
    out = capsys.readouterr().out
    assert "grouping: 3 lines of 2 events in 2 entries; 0 entries mix events" in out
    assert "recall 1.00 (1/1)" in out
    assert cli.main(["eval", "--json", str(path)]) == 0
    grouping = json.loads(capsys.readouterr().out)["grouping"]
    assert (grouping["pairs_found"], grouping["wrong"], grouping["missed"]) == (1, [], [])


def test_eval_takes_an_outlet_s_languages_for_its_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outlet's English and Russian versions come from two feeds, so the digest may join
    them; its two English articles come from one feed, and are never one story's versions."""
    en = (
        "Culture ministers Rashad Mammadli and Dana Nurlanova signed an agreement on film "
        "co-production in Baku on 24 November; up to 3 joint films a year will get 2.5 million "
        "dollars from the Kinokopr fund."
    )
    ru = (
        "Министры культуры Рашад Маммадли и Дана Нурланова подписали 24 ноября в Баку "
        "соглашение о совместном производстве фильмов: до 3 совместных фильмов в год получат "
        "2,5 млн долларов из фонда Kinokopr."
    )
    lines = [
        _version("t-en", "treaty", "Caspian Wire", "en",
                 "Azerbaijan and Kazakhstan sign film co-production agreement", en),
        _version("t-ru", "treaty", "Caspian Wire", "ru",
                 "Азербайджан и Казахстан подписали соглашение о совместном кинопроизводстве", ru),
        _version("t-en2", "treaty", "Caspian Wire", "en",
                 "Kazakhstan, Azerbaijan agree on joint films", en),
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(*lines), encoding="utf-8")
    assert cli.main(["eval", "--json", str(path)]) == 0
    grouping = json.loads(capsys.readouterr().out)["grouping"]
    assert grouping["pairs_found"] == 1, grouping
    assert grouping["wrong"] == []


def test_eval_grouping_needs_unique_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _version("same", "e", "Outlet", "en", "Title", "Text about films.")
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(line, {**line, "source": "Other"}), encoding="utf-8")
    assert cli.main(["eval", str(path)]) == 2
    assert "used twice: ['same']" in capsys.readouterr().err
