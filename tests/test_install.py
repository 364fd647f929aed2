"""An install without a checkout: the wheel built from this project, installed in a fresh venv,
used from a folder outside the project (`monitor init`, `sources add` into an empty file, a run).

Offline: the wheel is built with this venv's setuptools (no build isolation), installed with
``--no-deps --no-index``, and finds its dependencies through a ``.pth`` line naming this venv's
site-packages (whose editable hook for the checkout is not processed from there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from monitor.localserver import LocalServer
from tests.test_e2e import EN_COOP, serve_outlet

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "sources.yaml")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``bin`` folder of a venv holding the monitor as installed from its wheel."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(
        REPO / "monitor", source / "monitor", symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # fmt: skip
    for name in SHIPPED:
        shutil.copy2(REPO / name, source / name)
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist),
         str(source)],
        check=True, capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    site = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    yield bin_dir


def _monitor(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MONITOR_CONFIG", "PYTHONPATH")}
    return subprocess.run(
        [str(bin_dir / "monitor"), *args], cwd=cwd, capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip


def test_the_installed_monitor_is_the_wheel_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import monitor; print(monitor.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(installed.parent), where


def test_init_then_add_then_run_outside_the_checkout(
    installed: Path, tmp_path: Path, server: LocalServer
) -> None:
    etc, data, office = tmp_path / "etc", tmp_path / "var" / "lib", tmp_path / "office"
    office.mkdir()
    first = _monitor(installed, office, "init", str(etc), "--data", str(data))
    assert first.returncode == 0, first.stderr
    config = etc / "sources.yaml"
    assert (data / "storage").is_dir() and (data / "reports").is_dir()
    written = YAML(typ="safe").load(config.read_text(encoding="utf-8"))
    assert written["storage"] == str(data / "storage" / "monitor.db")
    assert written["reports"] == str(data / "reports") + "/"
    shipped = written["sources"]
    assert len(shipped) > 20 and all(s["enabled"] is False for s in shipped)
    # A second init keeps the office's file.
    again = _monitor(installed, office, "init", str(etc))
    assert again.returncode == 2 and "already exists" in again.stderr

    feed = serve_outlet(server, "w", [EN_COOP], "en")
    added = _monitor(installed, office, "--config", str(config), "sources", "add", feed,
                     "--name", "Wire", "--country", "AZ")  # fmt: skip
    assert added.returncode == 0, added.stderr
    run = _monitor(installed, office, "--config", str(config), "run")
    assert run.returncode == 0, run.stderr
    paused = len(shipped)
    assert (
        f"{paused + 1} sources: 1 ok, 0 unchanged, 0 failed, {paused} not due or dis" in run.stderr
    )
    assert list((data / "reports").glob("????-??-??.html"))
    assert not list(office.iterdir())  # nothing written where the command was typed


def test_add_the_first_source_to_an_empty_file(
    installed: Path, tmp_path: Path, server: LocalServer
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("# our outlets\nsources:\n", encoding="utf-8")
    empty = _monitor(installed, tmp_path, "--config", str(config), "run")
    assert empty.returncode == 0 and "nothing to check" in empty.stderr
    feed = serve_outlet(server, "w", [EN_COOP], "en")
    added = _monitor(installed, tmp_path, "--config", str(config), "sources", "add", feed,
                     "--name", "Wire")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert YAML(typ="safe").load(config.read_text(encoding="utf-8"))["sources"] == [
        {"name": "Wire", "url": feed, "language": "en"}
    ]
