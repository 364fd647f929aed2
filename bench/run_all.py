"""The monitor against a local news web, side by side with a naive script and a ceiling; one table.

    .venv/bin/python bench/run_all.py                 # 100 outlets x 20 items, 0 and 100 ms
    .venv/bin/python bench/run_all.py --quick         # 10 x 5, small big-run and digest: a smoke run
    .venv/bin/python bench/run_all.py --skip big,digest --json out.json

Scenarios (see bench/README.md for what each row means):

1. ceiling: ``trafilatura.extract`` with its defaults over every page, already in memory, on all
   cores, and beside it the monitor's own ``extract_page`` the same way (three rounds each,
   alternated, the fastest counts);
2. for each latency: the naive script (on ``--naive-sample`` outlets, its rate extrapolated), the
   monitor's cold cycle (empty database; ``--repeat`` times, the fastest counts) and its warm
   cycle (nothing changed: every feed 304), with the monitor's default fetch settings; when a
   cold cycle misses its target (or with ``--fast-fetch-row always``), cold cycles with
   ``host_interval: 0s`` as well;
3. the peak memory of the first cold cycles (their whole process tree, the worst repeat);
4. ``--big-outlets`` outlets: a warm cycle, against the cold cycle of the same web (estimated
   from the main cold cycle unless ``--big-cold measure``; see ``big_scenario``);
5. a digest from a database of ``--digest-articles`` stored articles.

The news web runs in a process of its own (bench/newsweb.py): its CPU competes with the monitor
for this machine's cores, as the figures' notes show (server CPU seconds per scenario).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import run_ceiling, run_naive
from monitorrun import CycleRun, run_cycle, write_config
from newsweb import NewsWeb

HERE = Path(__file__).resolve().parent

COLD_TARGET = 0.80  # of the ceiling's articles per second
WARM_TARGET = 0.05  # of the cold cycle's time
DIGEST_TARGET = 2.0  # seconds
MEMORY_TARGET = 400.0  # MB


@dataclass
class Row:
    scenario: str
    latency: str = "—"
    articles: str = "—"
    wall: float | None = None  # seconds
    process: float | None = None  # seconds, the monitor process start to exit
    rate: float | None = None  # articles per second
    ratio: str = "—"
    peak_mb: float | None = None
    target: str = "—"
    result: str = "—"
    notes: list[str] = field(default_factory=list)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Row]) -> str:
    head = [
        "scenario",
        "latency",
        "articles",
        "wall s",
        "process s",
        "articles/s",
        "ratio",
        "peak MB",
        "target",
        "result",
    ]
    body = [
        [
            r.scenario,
            r.latency,
            r.articles,
            _fmt(r.wall, 2),
            _fmt(r.process, 1),
            _fmt(r.rate, 1),
            r.ratio,
            _fmt(r.peak_mb, 0),
            r.target,
            r.result,
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(head)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(cells) for cells in body]
    notes = [f"- {r.scenario} ({r.latency}): {n}" for r in rows for n in r.notes]
    return "\n".join(out) + ("\n\nNotes:\n" + "\n".join(notes) if notes else "")


def code_version() -> str:
    """The monitor's code this run measured: a digest of its files and the newest change."""
    files = sorted((HERE.parent / "monitor").rglob("*.py"))
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]
    newest = max(f.stat().st_mtime for f in files)
    return f"sha256 {digest}, last changed {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(newest))}"


def progress(row: Row) -> None:
    """A finished row, printed at once (the table comes at the end)."""
    print(table([row]).splitlines()[2], flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _stats_delta(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, int], float]:
    counts = {
        k: int(v) - int(before["counts"].get(k, 0))  # type: ignore[union-attr]
        for k, v in after["counts"].items()  # type: ignore[union-attr]
    }
    return {k: v for k, v in counts.items() if v}, float(after["cpu_seconds"]) - float(
        before["cpu_seconds"]
    )


