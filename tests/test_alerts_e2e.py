"""Instant alerts end to end: outlets and a webhook receiver on 127.0.0.1, ``monitor run`` on
them, and what the receiver got."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.localserver import LocalServer, Reply, Request
from tests.sites import Story, rows, run_all, write_config
from tests.test_e2e import EN_COOP, EN_OTHER, serve_outlet

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli")]

KZ_WEEK = Story(
    "kz-film-week",
    "Days of Kazakh cinema open in Tashkent",
    (
        "Days of Kazakh cinema opened in Tashkent on Monday with a screening at the Alisher Navoi cinema, organised by the Kazakh embassy and the Cinematography Agency of Uzbekistan.",
        "Over five days the audience will see eight feature films by Kazakhfilm, and directors from Almaty will meet students of the Tashkent film institute.",
        "The two countries' film bodies also agreed to hold a week of Uzbek films in Astana next spring.",
    ),
)
GE_SCHOOL = Story(
    "ge-fr-school",
    "Georgian and French film schools sign a training exchange",
    (
        "The Shota Rustaveli Theatre and Film University in Tbilisi and La Fémis in Paris signed an agreement on a training exchange for young filmmakers.",
        "Under the agreement, ten Georgian students of directing and cinematography will study in Paris each year, and French students will shoot their diploma films in Georgia.",
        "The Georgian National Film Center will co-finance the programme with the French embassy.",
    ),
)
TR_SERIES = Story(
    "tr-pk-series",
    "Turkish and Pakistani broadcasters to co-produce a drama series",
    (
        "Turkey's public broadcaster TRT and Pakistan Television signed a memorandum in Islamabad to co-produce a historical drama series and exchange television films.",
        "The first joint series, to be filmed in Lahore and Istanbul, will air on both channels next year, the broadcasters said.",
        "Producers from both countries will share the costs and the rights to the series.",
    ),
)


class Receiver:
    """A webhook receiver: what it was sent, answering as ``answer`` says."""

    def __init__(self, server: LocalServer, path: str = "/hook") -> None:
        self.server, self.path = server, path
        self.answer: Callable[[Request], Reply] = lambda _r: Reply(204)
        server.route(path, lambda request: self.answer(request))

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def posts(self) -> list[dict[str, object]]:
        return [
            json.loads(r.body)
            for r in list(self.server.requests)
            if r.path == self.path and r.method == "POST"
        ]

    def titles(self) -> list[str]:
        return [str(s["title"]) for p in self.posts() for s in p["stories"]]  # type: ignore[attr-defined]


def alert_config(
    tmp_path: Path, feed: str, hook: str, *, rule: str = "", channel: str = "", more: str = ""
) -> Path:
    extra = (
        "alerts:\n"
        "  - name: our co-productions\n"
        "    topic: film_cooperation\n"
        f"{rule}"
        "    channels:\n"
        f"      - webhook: {hook}\n"
        f"{channel}"
    )
    sources = [{"name": "Wire", "url": feed, "language": "en"}]
    if more:
        sources.append({"name": "Later", "url": more})
    return write_config(tmp_path, sources, extra)


def test_a_matching_story_reaches_the_receiver_before_the_run_ends_and_only_once(
    server: LocalServer, tmp_path: Path
) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP, EN_OTHER], "en")
    config = alert_config(tmp_path, feed, hook.url)

    assert run_all(config) == 0
    posts = hook.posts()
    assert len(posts) == 1
    post = posts[0]
    assert post["alert"] == "our co-productions" and post["rollup"] is False
    (story,) = post["stories"]  # type: ignore[misc]
    assert story["title"] == EN_COOP.title  # the gas story matched no rule
    assert story["url"].endswith(f"/wire/articles/{EN_COOP.slug}.html")
    assert set(story) == {
        "url", "title", "source", "language", "published", "countries", "aspects", "summary",
        "evidence",
    }  # fmt: skip
    assert story["source"] == "Wire" and story["language"] == "en"
    assert {"AZ", "IT"} <= set(story["countries"]) and story["evidence"]

    assert run_all(config) == 0  # the same feed again: nothing new to say
    assert len(hook.posts()) == 1
    assert rows(tmp_path, "SELECT state FROM alert_deliveries") == [("sent",)]


def test_filters_keep_a_story_out(server: LocalServer, tmp_path: Path) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, hook.url, rule="    countries: [KZ]\n")
    assert run_all(config) == 0
    assert hook.posts() == []
    assert rows(tmp_path, "SELECT count(*) FROM alerts") == [(0,)]


def test_a_failing_receiver_keeps_the_alert_and_a_later_cycle_delivers_it(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = Receiver(server)
    hook.answer = lambda _r: Reply(500, b"down for maintenance")
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, hook.url)

    assert run_all(config) == 0  # an alert channel failing does not fail the run
    assert len(hook.posts()) == 1
    err = capsys.readouterr().err
    assert "HTTP 500" in err and "kept, tried again later" in err
    ((state, attempts, error),) = rows(
        tmp_path, "SELECT state, attempts, last_error FROM alert_deliveries"
    )
    assert (state, attempts) == ("pending", 1) and "HTTP 500" in error

    # Not before its back-off: a cycle a moment later leaves it alone.
    assert run_all(config) == 0
    assert len(hook.posts()) == 1
    _due_now(tmp_path)
    hook.answer = lambda _r: Reply(204)
    assert run_all(config) == 0
    assert [p["stories"][0]["title"] for p in hook.posts()] == [EN_COOP.title] * 2  # type: ignore[index]
    assert rows(tmp_path, "SELECT state FROM alert_deliveries") == [("sent",)]


def test_a_refused_connection_keeps_the_alert(server: LocalServer, tmp_path: Path) -> None:
    from tests.sites import free_port

    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, f"http://127.0.0.1:{free_port()}/hook")
    assert run_all(config) == 0
    ((state, error),) = rows(tmp_path, "SELECT state, last_error FROM alert_deliveries")
    assert state == "pending" and "cannot connect" in error


def test_quiet_hours_hold_the_alert_and_release_it_after(
    server: LocalServer, tmp_path: Path
) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    now = datetime.now(ZoneInfo("Asia/Baku"))  # write_config's timezone
    around = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
    config = alert_config(tmp_path, feed, hook.url, rule=f'    quiet_hours: "{around}"\n')
    assert run_all(config) == 0
    assert hook.posts() == []
    assert rows(tmp_path, "SELECT state FROM alert_deliveries") == [("pending",)]

    later = f"{(now + timedelta(hours=2)):%H:%M}-{(now + timedelta(hours=3)):%H:%M}"
    config.write_text(config.read_text().replace(around, later))
    assert run_all(config) == 0
    assert hook.titles() == [EN_COOP.title]


def test_beyond_max_per_hour_one_rollup_gathers_the_rest(
    server: LocalServer, tmp_path: Path
) -> None:
    hook = Receiver(server)
    stories = [EN_COOP, KZ_WEEK, GE_SCHOOL]
    feed = serve_outlet(server, "wire", stories, "en")
    later = server.url("/later/rss.xml")  # nothing there yet
    config = alert_config(tmp_path, feed, hook.url, rule="    max_per_hour: 2\n", more=later)
    assert run_all(config) == 0
    (post,) = hook.posts()
    assert post["rollup"] is True
    assert sorted(hook.titles()) == sorted(s.title for s in stories)

    # A fourth story in the same hour waits for the next roll-up.
    serve_outlet(server, "later", [TR_SERIES], "en")
    assert run_all(config) == 0
    assert len(hook.posts()) == 1
    assert rows(tmp_path, "SELECT count(*) FROM alert_deliveries WHERE state = 'pending'") == [(1,)]


def test_within_max_per_hour_stories_go_as_they_come(server: LocalServer, tmp_path: Path) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP, KZ_WEEK], "en")
    config = alert_config(tmp_path, feed, hook.url, rule="    max_per_hour: 5\n")
    assert run_all(config) == 0
    (post,) = hook.posts()  # one POST a cycle with that cycle's stories
    assert post["rollup"] is False and len(post["stories"]) == 2  # type: ignore[arg-type]


def test_chat_format_posts_a_short_text(server: LocalServer, tmp_path: Path) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, hook.url, channel="        format: chat\n")
    assert run_all(config) == 0
    (post,) = hook.posts()
    text = str(post["text"])
    assert text.startswith("[alert] our co-productions: 1 story")
    assert f"|{EN_COOP.title}>" in text and "Wire (en)" in text


def test_apprise_json_target_reaches_the_receiver(server: LocalServer, tmp_path: Path) -> None:
    hook = Receiver(server)
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    target = hook.url.replace("http://", "json://").replace("/hook", "/{env:HOOK_PATH}")
    extra = f'alerts:\n  - name: chat\n    channels:\n      - apprise: "{target}"\n'
    config = write_config(tmp_path, [{"name": "Wire", "url": feed, "language": "en"}], extra)
    os.environ["HOOK_PATH"] = "hook"
    try:
        assert run_all(config) == 0
    finally:
        del os.environ["HOOK_PATH"]
    (post,) = hook.posts()
    assert post["title"] == "[alert] chat: 1 story"
    assert EN_COOP.title in str(post["message"])


def _due_now(folder: Path) -> None:
    """Move every pending delivery's next try to the past, as time passing would."""
    import sqlite3

    from tests.sites import database

    with sqlite3.connect(database(folder)) as conn:
        past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("UPDATE alert_deliveries SET next_try_at = ?", (past,))


