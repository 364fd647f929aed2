"""deploy/: the systemd units and the crontab example are well formed, call real commands of our
CLI with the paths the monitor actually writes to, and agree with each other."""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest
from apscheduler.triggers.cron import CronTrigger

from monitor import cli
from monitor.config import load_config
from monitor.init_cmd import configuration, sample_text
from monitor.lock import lock_path
from monitor.service import STOP_TIMEOUT

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SYSTEMD = DEPLOY / "systemd"
CRONTAB = DEPLOY / "crontab.example"

PROGRAM = PurePosixPath("/opt/film-monitor")  # the venv the wheel is installed in
VENV_MONITOR = str(PROGRAM / "bin/monitor")
CONFIG = PurePosixPath("/etc/film-monitor/sources.yaml")  # written by monitor init
DATA = PurePosixPath("/var/lib/film-monitor")  # storage and reports
USER = "film-monitor"
LOGROTATE = DEPLOY / "logrotate" / "film-monitor"

SERVE = "film-monitor.service"
RUN = "film-monitor-run.service"
TIMER = "film-monitor-run.timer"
WEB = "film-monitor-web.service"
UNITS = (SERVE, RUN, TIMER, WEB)

Unit = dict[str, dict[str, list[str]]]  # section -> key -> every value, in order

_SECTION = re.compile(r"^\[([A-Za-z][A-Za-z0-9-]*)\]$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


# -- a strict parser for systemd's unit file syntax --------------------------------------------


def parse_unit(text: str, name: str = "unit") -> Unit:
    """Sections, keys and values of a unit file. Keys may repeat (systemd keeps every value).
    Raises ValueError, naming the line, for anything systemd would not read as intended."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number].strip()
        number += 1
        if not line or line[0] in "#;":
            continue
        where = f"{name}:{number}"
        while line.endswith("\\"):  # a continuation line
            if number >= len(lines):
                raise ValueError(f"{where}: continuation at the end of the file")
            line = line[:-1] + " " + lines[number].strip()
            number += 1
        if match := _SECTION.match(line):
            if match.group(1) in unit:
                raise ValueError(f"{where}: section [{match.group(1)}] appears twice")
            section = unit[match.group(1)] = {}
            continue
        if section is None:
            raise ValueError(f"{where}: a setting before the first [Section]")
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not _KEY.match(key):
            raise ValueError(f"{where}: not a Key=value line: {line!r}")
        section.setdefault(key, []).append(value.strip())
    return unit


def test_the_parser_reads_systemd_syntax() -> None:
    text = "# c\n[Unit]\nA=1\n; c\n[Service]\nB=x\\\n  y\nB=\nC = 2\n"
    assert parse_unit(text) == {"Unit": {"A": ["1"]}, "Service": {"B": ["x y", ""], "C": ["2"]}}
    for bad in ("A=1\n", "[Unit]\nno equals sign\n", "[Unit]\n[Unit]\n", "[Unit\nA=1\n"):
        with pytest.raises(ValueError):
            parse_unit(bad)


def unit(name: str) -> Unit:
    return parse_unit((SYSTEMD / name).read_text(encoding="utf-8"), name)


def one(values: Unit, section: str, key: str) -> str:
    """The value of a key that must be set exactly once."""
    found = values.get(section, {}).get(key, [])
    assert len(found) == 1, f"[{section}] {key}= should be set once, found {found}"
    return found[0]


def words(values: Unit, section: str, key: str) -> list[str]:
    """Every word of a list setting (repeated keys add to the list; an empty one resets it)."""
    result: list[str] = []
    for value in values.get(section, {}).get(key, []):
        result = result + value.split() if value else []
    return result


def environment(values: Unit) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in values.get("Service", {}).get("Environment", []):
        for assignment in shlex.split(value):
            name, _, setting = assignment.partition("=")
            env[name] = setting
    return env


def seconds(span: str) -> float:
    """A systemd time span such as 90, 90s, 1min 30s, 1h."""
    factors = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span)
    assert parts and "".join(n + u for n, u in parts) == span.replace(" ", ""), span
    return sum(float(n) * factors[u] for n, u in parts)


def command(line: str) -> list[str]:
    """An Exec*= command line without systemd's prefixes (-, @, :, +, !)."""
    argv = shlex.split(line)
    argv[0] = argv[0].lstrip("-@:+!|")
    return argv


def monitor_args(argv: list[str]) -> list[str]:
    """The arguments after the venv's monitor, checked with the CLI's own parser."""
    assert argv[0] == VENV_MONITOR, f"expected {VENV_MONITOR}, got {argv[0]}"
    args = argv[1:]
    try:
        cli._parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"`monitor {shlex.join(args)}` is not a valid monitor command line")
    return args


