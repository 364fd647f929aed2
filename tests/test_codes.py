"""The catalogue of error codes: every code the monitor raises is in it, with a back-off class,
a cause for the digest and a meaning; HTTP statuses travel as a field, not parsed from text."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from monitor.codes import CATALOGUE, Cause, FailureClass, http_code, lookup, status_of
from monitor.errors import FetchError
from monitor.labels import LABELS

SOURCE = Path(__file__).resolve().parents[1] / "monitor"
_LITERAL = re.compile(r"""["']((?:fetch|parse|extract|internal)\.[a-z_]+)["']""")


def _raised_codes() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path.name == "codes.py":
            continue
        found.update(_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_in_the_code_base_is_in_the_catalogue() -> None:
    raised = _raised_codes()
    assert len(raised) > 20  # the scan sees the codes (it would pass vacuously otherwise)
    missing = sorted(c for c in raised if c not in CATALOGUE and not c.startswith("fetch.http_"))
    assert missing == []


def test_every_entry_has_a_meaning_a_back_off_and_words_for_its_cause() -> None:
    for code, entry in CATALOGUE.items():
        assert entry.code == code and entry.meaning, code
        assert isinstance(entry.backoff, FailureClass) and isinstance(entry.cause, Cause)
    for labels in LABELS.values():
        assert set(labels.causes) == {c.value for c in Cause}, labels.locale


@pytest.mark.parametrize(
    ("status", "backoff", "cause"),
    [
        (404, FailureClass.HARD, Cause.MOVED),
        (410, FailureClass.HARD, Cause.MOVED),
        (403, FailureClass.HARD, Cause.BLOCKED),
        (429, FailureClass.TEMPORARY, Cause.SERVER),
        (503, FailureClass.TEMPORARY, Cause.SERVER),
        (418, FailureClass.SOFT, Cause.HTTP),
    ],
)
def test_http_statuses(status: int, backoff: FailureClass, cause: Cause) -> None:
    code = http_code(status)
    assert status_of(code) == status
    entry = lookup(code)
    assert entry is not None and (entry.status, entry.backoff, entry.cause) == (
        status,
        backoff,
        cause,
    )


def test_unknown_and_missing_codes() -> None:
    assert lookup("fetch.something_new") is None
    assert lookup(None) is None and status_of("fetch.timeout") is None


def test_the_status_survives_the_trip_from_a_worker_process() -> None:
    error = FetchError(http_code(503), "server answered 503", status=503)
    back = pickle.loads(pickle.dumps(error))
    assert (back.code, back.message, back.status) == (error.code, error.message, 503)
