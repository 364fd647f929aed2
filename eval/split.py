"""Split labeled JSON Lines once into a dev part (tuned on) and a held-out part (only evaluated).

    python eval/split.py --out eval INCOMING/en.jsonl INCOMING/ru.jsonl ...
    python eval/split.py --grouping --out eval/grouping INCOMING/ga.jsonl INCOMING/gb.jsonl

Tagger lines are split per file, stratified by (label, borderline, case), so that each part holds
about half of every kind of story; grouping lines are split by ``family`` (look-alike events and
all their versions stay together). The shuffle is seeded: the same input gives the same split.
Files are written to OUT/dev/<name>.jsonl and OUT/heldout/<name>.jsonl, lines in input order.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 2026


def assign(keys: list[tuple[str, str]], seed: int = SEED) -> dict[str, str]:
    """``(id, stratum)`` pairs to ``id -> "dev" | "heldout"``: each stratum shuffled and dealt
    alternately, the alternation carried from one stratum to the next, so that every stratum
    and the whole are halved to within one line."""
    rng = random.Random(seed)
    strata: dict[str, list[str]] = defaultdict(list)
    for key, stratum in keys:
        strata[stratum].append(key)
    parts: dict[str, str] = {}
    turn = rng.randrange(2)
    for stratum in sorted(strata):
        members = sorted(strata[stratum])
        rng.shuffle(members)
        for key in members:
            parts[key] = ("dev", "heldout")[turn]
            turn = 1 - turn
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--grouping", action="store_true", help="split by family")
    parser.add_argument("--seed", type=int, default=SEED, help="a new round, a new shuffle")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.files:
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        if args.grouping:
            families = sorted({d["family"] for d in lines})
            by_family = assign([(f, "family") for f in families], args.seed)
            parts = {d["id"]: by_family[d["family"]] for d in lines}
        else:
            parts = assign(
                [
                    (d["id"], f"{d['label']}/{d.get('borderline', False)}/{d['case']}")
                    for d in lines
                ],
                args.seed,
            )
        for part in ("dev", "heldout"):
            target = args.out / part / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            chosen = [d for d in lines if parts[d["id"]] == part]
            target.write_text(
                "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in chosen), encoding="utf-8"
            )
            print(f"{target}: {len(chosen)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