# -- the unit files ----------------------------------------------------------------------------


def test_deploy_holds_exactly_the_tested_units() -> None:
    assert sorted(p.name for p in SYSTEMD.iterdir()) == sorted(UNITS)


@pytest.mark.parametrize(
    ("name", "sections"),
    [
        (SERVE, {"Unit", "Service", "Install"}),
        (RUN, {"Unit", "Service"}),  # no [Install]: the timer starts it
        (TIMER, {"Unit", "Timer", "Install"}),
        (WEB, {"Unit", "Service", "Install"}),
    ],
)
def test_unit_parses_with_its_sections(name: str, sections: set[str]) -> None:
    values = unit(name)
    assert set(values) == sections
    assert one(values, "Unit", "Description")


@pytest.mark.parametrize("name", [SERVE, RUN, WEB])
def test_service_runs_as_its_user_with_absolute_paths(name: str) -> None:
    values = unit(name)
    assert one(values, "Service", "User") == USER
    assert one(values, "Service", "WorkingDirectory") == str(DATA)
    assert PurePosixPath(environment(values)["MONITOR_CONFIG"]) == CONFIG
    assert one(values, "Service", "UMask") == "0022"  # digests readable by a web server
    for key in ("ExecStart", "ExecReload", "ExecStop"):
        for line in values["Service"].get(key, []):
            assert PurePosixPath(command(line)[0]).is_absolute(), f"{key}={line}"


@pytest.mark.parametrize("name", [SERVE, RUN, WEB])
def test_service_is_hardened_but_can_write_storage_and_reports(name: str, tmp_path: Path) -> None:
    values = unit(name)
    for key, expected in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert one(values, "Service", key) == expected, key
    writable = [PurePosixPath(p.lstrip("-")) for p in words(values, "Service", "ReadWritePaths")]
    writable += [PurePosixPath("/var/lib") / d for d in words(values, "Service", "StateDirectory")]
    assert writable and all(p.is_absolute() for p in writable)

    # The configuration `monitor init /etc/film-monitor --data /var/lib/film-monitor` writes:
    # every folder the monitor writes to (database and its lock, reports) must be writable
    # under ProtectSystem=strict.
    text, _, _ = configuration(
        sample_text(), f"{DATA}/storage/monitor.db", f"{DATA}/reports/", every=True
    )
    config_file = tmp_path / "sources.yaml"
    config_file.write_text(text, encoding="utf-8")
    config = load_config(config_file)
    assert config.sqlite_path is not None
    folders = [config.reports_dir, lock_path(config.sqlite_path, config.reports_dir).parent]
    folders.append(config.sqlite_path.parent)
    for folder in folders:
        assert any(PurePosixPath(folder).is_relative_to(p) for p in writable), (
            f"{folder} is not in ReadWritePaths/StateDirectory={' '.join(map(str, writable))}"
        )


def test_serve_unit() -> None:
    values = unit(SERVE)
    assert one(values, "Service", "Type") in {"simple", "exec"}
    assert monitor_args(command(one(values, "Service", "ExecStart"))) == ["serve"]
    assert command(one(values, "Service", "ExecReload")) == ["/bin/kill", "-HUP", "$MAINPID"]
    assert one(values, "Service", "KillSignal") == "SIGTERM"
    # A running cycle gets STOP_TIMEOUT seconds after SIGTERM: systemd must wait longer.
    assert seconds(one(values, "Service", "TimeoutStopSec")) >= STOP_TIMEOUT + 15
    assert one(values, "Service", "Restart") == "on-failure"
    assert seconds(one(values, "Service", "RestartSec")) == 30
    # A bad configuration (exit 2) must not restart in a loop; a held lock (75) may retry.
    prevent = words(values, "Service", "RestartPreventExitStatus")
    assert str(cli.EXIT_USAGE) in prevent
    assert str(cli.EXIT_LOCKED) not in prevent
    assert words(values, "Install", "WantedBy") == ["multi-user.target"]


