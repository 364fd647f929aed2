"""``python -m monitor.demo``: serve the sample outlets on 127.0.0.1, run one cycle against them
into a temporary folder, and check the digest against the outlets' known answers."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor import cli
from monitor.demo import load_expected, serve_outlets, sources_yaml

TIMEZONE = "Asia/Baku"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.demo", description=__doc__)
    parser.add_argument("--dir", type=Path, help="work folder (default: a new temporary folder)")
    parser.add_argument("--serve", action="store_true",
                        help="keep serving the outlets after the cycle, until Ctrl-C")  # fmt: skip
    args = parser.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    server, outlets = serve_outlets(datetime.now(UTC), ZoneInfo(TIMEZONE))
    try:
        config = work / "sources.yaml"
        config.write_text(
            sources_yaml(
                outlets,
                server.base_url,
                work / "storage" / "monitor.db",
                work / "reports",
                TIMEZONE,
            ),
            encoding="utf-8",
        )
        print(f"demo: {len(outlets)} sample outlets served at {server.base_url}", flush=True)
        started = time.monotonic()
        status = cli.main(["--config", str(config), "run", "--all"])
        seconds = time.monotonic() - started
        if status != 0:
            print(f"demo: the cycle failed with exit status {status}", file=sys.stderr)
            return status
        ok = _check(work, server.base_url, len(outlets), seconds)
        print(f"demo: configuration, database and digest are in {work}")
        if args.serve:
            print(f"demo: serving until Ctrl-C; try: monitor --config {config} run --all")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if ok else 1
    finally:
        server.stop()


def _check(work: Path, base_url: str, sources: int, seconds: float) -> bool:
    """Compare the digest with the outlets' answers: every cooperation story in, nothing else,
    each with the countries that take part in it."""
    digests = sorted((work / "reports").glob("*.json"))
    digest = json.loads(digests[-1].read_text(encoding="utf-8"))
    # The same story in several languages is one entry with the others under "also".
    urls = [s["url"] for s in digest["stories"]] + [
        a["url"] for s in digest["stories"] for a in s["also"]
    ]
    found = {url.removeprefix(base_url + "/") for url in urls if url}
    expected = load_expected()
    missed = sorted(set(expected["cooperation"]) - found)
    leaked = sorted(found & set(expected["unrelated"]))
    items = sum(s["new_items"] for s in digest["sources"])
    print(
        f"demo: {sources} sources, {items} articles stored, {len(found)} stories tagged, shown as "
        f"{len(digest['stories'])} ({sum(len(s['also']) for s in digest['stories'])} grouped under also-in) "
        f"({len(expected['cooperation']) - len(missed)}/{len(expected['cooperation'])} cooperation "
        f"stories found, {len(leaked)} unrelated included), {seconds:.1f} s"
    )
    for path in missed:
        print(f"demo: MISSED cooperation story {path}", file=sys.stderr)
    for path in leaked:
        print(f"demo: WRONGLY TAGGED unrelated story {path}", file=sys.stderr)
    wrong = _wrong_countries(work, base_url, expected["cooperation"])
    for path, want, got in wrong:
        print(
            f"demo: WRONG COUNTRIES for {path}: expected {', '.join(want)}, got {', '.join(got)}",
            file=sys.stderr,
        )
    return not missed and not leaked and not wrong


def _wrong_countries(
    work: Path, base_url: str, expected: dict[str, list[str]]
) -> list[tuple[str, list[str], list[str]]]:
    """Tagged cooperation stories whose countries are not the expected ones (as sets); every
    version counts, also those the digest shows under "also"."""
    from monitor.store import Store

    with Store(f"sqlite:///{(work / 'storage' / 'monitor.db').resolve()}") as store:
        stored = store.tagged_between(datetime.min.replace(tzinfo=UTC), datetime.now(UTC))
    wrong = []
    for item in stored:
        path = item.article.url.removeprefix(base_url + "/")
        got = sorted(item.article.tagging.countries)
        if path in expected and got != sorted(expected[path]):
            wrong.append((path, sorted(expected[path]), got))
    return sorted(wrong)


if __name__ == "__main__":
    raise SystemExit(main())