def monitored(web: NewsWeb, config: Path) -> tuple[CycleRun, dict[str, int], float]:
    """One cycle, with the server's request counts and CPU seconds during it."""
    before = web.stats()
    run = run_cycle(config)
    counts, server_cpu = _stats_delta(before, web.stats())
    if run.returncode != 0:
        print(run.log[-3000:], file=sys.stderr)
    return run, counts, server_cpu


def load_note(run: CycleRun, server_cpu: float) -> str:
    other = max(0.0, run.machine_busy_seconds - run.cpu_seconds - server_cpu)
    return (
        f"CPU: monitor {run.cpu_seconds:.1f} s (main process {run.main_cpu_seconds:.1f} s, "
        f"extraction workers {run.cpu_seconds - run.main_cpu_seconds:.1f} s), news web "
        f"{server_cpu:.1f} s, other processes on the machine {other:.1f} s; over "
        f"{run.process_seconds:.1f} s on {os.cpu_count()} cores"
    )


def baseline_load(result: dict[str, Any]) -> str:
    other = max(0.0, result["machine_busy_seconds"] - result["cpu_seconds"])
    return (
        f"CPU of the whole process (fetching the pages and every round included) "
        f"{result['cpu_seconds']:.1f} s; the rest of the machine meanwhile {other:.1f} s "
        "(the news web and other processes)"
    )


@dataclass(frozen=True)
class Ceiling:
    rate: float  # pages per second, plain trafilatura.extract: the targets' reference
    cpu_seconds: float  # CPU of its extraction (workers and parent, timed part only)
    own_rate: float  # the same with the monitor's extract_page
    own_cpu_seconds: float


def extraction_row(name: str, result: dict[str, Any], prefix: str, ceiling_rate: float) -> Row:
    """A row of ``baselines.ceiling``'s result: plain trafilatura's figures (``prefix`` "") or
    the monitor's own extraction's ("own_"), the rate against the ceiling's."""
    pages = result["pages"]
    seconds, cpu = (
        result[f"{prefix}seconds"],
        result[f"{prefix}cpu_seconds" if prefix else "extract_cpu_seconds"],
    )
    row = Row(name, "—", str(pages), seconds, rate=pages / seconds,
              ratio=f"{pages / seconds / ceiling_rate:.0%}")  # fmt: skip
    row.notes.append(
        f"{result[f'{prefix}extracted']} of {pages} pages gave text; "
        f"{result['bytes'] / pages / 1024:.0f} KB a page on average; "
        f"{cpu:.1f} s of CPU for the extraction ({cpu / pages * 1000:.1f} ms a page); rounds "
        + ", ".join(f"{r:.1f} s" for r in result[f"{prefix}rounds"])
        + " (the fastest counts; the two functions' rounds alternate)"
    )
    if not prefix:
        row.notes.append(baseline_load(result))
    return row


