"""Benchmark: fuzz the feed normaliser and the query language with generated input, 10,000 cases each.

The strategies and properties are catalog.testing.fuzz_strategies (tests/test_fuzz.py runs the same
ones, a few hundred cases). Three targets:

  feeds:  parse_feed on RSS/Atom-shaped documents (random elements, attributes and text with control
          characters, entities, CDATA, invalid UTF-8, BOMs, declared encodings that lie, huge and empty
          values, nesting) and on pure random bytes: only FeedParseError may escape, and the output is
          bounded (entries <= item/entry tags; every string field <= 5 x the input's bytes + 100);
  queries: parse_query and Query.match: only SearchQueryError, and the MATCH expression is linear in
          the query (<= 256 characters per query character + 1,000);
  search: catalog.storage.search.search, plain and --raw, on a small real catalogue: no
          sqlite3.OperationalError (or anything else but SearchQueryError) reaches the caller.

A failing case does not stop a target: Hypothesis shrinks it to a minimal input, the failure is
noted (by exception type and the line that raised it), and generation goes on with that failure
set aside until the target has run its cases. Prints, per target: cases run (shrinking included),
distinct failures with their minimal input, time and rate, and the largest outputs seen.

Needs hypothesis (a dev dependency: pip install -e '.[dev]').

    python bench/fuzz.py                    # 10,000 cases per target (a few minutes)
    python bench/fuzz.py --cases 1000 --only feeds
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from catalog.testing import fuzz_strategies as fuzz  # noqa: E402

MAX_ROUNDS = 20  # a target with more distinct failures than this is reported as it stands


@dataclass
class Failure:
    kind: str
    where: str
    message: str
    minimal: Any
    seen: int = 1


@dataclass
class Result:
    cases: int = 0
    seconds: float = 0.0
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)


def signature(exc: BaseException) -> tuple[str, str]:
    """What tells two failures apart: the exception type and the line of ours (or a library's) that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f"{Path(last.filename).name}:{last.lineno} ({last.name})" if last else "?"
    if isinstance(exc, AssertionError):  # a property: the check that failed, not the assert's line
        where = f"property: {str(exc).split(' ')[0:3]}"
    return type(exc).__name__, where


def fuzz_target(strategy: st.SearchStrategy[Any], check: Callable[[Any], None], cases: int) -> Result:
    result = Result()
    started = time.perf_counter()
    last_failing: dict[tuple[str, str], Any] = {}
    for round_ in range(MAX_ROUNDS):
        budget = cases - result.cases
        if budget <= 0:
            break

        @settings(
            max_examples=budget,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
        )
        @seed(round_)
        @given(strategy)
        def run(value: Any) -> None:
            result.cases += 1
            try:
                check(value)
            except Exception as exc:
                sig = signature(exc)
                if sig in result.failures:
                    result.failures[sig].seen += 1
                    return  # known: set aside, keep looking for others
                last_failing[sig] = value  # Hypothesis replays the minimal example last
                raise

        try:
            run()
            break
        except Exception as exc:
            sig = signature(exc)
            message = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            result.failures[sig] = Failure(sig[0], sig[1], message, last_failing.get(sig))
    result.seconds = time.perf_counter() - started
    return result


def report(name: str, result: Result, sizes: fuzz.Sizes) -> None:
    rate = result.cases / result.seconds if result.seconds else 0.0
    print(f"\n== {name}: {result.cases} cases in {result.seconds:.1f} s ({rate:.0f}/s), "
          f"{len(result.failures)} distinct failure(s)")  # fmt: skip
    print("   outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(sizes.outcomes.items())))
    for failure in result.failures.values():
        shown = repr(failure.minimal)
        shown = shown if len(shown) <= 400 else shown[:400] + f"... ({len(shown)} chars)"
        print(f"   FAIL {failure.message}\n        at {failure.where}; seen {failure.seen}x; minimal input: {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="cases per target (default 10000)")
    parser.add_argument("--only", choices=["feeds", "queries", "search"], action="append", help="run only these")
    args = parser.parse_args()
    targets = args.only or ["feeds", "queries", "search"]
    started = time.perf_counter()
    failures = 0
    if "feeds" in targets:
        sizes = fuzz.Sizes()
        result = fuzz_target(fuzz.feed_inputs, lambda data: fuzz.check_feed(data, sizes), args.cases)
        report("feeds (parse_feed)", result, sizes)
        bound = f"{fuzz.FIELD_FACTOR}x + {fuzz.FIELD_SLACK}"
        print(f"   largest: {sizes.entries} entries from one document; longest string field "
              f"{sizes.field_ratio:.2f}x the input's bytes (bound: {bound})")  # fmt: skip
        failures += len(result.failures)
    if "queries" in targets:
        sizes = fuzz.Sizes()
        result = fuzz_target(fuzz.queries, lambda text: fuzz.check_query(text, sizes), args.cases)
        report("queries (parse_query, Query.match)", result, sizes)
        print(f"   largest MATCH expression: {sizes.match_chars} chars; most per query char: "
              f"{sizes.match_per_char:.0f} for {sizes.match_query!r} "
              f"(bound: {fuzz.MATCH_PER_CHAR} x len + {fuzz.MATCH_SLACK})")  # fmt: skip
        failures += len(result.failures)
    if "search" in targets:
        sizes = fuzz.Sizes()
        db = fuzz.small_catalogue()
        try:
            result = fuzz_target(fuzz.queries, lambda text: fuzz.check_search(db, text, sizes), args.cases)
        finally:
            db.close()
        report("search (plain and --raw, on a 5-item catalogue)", result, sizes)
        failures += len(result.failures)
    print(f"\ntotal: {failures} distinct failure(s), {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
