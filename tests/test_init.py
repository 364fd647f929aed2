"""`monitor init`: a first configuration from the shipped outlets, and its folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import cli
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.init_cmd import configuration, init, sample_text


def test_the_sample_is_the_project_configuration() -> None:
    assert sample_text() == (Path(__file__).parents[1] / "sources.yaml").read_text("utf-8")


def test_outlets_are_disabled_except_those_chosen_by_name_or_country(tmp_path: Path) -> None:
    text, enabled, shipped = configuration(sample_text(), "db", "out/", ["report.az", "GE"])
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    sources = load_config(path).sources
    assert len(sources) == shipped
    kept = [s for s in sources if s.enabled]
    assert [s.name for s in kept] == list(enabled)
    assert "Report.az" in enabled and "Report.az (English)" not in enabled
    assert {s.country for s in kept if s.name != "Report.az"} == {"GE"}
    assert text.startswith("# Written by `monitor init`")
    assert "\nstorage: db " in text and "\nreports: out/ " in text


def test_an_unknown_choice_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="Nowhere Times"):
        configuration(sample_text(), "db", "out/", ["Nowhere Times"])


def test_init_writes_a_loadable_file_and_keeps_an_existing_one(tmp_path: Path) -> None:
    done = init(tmp_path / "conf", enable=["KZ"])
    config = load_config(done.config)
    assert config.sqlite_path == (tmp_path / "conf" / "storage" / "monitor.db").resolve()
    assert config.reports_dir == tmp_path / "conf" / "reports"
    assert {s.country for s in config.sources if s.enabled} == {"KZ"}
    with pytest.raises(ConfigError, match="already exists"):
        init(tmp_path / "conf")
    assert init(tmp_path / "conf", every=True, force=True).enabled  # --force replaces it
    assert all(s.enabled for s in load_config(done.config).sources)


def test_data_elsewhere_is_written_as_absolute_paths(tmp_path: Path) -> None:
    done = init(tmp_path / "etc", tmp_path / "var")
    config = load_config(done.config)
    assert config.reports_dir == tmp_path / "var" / "reports"
    assert (tmp_path / "var" / "storage").is_dir()


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["init", str(tmp_path), "--enable", "Trend News Agency (English)"]) == 0
    out = capsys.readouterr().out
    assert "1 enabled: Trend News Agency (English)" in out and "sources add URL" in out
    assert cli.main(["init", str(tmp_path / "x"), "--enable", "Nowhere"]) == 2
    assert "--enable: no shipped outlet" in capsys.readouterr().err


def test_an_empty_sources_list_is_valid(tmp_path: Path) -> None:
    for text in ("sources:\n", "sources: []\n", "sources:  # none yet\n"):
        path = tmp_path / "sources.yaml"
        path.write_text(text, encoding="utf-8")
        assert load_config(path).sources == ()
