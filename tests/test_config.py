from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import find_config, load_config, parse_duration
from monitor.errors import ConfigError

GOOD = """\
storage: data/monitor.db
reports: out/
timezone: Asia/Baku
sources:
  - name: Trend (English)
    url: https://en.trend.az/feeds/index.rss
    language: EN
    country: az
    interval: 30m
  - name: Paused
    url: https://example.org/rss
    enabled: no
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


def test_good_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    first, paused = config.sources
    assert (first.language, first.country, first.interval) == ("en", "AZ", timedelta(minutes=30))
    assert paused.enabled is False  # YAML 1.2: "no" is a string that pydantic reads as false
    assert paused.interval == timedelta(hours=1)
    assert config.storage_url == f"sqlite:///{tmp_path.resolve()}/data/monitor.db"
    assert config.reports_dir == tmp_path.resolve() / "out"
    assert config.timezone.key == "Asia/Baku"


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "sources:\n  - name: a\n    url: http://a.example/rss\n"))
    assert config.storage_url.endswith("/storage/monitor.db")
    assert config.reports_dir.name == "reports"
    assert config.timezone.key == "UTC"
    assert config.fetch.total_timeout == 30


def test_database_url_is_kept(tmp_path: Path) -> None:
    text = "storage: postgresql://monitor@db/monitor\nsources:\n  - name: a\n    url: http://a.example/\n"
    config = load_config(write(tmp_path, text))
    assert config.storage_url == "postgresql://monitor@db/monitor"
    assert config.sqlite_path is None


def test_every_problem_reported_with_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timezone: Europe/Atlantis\n"  # 1
        "sources:\n"  # 2
        "  - name: A\n"  # 3
        "    url: notaurl\n"  # 4
        "    colour: red\n"  # 5
        "  - name: a\n"  # 6
        "    url: https://x.example/rss\n"  # 7
        "    country: XX\n"  # 8
        "    language: zz\n"  # 9
        "    interval: 15\n"  # 10
        "  - url: https://x.example/rss\n",  # 11
    )
    assert problems(path) == [
        f"{path}:1: timezone: 'Europe/Atlantis' is not an IANA time zone (e.g. Asia/Baku, UTC)",
        f"{path}:4: sources[\"A\"].url: 'notaurl' is not an http(s) URL",
        f'{path}:5: sources["A"].colour: unknown key',
        f'{path}:6: sources["a"].name: duplicate source name (first used at line 3)',
        f"{path}:8: sources[\"a\"].country: 'XX' is not an ISO 3166-1 alpha-2 country code (e.g. AZ, TR)",
        f"{path}:9: sources[\"a\"].language: 'zz' is not an ISO 639 language code (e.g. en, ru, az)",
        f'{path}:10: sources["a"].interval: 15 has no unit; write e.g. 30m, 2h or 1d',
        f"{path}:11: sources[entry 3].name: required field is missing",
        f"{path}:11: sources[entry 3].url: duplicate source url (first used at line 7)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n", ":2:1: the file ends before the [ or { opened"),
        ("sources:\n  - name: a\n    name: b\n", ":3:5: 'name' is written twice in the same entry"),
        ("- just a list\n", ":1: expected a mapping"),
        ("", "sources: required field is missing"),
        ("sources: {name: a}\n", "sources: Input should be a valid list"),
        (
            "storage: x.db\nsources:\n  - {name: a, url: 'http://a/'}\ntopics: [missing.yaml]\n",
            ":4: topics: topic file(s) not found",
        ),
    ],
)
def test_broken_files(tmp_path: Path, text: str, expected: str) -> None:
    (message,) = problems(write(tmp_path, text))
    assert expected in message


def test_missing_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_yaml_1_1_traps_are_not_applied(tmp_path: Path) -> None:
    # PyYAML would read 22:45 as 1365 and "no" as False; here both stay strings.
    path = write(
        tmp_path, "sources:\n  - name: no\n    url: http://a.example/\n    interval: 22:45\n"
    )
    assert problems(path) == [
        f"{path}:4: sources[\"no\"].interval: '22:45' is not a duration; write e.g. 30m, 2h, 1h30m or 1d"
    ]


def test_fetch_limits(tmp_path: Path) -> None:
    text = "fetch:\n  timeout: 5s\n  retries: 1\n  max_body_mb: 2\nsources:\n  - {name: a, url: 'http://a/'}\n"
    policy = load_config(write(tmp_path, text)).fetch
    assert (policy.total_timeout, policy.retries, policy.max_body_bytes) == (5, 1, 2 * 1024 * 1024)
    assert policy.connections == 64  # the default bound over all sites


def test_connections_over_all_sites(tmp_path: Path) -> None:
    text = "fetch:\n  connections: 8\nsources:\n  - {name: a, url: 'http://a/'}\n"
    assert load_config(write(tmp_path, text)).fetch.connections == 8
    path = write(tmp_path, text.replace("8", "0"))
    (message,) = problems(path)
    assert (
        message.startswith(f"{path}:2: fetch.connections: ")
        and "greater than or equal to 1" in message
    )


def test_where_the_file_is_found() -> None:
    assert find_config("given.yaml", {"MONITOR_CONFIG": "env.yaml"}) == Path("given.yaml")
    assert find_config(None, {"MONITOR_CONFIG": "env.yaml"}) == Path("env.yaml")
    assert find_config(None, {}) == Path("sources.yaml")


@pytest.mark.parametrize(
    ("text", "minutes"), [("30m", 30), ("2h", 120), ("1h30m", 90), ("1d", 1440), ("90s", 1.5)]
)
def test_durations(text: str, minutes: float) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "30", "soon", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_shipped_sources_yaml_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "sources.yaml")
    assert len(config.sources) >= 3
    assert all(s.language and s.country for s in config.sources)


DIGEST = """\
digest:
  locale: ru
  group_by: country
  email:
    host: smtp.example.org
    port: 465
    security: tls
    user: monitor
    password_env: MONITOR_SMTP_PASSWORD
    sender: Monitor <monitor@example.org>
    recipients: [press@example.org]
  webhooks:
    - url: https://chat.example.org/hooks/secret-token
