from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor import cli
from monitor.localserver import LocalServer
from tests.sites import write_config
from tests.test_e2e import EN_OTHER, serve_outlet


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["digest", "--help"],
        ["sources", "--help"],
        ["sources", "list", "--help"],
    ],
)
def test_help_everywhere(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 0
    assert "usage: monitor" in capsys.readouterr().out


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["fly"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_sources_list_before_and_after_a_cycle(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_outlet(server, "w", [EN_OTHER], "en")
    config = write_config(
        tmp_path,
        [
            {"name": "Wire", "url": url, "language": "en", "country": "AZ", "interval": "2h"},
            {"name": "Paused", "url": "https://paused.example/rss", "enabled": "false"},
        ],
    )
    assert cli.main(["--config", str(config), "sources", "list"]) == 0
    out = capsys.readouterr().out
    assert "Wire" in out and "2h00m" in out and "never fetched" in out and "Paused" in out
    assert not (tmp_path / "storage").exists()  # listing creates no database
    assert cli.main(["--config", str(config), "run"]) == 0
    capsys.readouterr()
    assert (
        cli.main(["sources", "list", "--config", str(config)]) == 0
    )  # options after the command too
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Wire"))
    assert " ok " in line


def test_console_script_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("monitor ")


@pytest.mark.parametrize(
    "setup",
    [
        "import monitor.entry",  # what the console script imports before its guard
        "import runpy; runpy.run_module('monitor', run_name='__mp_main__')",  # -m, in a worker
    ],
)
def test_worker_processes_do_not_import_the_command_line(setup: str) -> None:
    # Extraction workers re-run the main script; the CLI's imports would cost each ~45 MB.
    probe = f"{setup}; import sys; print(sorted({{'monitor.cli', 'httpx'}} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
