"""Alert rules: their configuration, the pure decisions made on them, their messages, the
`monitor alerts` commands, and a story's other versions joining its first alert."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.messages import AlertMessage, sample_story
from monitor.alerts.rules import AlertChannel, AlertRule, QuietHours, plan, retry_after
from monitor.alerts.send import expand
from monitor.config import load_config
from monitor.errors import DeliveryError
from monitor.labels import labels_for
from monitor.localserver import LocalServer
from monitor.models import Article, Tagging, TextOrigin
from tests.sites import Story, monitor, rows, run_all
from tests.test_alerts_e2e import Receiver, alert_config
from tests.test_config import problems, write
from tests.test_e2e import EN_COOP, serve_outlet

SOURCES = "sources:\n  - name: Trend\n    url: https://en.trend.az/feeds/index.rss\n"


# -- configuration ---------------------------------------------------------------------------


def test_a_rule_as_written_in_the_documentation_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SOURCES + "digest:\n  email:\n    host: mail.example.org\n    sender: m@example.org\n"
        "    recipients: [a@example.org]\n"
        "alerts:\n"
        "  - name: our co-productions\n"
        "    topic: film_cooperation\n"
        "    min_score: 0.6\n"
        "    countries: [az]\n"
        "    aspects: [co_production, agreement]\n"
        "    languages: [EN]\n"
        "    sources: [trend]\n"
        '    quiet_hours: "22:00-07:00"\n'
        "    max_per_hour: 10\n"
        "    channels:\n"
        "      - webhook: https://chat.example.org/hooks/T1/secret\n"
        "        format: chat\n"
        "      - email: [press@example.org]\n"
        '      - apprise: "tgram://{env:TELEGRAM_BOT_TOKEN}/-100123456"\n',
    )
    (rule,) = load_config(path).alerts
    assert rule.countries == {"AZ"} and rule.languages == {"en"} and rule.sources == {"trend"}
    assert rule.quiet_hours == QuietHours(time(22), time(7)) and rule.max_per_hour == 10
    webhook, email, chat = rule.channels
    assert webhook.format == "chat" and webhook.label == "webhook https://chat.example.org/…"
    assert email.email == ("press@example.org",) and email.format == "stories"
    assert chat.label == "apprise tgram://…"  # never the token's place in the URL
    assert len({c.key for c in rule.channels}) == 3


def test_every_problem_of_a_rule_has_its_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SOURCES  # lines 1-3
        + "alerts:\n"  # 4
        "  - name: one\n"  # 5
        "    countries: [XX]\n"  # 6
        "    quiet_hours: 22-7\n"  # 7
        "    max_per_hour: 0\n"  # 8
        "    channels:\n"  # 9
        "      - webhook: https://x.example/h\n"  # 10
        "        email: [a@example.org]\n"  # 11
        "      - apprise: not a url\n"  # 12
        "      - email: [someone]\n"  # 13
        "      - webhook: ftp://x.example/h\n"  # 14
        "  - name: two\n"  # 15
        "    channels: []\n",  # 16
    )
    found = [f.removeprefix(str(path)) for f in problems(path)]
    assert found == [
        ':6: alerts["one"].countries: not ISO 3166-1 alpha-2 country codes: XX',
        ':7: alerts["one"].quiet_hours: \'22-7\' is not a span of hours; write e.g. "22:00-07:00"',
        ':8: alerts["one"].max_per_hour: Input should be greater than or equal to 1',
        ':10: alerts["one"].channels[entry 1]: a channel is one of webhook: URL, email: '
        "[addresses], apprise: URL",
        ':12: alerts["one"].channels[entry 2].apprise: is not an apprise URL such as '
        "tgram://{env:BOT_TOKEN}/CHAT_ID",
        ":13: alerts[\"one\"].channels[entry 3].email: not e-mail addresses: 'someone'",
        ':14: alerts["one"].channels[entry 4].webhook: is not an http(s) URL',
        ':16: alerts["two"].channels: List should have at least 1 item after validation, not 0',
    ]


def test_checks_against_the_rest_of_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SOURCES + "alerts:\n"  # 4
        "  - name: one\n"  # 5
        "    topic: sports\n"  # 6
        "    channels:\n"  # 7
        "      - webhook: https://x.example/h\n"  # 8
        "  - name: ONE\n"  # 9
        "    aspects: [co_production, gossip]\n"  # 10
        "    sources: [Nobody, trend]\n"  # 11
        "    channels:\n"  # 12
        "      - email: press@example.org\n",  # 13
    )
    found = [f.removeprefix(str(path)) for f in problems(path)]
    assert found[0] == ":6: alerts[\"one\"].topic: 'sports' is not a topic; known: film_cooperation"
    assert found[1] == ':9: alerts["ONE"].name: duplicate alert name (first used at line 5)'
    assert found[2].startswith(
        ':10: alerts["ONE"].aspects: not aspects of film_cooperation: gossip; known: '
    )
    assert found[3] == ":11: alerts[\"ONE\"].sources: no source named 'Nobody' in sources"
    assert found[4].startswith(':13: alerts["ONE"].channels[entry 1].email: e-mail alerts are sent')
    assert len(found) == 5


# -- pure decisions --------------------------------------------------------------------------


def test_quiet_hours_over_midnight_and_within_a_day() -> None:
    baku = ZoneInfo("Asia/Baku")  # UTC+4
    night = QuietHours.parse("22:00-07:00")
    assert night.holds(datetime(2026, 5, 1, 19, 0, tzinfo=UTC), baku)  # 23:00 in Baku
    assert night.holds(datetime(2026, 5, 1, 2, 59, tzinfo=UTC), baku)  # 06:59
    assert not night.holds(datetime(2026, 5, 1, 3, 0, tzinfo=UTC), baku)  # 07:00: over
    lunch = QuietHours.parse("13:00 - 14:00")
    assert lunch.holds(datetime(2026, 5, 1, 9, 30, tzinfo=UTC), baku)
    assert not lunch.holds(datetime(2026, 5, 1, 10, 0, tzinfo=UTC), baku)
    for bad in ("22:00", "22:00-25:00", "7-8", "08:00-08:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


def test_plan_sends_within_the_hourly_limit_and_rolls_up_beyond_it() -> None:
    assert plan((1, 2), sent_last_hour=0, rollup_last_hour=False, max_per_hour=None).send == (1, 2)
    within = plan((3,), sent_last_hour=1, rollup_last_hour=False, max_per_hour=2)
    assert within.send == (3,) and not within.rollup
    beyond = plan((3, 4), sent_last_hour=1, rollup_last_hour=False, max_per_hour=2)
    assert beyond.send == (3, 4) and beyond.rollup
    held = plan((5,), sent_last_hour=4, rollup_last_hour=True, max_per_hour=2)
    assert held.hold
    assert plan((), sent_last_hour=0, rollup_last_hour=False, max_per_hour=2).hold


def test_retries_back_off_to_an_hour() -> None:
    waits = [retry_after(n) for n in (1, 2, 3, 7, 50)]
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert waits[3] == waits[4] == timedelta(hours=1)


def _article(**tagging: object) -> Article:
    values: dict[str, object] = {
        "topics": ("film_cooperation",),
        "score": 0.7,
        "aspects": ("co_production",),
        "countries": ("AZ", "IT"),
    }
    values.update(tagging)
    return Article(
        source="Trend",
        url="https://x.example/a",
        title="t",
        text="x",
        text_origin=TextOrigin.PAGE,
        fetched_at=datetime.now(UTC),
        language="en",
        tagging=Tagging(**values),  # type: ignore[arg-type]
    )


def test_a_rule_matches_on_every_filter() -> None:
    hook = (AlertChannel(webhook="https://x.example/h"),)
    rule = AlertRule("r", "film_cooperation", hook)
    assert rule.matches(_article())
    assert not rule.matches(_article(topics=()))
    assert not AlertRule("r", "film_cooperation", hook, min_score=0.8).matches(_article())
    assert AlertRule("r", "film_cooperation", hook, countries=frozenset({"IT", "KZ"})).matches(
        _article()
    )
    assert not AlertRule("r", "film_cooperation", hook, countries=frozenset({"KZ"})).matches(
        _article()
    )
    assert not AlertRule("r", "film_cooperation", hook, aspects=frozenset({"policy"})).matches(
        _article()
    )
    assert not AlertRule("r", "film_cooperation", hook, languages=frozenset({"ru"})).matches(
        _article()
    )
    assert AlertRule("r", "film_cooperation", hook, sources=frozenset({"trend"})).matches(
        _article()
    )
    assert not AlertRule("r", "film_cooperation", hook, sources=frozenset({"apa"})).matches(
        _article()
    )


# -- messages and secrets --------------------------------------------------------------------


def test_chat_text_escapes_link_syntax_and_counts_in_the_readers_language() -> None:
    story = sample_story(datetime(2026, 5, 1, tzinfo=UTC))
    odd = AlertMessage("r", (story.__class__(**{**story.__dict__, "title": "A <b> & c"}),))
    text = odd.chat_text(labels_for("en"))
    assert "|A &lt;b&gt; &amp; c>" in text
    many = AlertMessage("кино", tuple([story] * 12), rollup=True)
    ru = many.chat_text(labels_for("ru"))
    assert ru.splitlines()[0] == "[roll-up] кино: 12 сюжетов"
    assert ru.splitlines()[-1] == "… (+2)"
    assert many.stories_json()["rollup"] is True


def test_env_values_fill_an_apprise_url_and_a_missing_one_is_named_not_shown() -> None:
    url, secrets = expand("tgram://{env:TOKEN}/-100{env:CHAT}", {"TOKEN": "123:abc", "CHAT": "42"})
    assert url == "tgram://123:abc/-10042" and secrets == ("123:abc", "42")
    with pytest.raises(DeliveryError, match="environment variable TOKEN is not set"):
        expand("tgram://{env:TOKEN}/1", {})


# -- the commands ----------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("quick_cli")


def test_status_and_test_commands(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, hook.url)
    assert monitor(config, "alerts", "status") == 0
    assert "not run yet" in capsys.readouterr().out
    assert run_all(config) == 0
    capsys.readouterr()
    assert monitor(config, "alerts", "status") == 0
    out = capsys.readouterr().out
    assert "our co-productions" in out and "1 alerted, 0 other versions joined" in out
    assert "pending deliveries: 0" in out and "last sent: never" not in out

    assert monitor(config, "alerts", "test", "Our Co-Productions") == 0
    assert "sent: webhook http://127.0.0.1" in capsys.readouterr().out
    sample = hook.posts()[-1]
    assert sample["test"] is True and sample["stories"][0]["title"].startswith("Test alert")  # type: ignore[index]

    assert monitor(config, "alerts", "test", "nobody") == 2
    assert "no alert rule named 'nobody'" in capsys.readouterr().err


def test_a_failing_channel_shows_in_status_and_fails_the_test_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: LocalServer
) -> None:
    from tests.sites import free_port

    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, f"http://127.0.0.1:{free_port()}/hook/secret-token")
    assert run_all(config) == 0
    capsys.readouterr()
    assert monitor(config, "alerts", "status") == 0
    out = capsys.readouterr().out
    assert "failing: 1 (next try" in out and "cannot connect" in out
    assert "secret-token" not in out
    assert monitor(config, "alerts", "test", "our co-productions") == 1
    assert "failed: webhook http://127.0.0.1" in capsys.readouterr().out


# -- versions --------------------------------------------------------------------------------

RU_VERSION = Story(
    "az-it-kino",
    "Азербайджан и Италия подписали соглашение о совместном производстве фильмов",
    (
        "Агентство кино Азербайджана и национальное агентство кино Италии во вторник в Баку подписали соглашение о совместном производстве фильмов.",
        "По соглашению два агентства будут совместно финансировать художественные и документальные фильмы и обмениваться студентами киношкол.",
        "Съемки первого совместного фильма начнутся весной в Шеки и Риме.",
    ),
)


def test_another_version_of_a_story_joins_its_alert(server: LocalServer, tmp_path: Path) -> None:
    hook = Receiver(server)
    en = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, en, hook.url, more=server.url("/ru/rss.xml"))
    assert run_all(config) == 0
    serve_outlet(server, "ru", [RU_VERSION], "ru")  # the same story, a day's news later
    assert run_all(config) == 0
    assert hook.titles() == [EN_COOP.title]
    assert rows(tmp_path, "SELECT count(*), count(DISTINCT alert_id) FROM alert_articles") == [
        (2, 1)
    ]
