"""How much of the field a digest saw: sources checked, failed, silent, and why they failed.

A day on which no source could be reached must not read as a quiet news day. Every digest format
(HTML, Markdown, e-mail, webhook, JSON) shows the same :class:`Coverage`: a banner when many or
all sources could not be checked, and the failures summarised by cause with the likely fix
(the words are in :mod:`monitor.labels`). Pure: source health in, coverage out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.codes import Cause, lookup
from monitor.labels import Labels
from monitor.models import SourceHealth, SourceStatus

# A banner from this share of sources unchecked: one feed down among thirty is a line in the
# sources list; a quarter of the field missing changes what the digest can be trusted for.
BANNER_SHARE = 0.25


def cause_of(code: str | None) -> Cause:
    """The cause of a stable error code (``fetch.dns``, ``fetch.http_404``, ``parse.empty``)."""
    entry = lookup(code)
    return entry.cause if entry is not None else Cause.OTHER


@dataclass(frozen=True)
class CauseCount:
    cause: Cause
    sources: tuple[str, ...]  # the failed sources' names, in the digest's order


@dataclass(frozen=True)
class Coverage:
    """What the digest saw of the configured (enabled) sources."""

    sources: int
    ok: int  # checked: the last attempt answered (new items or not)
    failed: int  # the last attempt failed
    unchecked: int  # never attempted yet
    silent: int  # answered, but nothing new for much longer than usual
    causes: tuple[CauseCount, ...] = ()  # most sources first

    @property
    def complete(self) -> bool:
        return self.sources > 0 and self.ok == self.sources

    @property
    def blind(self) -> bool:
        """No source could be checked: the digest saw nothing."""
        return self.ok == 0

    @property
    def partial(self) -> bool:
        """Enough of the field missing to say so above the stories."""
        missing = self.sources - self.ok
        return not self.blind and missing >= max(1, math.ceil(self.sources * BANNER_SHARE))

    @property
    def banner(self) -> bool:
        return self.blind or self.partial

    def as_json(self) -> dict[str, object]:
        return {
            "sources": self.sources,
            "ok": self.ok,
            "failed": self.failed,
            "unchecked": self.unchecked,
            "silent": self.silent,
            "causes": [
                {"cause": c.cause.value, "count": len(c.sources), "sources": list(c.sources)}
                for c in self.causes
            ],
        }


def coverage_of(health: Sequence[SourceHealth]) -> Coverage:
    ok = [h for h in health if h.status in (SourceStatus.OK, SourceStatus.NOT_MODIFIED)]
    failed = [h for h in health if h.status is SourceStatus.ERROR]
    by_cause: dict[Cause, list[str]] = {}
    for h in failed:
        by_cause.setdefault(cause_of(h.error), []).append(h.name)
    causes = sorted(by_cause.items(), key=lambda item: (-len(item[1]), list(Cause).index(item[0])))
    return Coverage(
        sources=len(health),
        ok=len(ok),
        failed=len(failed),
        unchecked=len(health) - len(ok) - len(failed),
        silent=sum(1 for h in ok if h.silent),
        causes=tuple(CauseCount(cause, tuple(names)) for cause, names in causes),
    )


def coverage_from_json(data: object) -> Coverage | None:
    """The ``coverage`` object of a digest's JSON read back (None when absent or malformed):
    the chat message is built from the JSON contract, as any other tool would."""
    if not isinstance(data, Mapping):
        return None
    try:
        causes = tuple(
            CauseCount(Cause(c["cause"]), tuple(str(n) for n in c["sources"]))
            for c in data.get("causes") or ()
        )
        return Coverage(
            sources=int(data["sources"]),
            ok=int(data["ok"]),
            failed=int(data["failed"]),
            unchecked=int(data.get("unchecked", 0)),
            silent=int(data.get("silent", 0)),
            causes=causes,
        )
    except (KeyError, TypeError, ValueError):
        return None


def banner(coverage: Coverage, labels: Labels) -> str | None:
    """The warning above the stories, or None when the field was (nearly) all seen."""
    if coverage.sources == 0:
        return labels.coverage_no_sources
    if coverage.blind:
        return labels.coverage_blind.format(n=coverage.sources)
    if coverage.partial:
        return labels.coverage_partial.format(ok=coverage.ok, n=coverage.sources)
    return None


def subject(title: str, coverage: Coverage, labels: Labels) -> str:
    """An e-mail subject that says so when the digest saw little: a reader who only sees the
    subject line must not take a blind day for a quiet one."""
    if coverage.sources and coverage.blind:
        return f"{title} — {labels.subject_blind}"
    if coverage.partial:
        return f"{title} — {labels.subject_partial.format(ok=coverage.ok, n=coverage.sources)}"
    return title


def cause_lines(coverage: Coverage, labels: Labels, names: int = 5) -> list[str]:
    """One line per cause: what failed and the likely fix, how many sources, the first names."""
    out = []
    for item in coverage.causes:
        shown = ", ".join(item.sources[:names])
        more = len(item.sources) - names
        listed = f"{shown}, … (+{more})" if more > 0 else shown
        out.append(f"{labels.cause(item.cause.value)} — {len(item.sources)}: {listed}")
    return out
