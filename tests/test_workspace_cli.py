"""The workspace's accounts and the office's feedback, through the command line and a real cycle
against a local outlet: users and tokens, a story marked not relevant leaving the digest, and the
judgements exported for ``monitor eval``."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import accounts, cli
from monitor.localserver import LocalServer
from monitor.store import Store
from tests.sites import database, write_config
from tests.test_e2e import EN_COOP, EN_OTHER, serve_outlet, today_digest

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def users(config: Path, *args: str, password: str | None = None) -> int:
    """``monitor users ...``, the password (if any) on standard input."""
    argv = ["--config", str(config), "users", *args]
    if password is None:
        return cli.main(argv)
    stdin = io.StringIO(password + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", stdin)
        return cli.main([*argv, "--password-stdin"])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, [{"name": "Wire", "url": "https://wire.example/rss"}])


def test_users_add_list_token_remove(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert users(config, "list") == 0
    assert "no users yet" in capsys.readouterr().out
    assert users(config, "add", "leyla", "--role", "admin", password=PASSWORD) == 0
    assert users(config, "add", "omar", password=PASSWORD) == 0
    assert "added omar (reader)" in capsys.readouterr().out

    assert users(config, "token", "omar") == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("fm_") and "shown this once" in printed.err
    assert users(config, "list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split()[:2] == ["leyla", "admin"] and "0 API tokens" in listing[0]
    assert listing[1].split()[:2] == ["omar", "reader"] and "1 API token" in listing[1]

    storage = f"sqlite:///{database(config.parent)}"
    with Store(storage) as store:
        assert accounts.by_token(store, token, NOW).name == "omar"  # type: ignore[union-attr]
        assert accounts.by_token(store, token[:-1] + "x", NOW) is None
        assert accounts.sign_in(store, "leyla", PASSWORD).role is accounts.Role.ADMIN  # type: ignore[union-attr]
        assert accounts.sign_in(store, "leyla", PASSWORD + "!") is None
        assert accounts.sign_in(store, "nobody", PASSWORD) is None
    # Only hashes are stored: neither the password nor the token is anywhere in the database.
    raw = database(config.parent).read_bytes()
    assert PASSWORD.encode() not in raw and token.encode() not in raw

    assert users(config, "remove", "omar") == 0
    with Store(storage) as store:
        assert accounts.by_token(store, token, NOW) is None
        assert [row["name"] for row in store.users()] == ["leyla"]


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("add", "leyla"), PASSWORD, "exists already"),
        (("add", "new one"), PASSWORD, "user name 'new one'"),
        (("add", "short"), "tiny", "at least 10 characters"),
        (("remove", "ghost"), None, "no user 'ghost'"),
        (("token", "ghost"), None, "no user 'ghost'"),
    ],
)
def test_bad_account_commands_say_what_is_wrong(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    password: str | None,
    message: str,
) -> None:
    assert users(config, "add", "leyla", password=PASSWORD) == 0
    capsys.readouterr()
    assert users(config, *args, password=password) == 2
    assert message in capsys.readouterr().err
    with Store(f"sqlite:///{database(config.parent)}") as store:
        assert [row["name"] for row in store.users()] == ["leyla"]  # nothing else changed


def test_a_password_is_never_taken_without_a_terminal_or_stdin(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))  # not a terminal
    assert cli.main(["--config", str(config), "users", "add", "leyla"]) == 2
    assert "--password-stdin" in capsys.readouterr().err


def test_not_relevant_leaves_the_digest_and_the_export_measures_the_tagger(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_outlet(server, "w", [EN_COOP, EN_OTHER], "en")
    config = write_config(tmp_path, [{"name": "Wire", "url": url, "language": "en"}])
    assert cli.main(["--config", str(config), "run"]) == 0
    assert [s["title"] for s in today_digest(tmp_path)["stories"]] == [EN_COOP.title]
    assert users(config, "add", "leyla", password=PASSWORD) == 0
    assert users(config, "add", "omar", password=PASSWORD) == 0

    with sqlite3.connect(database(tmp_path)) as db:
        ids = dict(db.execute("SELECT title, id FROM articles").fetchall())
    with Store(f"sqlite:///{database(tmp_path)}") as store:
        leyla, omar = (store.user_login(name)["id"] for name in ("leyla", "omar"))  # type: ignore[index]
        store.set_feedback(ids[EN_COOP.title], leyla, False, "not ours", NOW)
        store.set_feedback(ids[EN_OTHER.title], omar, False, "", NOW)
        store.set_feedback(ids[EN_OTHER.title], omar, True, "changed my mind", NOW)  # replaces
        store.set_feedback(ids[EN_OTHER.title], leyla, True, "", NOW)
    capsys.readouterr()

    assert cli.main(["--config", str(config), "digest"]) == 0
    assert today_digest(tmp_path)["stories"] == []

    exported = tmp_path / "office.jsonl"
    assert cli.main(["--config", str(config), "feedback", "export", "-o", str(exported)]) == 0
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    by_title = {line["title"]: line for line in lines}
    assert by_title[EN_COOP.title]["label"] is False and by_title[EN_COOP.title]["tagged"] is True
    assert by_title[EN_OTHER.title]["label"] is True and by_title[EN_OTHER.title]["tagged"] is False
    assert by_title[EN_OTHER.title]["judged_by"] == ["leyla", "omar"]
    assert by_title[EN_OTHER.title]["why"] == "omar: changed my mind"

    # The office's labels measure the tagger: it tagged what the office rejected (a false
    # positive) and missed what the office wants (a false negative).
    capsys.readouterr()
    assert cli.main(["eval", "--json", str(exported)]) == 0
    figures = json.loads(capsys.readouterr().out)
    overall = figures["groups"]["all"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (0, 1, 1)

    # A period's digest says what the office judged in it: two stories, both against the tag.
    assert cli.main(["--config", str(config), "digest", "--since", "2026-12-01",
                     "--until", "2026-12-07"]) == 0  # fmt: skip
    week = json.loads((tmp_path / "reports" / "2026-12-01_2026-12-07.json").read_text("utf-8"))
    assert week["feedback"] == {"marked": 2, "contradicted": 2}
    markdown = (tmp_path / "reports" / "2026-12-01_2026-12-07.md").read_text("utf-8")
    assert "The office judged 2 stories in this period; 2 of them disagreed" in markdown
    assert "feedback" not in today_digest(tmp_path)  # a day's digest is unchanged

    # A day later nothing new: --since leaves the earlier judgements out.
    capsys.readouterr()
    assert cli.main(["--config", str(config), "feedback", "export", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""