def cycle_scenarios(
    args: argparse.Namespace,
    web: NewsWeb,
    work: Path,
    ceiling: Ceiling,
    rows: list[Row],
    colds: dict[float, CycleRun],
) -> None:
    outlets, items = args.outlets, args.items
    memory_done = False
    for latency in args.latency:
        web.set_latency(latency)
        label = f"{latency:g} ms"

        if "naive" not in args.skip:
            sample = min(args.naive_sample, outlets)
            feeds = [url for _, url in web.feeds(range(sample))]
            result = run_naive(feeds)
            rate = result["pages"] / result["seconds"]
            row = Row(
                f"naive script ({sample} of {outlets} outlets)",
                label,
                f"{result['pages']} of {outlets * items}",
                result["seconds"],
                rate=rate,
                ratio=f"{rate / ceiling.rate:.0%}",
            )
            row.notes.append(
                f"{result['extracted']} of {result['pages']} pages gave text; all "
                f"{outlets * items} would take ~{outlets * items / rate:,.0f} s at this rate"
            )
            row.notes.append(baseline_load(result))
            rows.append(row)
            progress(row)

        fetch_variants: list[tuple[str, dict[str, str] | None]] = [("default fetch", None)]
        startup_cpu = 0.0
        index = 0
        while index < len(fetch_variants):
            name, fetch = fetch_variants[index]
            index += 1
            # Cold cycles from an empty database, --repeat times: the fastest counts (other load
            # on the machine only ever slows a cycle down); memory counts at its worst.
            runs: list[tuple[CycleRun, dict[str, int], float]] = []
            for repeat in range(max(1, args.repeat)):
                folder = work / f"cycle-{latency:g}ms-{index}-{repeat}"
                config = write_config(folder, web.feeds(), fetch)
                runs.append(monitored(web, config))
            cold, counts, server_cpu = min(
                runs, key=lambda r: (r[0].new_items < outlets * items, r[0].cycle_seconds)
            )
            warm: tuple[CycleRun, dict[str, int], float] | None = None
            if fetch is None:
                warm = monitored(web, config)  # after the last cold cycle, nothing changed
                # A warm cycle is start-up (interpreter, imports, tagger) and little else.
                startup_cpu = warm[0].cpu_seconds
            rate = cold.new_items / cold.cycle_seconds if cold.cycle_seconds else 0.0
            cycle_cpu = max(1e-9, cold.cpu_seconds - startup_cpu + server_cpu)
            cpu_ratio = ceiling.cpu_seconds / cycle_cpu
            ok = rate >= COLD_TARGET * ceiling.rate and cold.new_items == outlets * items
            row = Row(
                f"monitor cold, {name}",
                label,
                str(cold.new_items),
                cold.cycle_seconds,
                cold.process_seconds,
                rate,
                f"{rate / ceiling.rate:.0%} (CPU {cpu_ratio:.0%})",
                max(r[0].peak_rss_mb for r in runs),
                f">= {COLD_TARGET:.0%} of ceiling",
                verdict(ok) + ("" if ok or cpu_ratio >= COLD_TARGET else ", also by CPU"),
            )
            if len(runs) > 1:
                row.notes.append(
                    "cycles of the repeats: "
                    + ", ".join(f"{r[0].cycle_seconds:.1f} s" for r in runs)
                    + " (the fastest counts)"
                )
            row.notes.append(
                f"sources {dict(cold.statuses)}, text from {dict(cold.origins)}, "
                f"{cold.tagged} tagged; requests {counts}"
            )
            row.notes.append(load_note(cold, server_cpu))
            row.notes.append(
                f"against the monitor's own extraction alone ({ceiling.own_rate:.1f} pages/s): "
                f"{rate / ceiling.own_rate:.0%}, by CPU {ceiling.own_cpu_seconds / cycle_cpu:.0%}"
            )
            row.notes.append(
                f"CPU ratio: the ceiling's {ceiling.cpu_seconds:.1f} s of extraction over the "
                f"cycle's {cycle_cpu:.1f} s (monitor tree minus {startup_cpu:.1f} s of start-up "
                "measured on the warm cycle, plus the news web): what the ratio would be on an "
                "otherwise idle machine when both are CPU-bound"
            )
            worst = max(runs, key=lambda r: r[0].peak_rss_mb)[0]
            row.notes.append(
                f"memory (worst of the repeats): peak RSS sum {worst.peak_rss_mb:.0f} MB, PSS sum "
                f"{worst.peak_pss_mb:.0f} MB, main process VmHWM {worst.main_hwm_mb:.0f} MB"
            )
            rows.append(row)
            progress(row)
            if fetch is None:
                colds[latency] = cold
            if not memory_done:
                memory_done = True
                rows.append(memory_row(worst, outlets * items, label))
            if warm is not None:
                rows.append(
                    warm_row(f"monitor warm, {name}", label, warm[0], cold, warm[1], outlets)
                )
                progress(rows[-1])
                if args.fast_fetch_row == "always" or (args.fast_fetch_row == "auto" and not ok):
                    fetch_variants.append(("host_interval 0s", {"host_interval": "0s"}))