def test_run_unit() -> None:
    values = unit(RUN)
    assert one(values, "Service", "Type") == "oneshot"
    assert monitor_args(command(one(values, "Service", "ExecStart")))[0] == "run"
    # A run skipped because another cycle holds the lock is not a failure.
    assert str(cli.EXIT_LOCKED) in words(values, "Service", "SuccessExitStatus")


def test_timer_unit() -> None:
    values = unit(TIMER)
    assert one(values, "Timer", "OnCalendar") == "*:0/10"
    assert one(values, "Timer", "Persistent") == "true"
    assert seconds(one(values, "Timer", "RandomizedDelaySec")) == 60
    assert values["Timer"].get("Unit", [RUN]) == [RUN]
    assert words(values, "Install", "WantedBy") == ["timers.target"]


def test_web_unit() -> None:
    values = unit(WEB)
    args = monitor_args(command(one(values, "Service", "ExecStart")))
    assert args[0] == "web" and "--secure-cookies" in args  # behind an HTTPS proxy
    assert args[args.index("--host") + 1] == "127.0.0.1"  # the proxy publishes it, not this
    assert words(values, "Install", "WantedBy") == ["multi-user.target"]


def test_units_say_to_use_the_service_or_the_timer_not_both() -> None:
    for name in UNITS:
        assert "not both" in (SYSTEMD / name).read_text(encoding="utf-8"), name


# -- systemd-analyze verify ------------------------------------------------------------------


def _local_monitor() -> str | None:
    beside = Path(sys.executable).parent / "monitor"
    return str(beside) if os.access(beside, os.X_OK) else shutil.which("monitor")


