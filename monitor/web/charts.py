"""Trends drawn on the server: stories per week as an SVG line chart (no script), with the numbers
in a table beside it. Pure: counts in, markup out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

# Eight colours told apart with the common colour-vision deficiencies (Okabe & Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 680, 240, 36, 28, 12


@dataclass(frozen=True)
class Weekly:
    weeks: tuple[date, ...]  # each week's Monday
    series: Mapping[str, tuple[int, ...]]  # name -> count per week, the busiest first


def week_of(moment: datetime, zone: ZoneInfo) -> date:
    day = moment.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def weekly(
    stories: Iterable[tuple[datetime, Sequence[str]]],
    zone: ZoneInfo,
    first: date,
    last: date,
) -> Weekly:
    """Per week from the week of ``first`` to that of ``last``: how many stories name each
    value (a story naming two countries counts for both)."""
    start = first - timedelta(days=first.weekday())
    weeks = []
    week = start
    while week <= last:
        weeks.append(week)
        week += timedelta(days=7)
    index = {w: i for i, w in enumerate(weeks)}
    counts: dict[str, list[int]] = {}
    totals: Counter[str] = Counter()
    for moment, values in stories:
        at = index.get(week_of(moment, zone))
        if at is None:
            continue
        for value in set(values):
            counts.setdefault(value, [0] * len(weeks))[at] += 1
            totals[value] += 1
    order = sorted(totals, key=lambda v: (-totals[v], v))
    return Weekly(tuple(weeks), {v: tuple(counts[v]) for v in order})


def line_chart(data: Weekly, name: Callable[[str], str], title: str, most: int = 8) -> Markup:
    """The busiest ``most`` series as lines over the weeks, with a legend; text escaped."""
    shown = list(data.series.items())[:most]
    peak = max([max(c) for _, c in shown] + [1])
    span_x = WIDTH - LEFT - 8
    span_y = HEIGHT - BOTTOM - TOP
    step = span_x / max(1, len(data.weeks) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(n: int) -> float:
        return TOP + span_y - span_y * n / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 24 * ((len(shown) + 3) // 4)}" '
        f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    ticks = sorted({0, peak // 2, peak})
    for n in ticks:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(n):.1f}" x2="{WIDTH - 8}" y2="{y(n):.1f}" stroke="#d9d9d4"/>'
            f'<text x="{LEFT - 6}" y="{y(n) + 4:.1f}" font-size="11" text-anchor="end" fill="#5b5b55">{n}</text>'
        )
    label_every = max(1, len(data.weeks) // 6)
    for i, week in enumerate(data.weeks):
        if i % label_every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
                f'fill="#5b5b55">{week.strftime("%d.%m")}</text>'
            )
    for k, (series, counts) in enumerate(shown):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(n):.1f}" for i, n in enumerate(counts))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(name(series))}: {sum(counts)}</title></polyline>"
        )
        row, column = divmod(k, 4)
        lx, ly = LEFT + column * 160, HEIGHT + 14 + row * 24
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{lx + 20}" y="{ly - 4}" font-size="12" fill="currentColor">'
            f"{escape(name(series))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