def memory_row(cold: CycleRun, articles: int, label: str) -> Row:
    ok = cold.peak_rss_mb < MEMORY_TARGET
    row = Row(
        f"memory of a cold cycle over {articles} articles",
        label,
        str(cold.new_items),
        cold.cycle_seconds,
        cold.process_seconds,
        peak_mb=cold.peak_rss_mb,
        target=f"< {MEMORY_TARGET:.0f} MB",
        result=verdict(ok),
    )
    pss_ok = cold.peak_pss_mb < MEMORY_TARGET
    row.notes.append(
        f"peak of the summed RSS of the monitor, its forkserver and its workers, polled every "
        f"50 ms; with PSS (shared pages split) {cold.peak_pss_mb:.0f} MB "
        f"({verdict(pss_ok)}); the main process alone peaked at {cold.main_hwm_mb:.0f} MB"
    )
    return row


def warm_row(
    name: str, label: str, warm: CycleRun, cold: CycleRun, counts: dict[str, int], outlets: int
) -> Row:
    share = warm.cycle_seconds / cold.cycle_seconds if cold.cycle_seconds else float("inf")
    unchanged = warm.statuses.get("not_modified", 0) == outlets and len(warm.statuses) == 1
    parsed_nothing = (
        unchanged
        and warm.new_items == 0
        and counts.get("feed_200", 0) == 0
        and counts.get("page_200", 0) == 0
    )
    row = Row(
        name,
        label,
        str(warm.new_items),
        warm.cycle_seconds,
        warm.process_seconds,
        ratio=f"{share:.1%} of cold",
        peak_mb=warm.peak_rss_mb,
        target=f"< {WARM_TARGET:.0%} of cold, 0 parsed",
        result=verdict(share < WARM_TARGET and parsed_nothing),
    )
    row.notes.append(
        f"sources {dict(warm.statuses)}; requests {counts}: "
        + ("every feed answered 304, nothing parsed" if parsed_nothing else "SOMETHING WAS PARSED")
    )
    process_share = warm.process_seconds / cold.process_seconds
    row.notes.append(
        f"as whole processes (interpreter start, imports, tagger): {warm.process_seconds:.1f} s "
        f"vs {cold.process_seconds:.1f} s = {process_share:.0%}"
    )
    return row