def _verify(folder: Path) -> tuple[int, list[str]]:
    """Run systemd-analyze verify on the units in ``folder``: (exit status, the lines of its
    output that are about these units)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    names = sorted(p.name for p in folder.iterdir())
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(folder / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning", "SYSTEMD_LOG_COLOR": "0"},
    )
    output = (result.stdout + result.stderr).splitlines()
    return result.returncode, [line for line in output if any(n in line for n in names)]


def _copy_for_verify(folder: Path) -> None:
    """The units as they would be installed here: verify checks that ExecStart's program
    exists (ours, not /opt's) and looks users up, so use this machine's."""
    monitor = _local_monitor()
    if monitor is None:
        pytest.skip("the monitor's console script is not installed")
    folder.mkdir()
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    for name in UNITS:
        text = (SYSTEMD / name).read_text(encoding="utf-8").replace(VENV_MONITOR, monitor)
        text = re.sub(r"(?m)^User=.*$", f"User={user}", text)
        text = re.sub(r"(?m)^Group=.*$", f"Group={group}", text)
        (folder / name).write_text(text, encoding="utf-8")


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    folder = tmp_path / "units"
    _copy_for_verify(folder)
    status, findings = _verify(folder)
    assert findings == [], "\n".join(findings)  # an unknown key or bad value is only a warning
    assert status == 0


def test_systemd_analyze_verify_would_see_a_mistake(tmp_path: Path) -> None:
    """The check above is not vacuous: a misspelt key is reported on this machine."""
    folder = tmp_path / "units"
    _copy_for_verify(folder)
    path = folder / SERVE
    path.write_text(
        path.read_text(encoding="utf-8").replace("\nPrivateTmp=", "\nPrivatTmp="), encoding="utf-8"
    )
    _, findings = _verify(folder)
    assert any("PrivatTmp" in line for line in findings), findings


# -- the crontab example ---------------------------------------------------------------------


def _template() -> tuple[dict[str, str], list[str]]:
    """The template lines ("#" directly followed by text): (variables, job lines)."""
    variables: dict[str, str] = {}
    jobs: list[str] = []
    for line in CRONTAB.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pytest.fail(f"an active line in a template crontab: {line!r}")
        if len(line) < 2 or line[1].isspace() or line[1] == "#":
            continue  # an explanation
        entry = line[1:]
        if match := re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", entry):
            variables[match.group(1)] = match.group(2)
        else:
            jobs.append(entry)
    return variables, jobs


def test_crontab_has_one_job_and_its_environment() -> None:
    variables, jobs = _template()
    assert len(jobs) == 1, jobs
    assert variables["MONITOR_CONFIG"] == environment(unit(SERVE))["MONITOR_CONFIG"]
    assert "/usr/bin" in variables["PATH"].split(":")
    assert "$" not in "".join(variables.values()), "cron does not expand variables"


def test_crontab_schedule_is_valid_and_often_enough_for_the_digest() -> None:
    _, (job,) = _template()
    fields = job.split(maxsplit=5)
    assert len(fields) == 6, "five schedule fields and a command"
    trigger = CronTrigger.from_crontab(" ".join(fields[:5]), timezone=UTC)
    # The digest is sent by the first run after digest.time, if it is less than schedule.grace
    # late: runs must never be further apart than that.
    grace = load_config(REPO / "sources.yaml").schedule.grace
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start]
    while times[-1] < start + timedelta(days=2):
        fire = trigger.get_next_fire_time(None, times[-1] + timedelta(seconds=1))
        assert fire is not None
        times.append(fire)
    assert max(b - a for a, b in itertools.pairwise(times)) < grace


def test_crontab_command_runs_the_monitor_with_its_output_logged() -> None:
    _, (job,) = _template()
    line = job.split(maxsplit=5)[5]
    assert "%" not in line, "cron turns % into a new line"
    assert "flock" not in line, "the monitor locks its storage itself"
    steps = [shlex.split(step) for step in re.split(r"&&|;", line)]
    for step in steps:
        if step[0] == "cd":
            assert PurePosixPath(step[1]).is_absolute()
    (monitor,) = [step for step in steps if step[0].endswith("/monitor")]
    redirect = next(i for i, word in enumerate(monitor) if word.startswith((">", "2>")))
    assert monitor_args(monitor[:redirect])[0] == "run"
    assert monitor[redirect] == ">>" and PurePosixPath(monitor[redirect + 1]).is_absolute()
    assert "2>&1" in monitor[redirect:]


# -- the logrotate file --------------------------------------------------------------------


def test_logrotate_rotates_the_log_the_crontab_writes() -> None:
    """What the crontab appends to is what logrotate rotates, as the monitor's user, without
    cutting a run's output in two (copytruncate)."""
    _, (job,) = _template()
    log = shlex.split(job.split(maxsplit=5)[5].split(">>", 1)[1])[0]
    text = LOGROTATE.read_text(encoding="utf-8")
    body = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    assert body[0] == f"{log} {{" and body[-1] == "}"
    directives = {line.split()[0]: line.split()[1:] for line in body[1:-1]}
    assert directives["su"] == [USER, USER]
    assert {"copytruncate", "missingok", "notifempty", "compress"} <= set(directives)
    assert int(directives["rotate"][0]) >= 4


# -- the container image and the compose file (checked as files: no image is built here) -------

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"


def test_the_image_installs_the_server_extras_and_runs_unprivileged() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    assert next(x for x in lines if x.startswith("FROM")) == "FROM python:3.11-slim"
    assert any('pip install ".[postgresql,alerts]"' in line for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["monitor"]' in lines and 'CMD ["serve"]' in lines
    # Everything the package is built from is in the build context.
    allowed = (REPO / ".dockerignore").read_text(encoding="utf-8")
    for needed in ("pyproject.toml", "README.md", "LICENSE", "monitor/"):
        assert f"!{needed}" in allowed


def test_compose_runs_several_workers_on_postgresql_with_the_password_from_outside() -> None:
    from ruamel.yaml import YAML

    compose = YAML(typ="safe").load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:16")
    worker, web = services["worker"], services["web"]
    assert worker["command"] == ["serve"] and worker["deploy"]["replicas"] >= 2
    assert web["command"][0] == "web"
    for service in (worker, web, services["db"]):
        for value in service["environment"].values():
            # A secret comes from the environment of whoever starts it, never from this file.
            assert "PASSWORD" not in str(value) or str(value).startswith("${PGPASSWORD")
    for service in (worker, web):
        assert service["build"]["dockerfile"] == "Dockerfile"
        assert (DEPLOY / service["build"]["context"] / "Dockerfile").is_file()
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        # The commands exist in our CLI.
        with pytest.raises(SystemExit) as help_exit:
            cli.main([service["command"][0], "--help"])
        assert help_exit.value.code == 0
    assert cli._parser().parse_args(["workers"]).command == "workers"