def test_a_kill_between_sending_and_recording_repeats_that_message_once(
    server: LocalServer, tmp_path: Path
) -> None:
    """The receiver takes the POST and holds its answer; the monitor is SIGKILLed meanwhile.
    The next run sends the same story again (at least once), and the run after sends nothing."""
    hook = Receiver(server)
    hook.answer = lambda _r: Reply(204, delay=60)
    feed = serve_outlet(server, "wire", [EN_COOP], "en")
    config = alert_config(tmp_path, feed, hook.url, channel="        timeout: 90s\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run", "--all", "--no-digest"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not hook.posts() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hook.posts(), "the alert was never sent"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert rows(tmp_path, "SELECT state FROM alert_deliveries") == [("pending",)]
    hook.answer = lambda _r: Reply(204)
    assert run_all(config) == 0
    assert hook.titles() == [EN_COOP.title] * 2
    assert run_all(config) == 0
    assert hook.titles() == [EN_COOP.title] * 2


def test_an_email_channel_sends_through_the_digest_mail_server(
    server: LocalServer, tmp_path: Path
) -> None:
    import email
    import email.policy

    from tests.test_mail import Collector, _start

    collector = Collector()
    controller = _start(collector)
    try:
        feed = serve_outlet(server, "wire", [EN_COOP], "en")
        extra = (
            "digest:\n"
            "  locale: ru\n"
            "  email:\n"
            "    host: 127.0.0.1\n"
            f"    port: {controller.port}\n"
            "    security: none\n"
            "    sender: monitor@example.org\n"
            "    recipients: [digest@example.org]\n"
            "alerts:\n"
            "  - name: кино\n"
            "    channels:\n"
            "      - email: [press@example.org, chief@example.org]\n"
        )
        config = write_config(tmp_path, [{"name": "Wire", "url": feed, "language": "en"}], extra)
        assert run_all(config) == 0
    finally:
        controller.stop()
    ((_sender, recipients, content),) = collector.received  # not to the digest's recipients
    assert recipients == ["press@example.org", "chief@example.org"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"] == "[alert] кино: 1 сюжет"
    text = message.get_body(("plain",)).get_content()
    assert EN_COOP.title in text and f"/wire/articles/{EN_COOP.slug}.html" in text