def big_scenario(
    args: argparse.Namespace, work: Path, rows: list[Row], colds: dict[float, CycleRun]
) -> None:
    """A warm cycle over ``--big-outlets`` outlets, against a cold cycle of the same web.

    The warm cycle needs a database that cold cycles filled. With ``--big-cold measure`` one cold
    cycle over every outlet fills it and is timed. By default (``estimate``) the database is
    filled by cold cycles over ``--fill-batch`` outlets at a time, on bare article pages and
    without politeness spacing (the feeds, and so the ETags the warm cycle sends, are the same);
    the cold cycle of the full web is then estimated from the main cold cycle at the same
    latency, scaled by the number of articles (a cold cycle's cost is per article: fetching,
    extracting, tagging, storing). That keeps the whole run within minutes.
    """
    outlets, items = args.big_outlets, args.big_items
    label = f"{args.big_latency:g} ms"
    measure = args.big_cold == "measure"
    folder = work / "big"
    with NewsWeb(outlets, items, latency_ms=args.big_latency, seed=args.seed) as web:
        feeds = web.feeds()
        if measure:
            config = write_config(folder, feeds)
            cold, counts, server_cpu = monitored(web, config)
            rate = cold.new_items / cold.cycle_seconds if cold.cycle_seconds else 0.0
            row = Row(
                f"monitor cold, {outlets} outlets x {items}",
                label,
                str(cold.new_items),
                cold.cycle_seconds,
                cold.process_seconds,
                rate,
                peak_mb=cold.peak_rss_mb,
            )
            row.notes.append(f"sources {dict(cold.statuses)}; requests {counts}")
            row.notes.append(load_note(cold, server_cpu))
            rows.append(row)
            progress(row)
        else:
            web.set_light(True)
            started = time.perf_counter()
            statuses: Counter[str] = Counter()
            stored = 0
            for first in range(0, outlets, args.fill_batch):
                config = write_config(
                    folder, feeds[first : first + args.fill_batch], {"host_interval": "0s"}
                )
                run, _, _ = monitored(web, config)
                statuses.update(run.statuses)
                stored += run.new_items
            web.set_light(False)
            row = Row(
                f"filling the database of {outlets} outlets (not measured)",
                label,
                str(stored),
                time.perf_counter() - started,
            )
            row.notes.append(
                f"cold cycles over {args.fill_batch} outlets at a time, bare article pages "
                f"(`/__bench/pages?light=1`), host_interval 0s: sources {dict(statuses)}"
            )
            rows.append(row)
            progress(row)
        config = write_config(folder, feeds)  # every outlet, the monitor's defaults
        warm, counts, server_cpu = monitored(web, config)

    reference = cold if measure else None
    note = f"measured cold cycle of the same {outlets} outlets"
    base = colds.get(args.big_latency)
    if reference is None:
        if base is None or not base.new_items:
            rows.append(Row(f"monitor warm, {outlets} outlets", label, result="no reference"))
            return
        scale = outlets * items / base.new_items
        reference = replace(
            base,
            cycle_seconds=base.cycle_seconds * scale,
            process_seconds=base.process_seconds * scale,
        )
        note = (
            f"cold cycle of {outlets} x {items} estimated as {scale:g} x the measured cold cycle "
            f"of {base.new_items} articles at {label}: {reference.cycle_seconds:.0f} s "
            "(`--big-cold measure` runs it)"
        )
    row = warm_row(f"monitor warm, {outlets} outlets", label, warm, reference, counts, outlets)
    row.notes.insert(0, note)
    row.notes.append(load_note(warm, server_cpu))
    errors = Counter(re.findall(r"\b((?:fetch|parse|extract|internal)\.[a-z_0-9]+)", warm.log))
    if errors:
        row.notes.append(f"error codes in its log: {dict(errors)}")
    rows.append(row)
    progress(row)


