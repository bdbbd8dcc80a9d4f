#!/usr/bin/env python
"""The message check judged on its evaluation set (tests/data/check/).

    python bench/eval_check.py                # all three sets, SQLite
    python bench/eval_check.py --db postgres  # the same against PostgreSQL
    python bench/eval_check.py --half heldout --misses 0
    make eval-check

A fresh database (bench/out/eval-check.sqlite3, or the PostgreSQL database
`eval_check` on PG_URL's server) is migrated and the evaluation directory is
loaded with `import_agencies`, as an operator loads data. Then every message
of each half is read by agencies.check.reading.read() and compared with its
labels (agencies.check.evaluation): precision and recall per signal and
overall, the clean messages that raised an alarm, the phone numbers, credit
codes and agencies found, and every message read wrong.

Also prints the check's in-process latency over the whole set (p50/p95 per
message) — the issue's budget is p95 ≤ 10 ms for messages up to 1,000
characters.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HALF_NAMES = ("tuning", "heldout", "fresh", "unseen")  # agencies.check.evaluation.HALVES


def setup_django(db: str) -> None:
    """A fresh database (bench/run.py's setup) holding the evaluation directory,
    loaded with `import_agencies` as an operator loads data."""
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ["PORTAL_PAGE_CACHE"] = "0"
    from run import setup_django as fresh_database

    fresh_database(db, reuse=False, name="eval_check")
    from django.core.management import call_command

    from agencies.check.evaluation import DATA

    call_command("import_agencies", str(DATA / "directory.jsonl"), verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--half", choices=(*HALF_NAMES, "all"), default="all")
    parser.add_argument("--misses", type=int, default=1000, help="messages read wrong to list")
    args = parser.parse_args()
    setup_django(args.db)

    from agencies.check import evaluation, reading

    halves = evaluation.HALVES if args.half == "all" else (args.half,)
    timings = []

    def timed_read(text):
        started = time.perf_counter()
        result = reading.read(text)
        timings.append((len(text), time.perf_counter() - started))
        return result

    for half in halves:
        result = evaluation.score(evaluation.load(half), timed_read)
        print(evaluation.report(half, result, args.misses))
        print()
    upto_1000 = sorted(seconds for length, seconds in timings if length <= 1000)
    if upto_1000:
        p95 = upto_1000[int(0.95 * (len(upto_1000) - 1))]
        print(
            f"latency ({args.db}, messages ≤ 1,000 characters, n={len(upto_1000)}): "
            f"p50 {statistics.median(upto_1000) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