sources:
  - {name: a, url: 'http://a.example/'}
"""


def test_digest_delivery_settings(tmp_path: Path) -> None:
    digest = load_config(write(tmp_path, DIGEST)).digest
    assert (digest.locale, digest.group_by) == ("ru", "country")
    assert digest.email is not None
    assert (digest.email.port, digest.email.security, digest.email.password_env) == (
        465,
        "tls",
        "MONITOR_SMTP_PASSWORD",
    )
    assert digest.email.recipients == ("press@example.org",)
    (hook,) = digest.webhooks
    assert (hook.format, hook.timeout) == ("chat", 15)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("locale: ru", "locale: fr"), ":2: digest.locale: Input should be 'en', 'ru' or 'az'"),
        (
            ("    password_env: MONITOR_SMTP_PASSWORD\n", ""),
            ":4: digest.email: user is set: name the environment variable",
        ),
        (
            ("[press@example.org]", "[press]"),
            ":11: digest.email.recipients: not e-mail addresses: 'press'",
        ),
        (
            ("    port: 465\n", "    port: 465\n    password: hunter2\n"),
            ":7: digest.email.password: unknown key",
        ),
        (
            ("https://chat.example.org/hooks/secret-token", "ftp://chat"),
            ":13: digest.webhooks[entry 1].url: is not an http(s) URL",
        ),
    ],
)
def test_digest_settings_problems(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    (message,) = problems(write(tmp_path, DIGEST.replace(*change)))
    assert expected in message


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (  # a tab
            "sources:\n\t- name: A\n    url: https://a.example/rss\n",
            ":2:1:",
            "a tab character: YAML indents with spaces only",
        ),
        (  # "url:https://..." reads as one word
            "sources:\n  - name: A\n    url:https://a.example/rss\n    language: en\n",
            ":3:",
            "a space is missing after 'url:'; write 'url: value'",
        ),
        (  # ": " inside an unquoted value
            "sources:\n  - name: Trend: English\n    url: https://a.example/rss\n",
            ":2:16:",
            "the value of 'name' contains ': '; put the value in quotes: name: \"Trend: English\"",
        ),
        (  # "mapping values are not allowed here": a key indented under another's value
            "sources:\n  - name: A\n     url: https://a.example/rss\n",
            ":3:9:",
            "this line is indented further than the key above it",
        ),
        (  # "expected <block end>, but found '<block mapping start>'"
            "sources:\n  - name: A\n    url: https://a.example/rss\n   language: en\n",
            ":4:4:",
            "this line's indentation (column 4) does not match the lines above it",
        ),
        (
            'sources:\n  - name: "Trend\n    url: https://a.example/rss\n',
            ":2:11:",
            "a quote opened here is never closed",
        ),
    ],
    ids=["tab", "no-space-after-colon", "colon-in-value", "over-indented", "misaligned", "quote"],
)
def test_yaml_mistakes_are_explained(tmp_path: Path, text: str, where: str, words: str) -> None:
    (message,) = problems(write(tmp_path, text))
    assert message.startswith(f"{tmp_path / 'sources.yaml'}{where} ")
    assert words in message


def test_a_database_password_belongs_in_the_environment(tmp_path: Path) -> None:
    text = "storage: postgresql://monitor:s3cret@db/monitor\nsources: []\n"
    (found,) = problems(write(tmp_path, text))
    assert "storage: holds a password: remove it and set PGPASSWORD" in found
    assert "s3cret" not in found