def digest_scenario(args: argparse.Namespace, rows: list[Row]) -> None:
    common = [
        "--articles",
        str(args.digest_articles),
        "--days",
        str(args.digest_days),
        "--sources",
        str(args.outlets),
        "--seed",
        str(args.seed),
    ]
    if args.digest_dir:
        common += ["--dir", args.digest_dir]
    script = str(HERE / "digestdb.py")

    def call(command: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, script, command, *common], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"digestdb {command} failed:\n{done.stderr[-3000:]}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    built = call("build")
    timed = call("time")
    articles = f"{built['articles']:,} stored"
    label = f"day {timed['day']}"
    cli = Row(
        "digest of one day, `monitor digest --date` (process)",
        label,
        articles,
        timed["cli_seconds"],
        target=f"< {DIGEST_TARGET:g} s",
        result=verdict(timed["cli_seconds"] < DIGEST_TARGET and timed["cli_returncode"] == 0),
    )
    how = "reused" if built["reused"] else f"built in {built['build_seconds']:.0f} s"
    cli.notes.append(
        f"database of {built['bytes'] / 2**30:.1f} GiB ({how}), {built['tagged']:,} tagged over "
        f"{built['days']} days; {timed['tagged_that_day']} tagged that day, "
        f"{timed['tagged_7_days']} in the 7 days of the Atom feed; {timed['stories']} stories"
    )
    if timed["cli_returncode"] != 0:
        cli.notes.append(f"exit {timed['cli_returncode']}: {timed.get('cli_error', '')[-300:]}")
    inproc = Row(
        "digest of one day, app.write_digest (in process)",
        label,
        articles,
        timed["write_digest_seconds"],
        target=f"< {DIGEST_TARGET:g} s",
        result=verdict(timed["write_digest_seconds"] < DIGEST_TARGET),
    )
    inproc.notes.append(
        "steps: " + "; ".join(f"{name} {sec:.2f} s" for name, sec in timed["steps"].items())
    )
    rows += [cli, inproc]
    progress(cli)
    progress(inproc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument(
        "--latency", default="0,100", help="milliseconds per response, comma-separated (0,100)"
    )
    parser.add_argument("--naive-sample", type=int, default=10, help="outlets the naive runs")
    parser.add_argument(
        "--repeat", type=int, default=2, help="cold cycles per row, the fastest counts (2)"
    )
    parser.add_argument("--big-outlets", type=int, default=1000)
    parser.add_argument("--big-items", type=int, default=20)
    parser.add_argument("--big-latency", type=float, default=0.0, help="ms (default 0)")
    parser.add_argument(
        "--fill-batch", type=int, default=100, help="outlets per filling cycle (estimate)"
    )
    parser.add_argument(
        "--big-cold",
        choices=("estimate", "measure"),
        default="estimate",
        help="the big web's cold cycle: scaled from the main one (estimate) or run (measure)",
    )
    parser.add_argument("--digest-articles", type=int, default=1_000_000)
    parser.add_argument("--digest-days", type=int, default=365)
    parser.add_argument("--digest-dir", help="where the digest database is kept (reused)")
    parser.add_argument(
        "--fast-fetch-row",
        choices=("auto", "always", "never"),
        default="auto",
        help="also a cold cycle with host_interval 0s: when the default misses (auto)",
    )
    parser.add_argument("--skip", default="", help="comma-separated: naive,big,digest")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="10 x 5, 50 big outlets, 20,000 "
                        "articles for the digest: a smoke run")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.outlets, args.items, args.naive_sample, args.repeat = 10, 5, 2, 1
        args.big_outlets, args.big_items = 50, 5
        args.digest_articles, args.digest_days = 20_000, 30
    args.latency = [float(x) for x in args.latency.split(",") if x.strip()]
    args.skip = {x.strip() for x in args.skip.split(",") if x.strip()}

    work = Path(tempfile.mkdtemp(prefix="newsweb-bench-"))
    rows: list[Row] = []
    colds: dict[float, CycleRun] = {}
    started = time.perf_counter()
    print(
        f"{args.outlets} outlets x {args.items} items, latency {args.latency} ms; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; work folder {work}\n"
        f"monitor code: {code_version()}",
        flush=True,
    )
    code = code_version()
    try:
        with NewsWeb(args.outlets, args.items, seed=args.seed) as web:
            result = run_ceiling(web.page_urls())
            pages = result["pages"]
            ceiling = Ceiling(
                pages / result["seconds"],
                result["extract_cpu_seconds"],
                pages / result["own_seconds"],
                result["own_cpu_seconds"],
            )
            workers = result["workers"]
            for row in (
                extraction_row(
                    f"ceiling: trafilatura.extract x {workers} processes, pages in memory",
                    result, "", ceiling.rate,
                ),
                extraction_row(
                    f"own extraction alone: extract_page x {workers} processes",
                    result, "own_", ceiling.rate,
                ),
            ):  # fmt: skip
                rows.append(row)
                progress(row)
            cycle_scenarios(args, web, work, ceiling, rows, colds)
        if "big" not in args.skip:
            big_scenario(args, work, rows, colds)
        if "digest" not in args.skip:
            digest_scenario(args, rows)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(rows))
    print(f"\nall scenarios in {time.perf_counter() - started:.0f} s; monitor code: {code}")
    if code_version() != code:
        print(f"WARNING: the monitor's code changed during the run (now {code_version()})")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
    return 0 if all(r.result != "FAIL" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
