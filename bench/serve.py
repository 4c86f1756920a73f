"""Benchmark: the search page of `catalog serve` on the 1M-segment catalogue of bench/search.py.

Starts the real server (`catalog serve` on 127.0.0.1 and a free port) over the catalogue, then prints:

  - server time of a search page: request to last byte over loopback, one at a time, p50 and p95 (ms),
    for each query shape of bench/search.py (words picked from the catalogue), the whole page rendered;
  - time in the browser: Debian's Chromium (Playwright) loading the same pages, navigation start to the
    load event, p50 and p95;
  - sustained throughput: searches per second with N concurrent clients over --seconds (30 s), and the
    p95 under that load.

Goal: a search page under 300 ms server time at p95.

    python bench/search.py --db /tmp/search1m.db --keep   # build the catalogue once (minutes)
    python bench/serve.py --db /tmp/search1m.db
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too

from catalog.storage import driver  # noqa: E402
from catalog.testing.webserver import ServeProcess  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def queries(db: Path, rng: random.Random, per_shape: int) -> list[dict[str, str]]:
    """Search-page parameters: the query shapes of bench/search.py, words drawn from the catalogue."""
    with driver.connect(db, read_only=True) as conn:
        top = conn.execute("SELECT MAX(id) FROM passages").fetchone()[0]
        ids = sorted({rng.randint(1, top) for _ in range(3000)})
        marks = ",".join("?" for _ in ids)
        texts = [row[0] for row in conn.execute(f"SELECT text FROM passages WHERE id IN ({marks})", ids)]
        feed = conn.execute("SELECT name FROM feeds ORDER BY id LIMIT 1 OFFSET 3").fetchone()[0]
    counts = Counter(w.lower().strip(".,?!") for t in texts for w in t.split())
    ranked = [w for w, _c in counts.most_common() if w.isalpha() and len(w) > 3]
    mid, rare = ranked[len(ranked) // 20 : len(ranked) // 5], ranked[len(ranked) // 2 :]
    shapes = {
        "rare word": lambda: (rng.choice(rare), {}),
        "word": lambda: (rng.choice(mid), {}),
        "two words": lambda: (f"{rng.choice(mid)} {rng.choice(mid)}", {}),
        "prefix": lambda: (rng.choice(mid)[:5] + "*", {}),
        "exclusion": lambda: (f"{rng.choice(mid)} -{rng.choice(mid)}", {}),
        "number": lambda: ("ten", {}),
        "name": lambda: ('"Anatol Lieven"', {}),
        "very common (the)": lambda: ("the", {}),
        "word --feed": lambda: (rng.choice(mid), {"feed": feed}),
        "word --kind video": lambda: (rng.choice(mid), {"kind": "video"}),
        "word --since": lambda: (rng.choice(mid), {"since": "2025-06-01"}),
    }
    out = []
    for _round in range(per_shape):
        for make in shapes.values():
            q, filters = make()
            out.append({"q": q, "mode": "lexical", **filters})
    return out


def server_times(url: str, params: list[dict[str, str]]) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=60) as client:
        client.get("/", params=params[0])  # warm: the first connection, the first query
        for query in params:
            started = time.perf_counter()
            response = client.get("/", params=query)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (query, response.text[:300])
    return times


def browser_times(url: str, params: list[dict[str, str]]) -> list[float] | None:
    chromium = shutil.which("chromium")
    if not chromium:
        print("(no chromium on PATH: browser times skipped)")
        return None
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        for query in params:
            page.goto(str(httpx.URL(url, params=query)), wait_until="load")
            timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
            entry = json.loads(timing)
            times.append(entry["loadEventEnd"] - entry["startTime"])
        browser.close()
    return times


def throughput(url: str, params: list[dict[str, str]], clients: int, seconds: float) -> tuple[int, list[float], int]:
    """(searches answered, their times in ms, errors) with `clients` concurrent clients for `seconds`."""
    stop = time.monotonic() + seconds
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            n = offset
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = client.get("/", params=params[n % len(params)])
                took = (time.perf_counter() - started) * 1000
                with lock:
                    if response.status_code == 200:
                        times.append(took)
                    else:
                        errors[0] += 1
                n += clients

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(times), times, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/search1m.db"), help="catalogue (bench/search.py --keep)")
    parser.add_argument("--per-shape", type=int, default=10, help="queries of each shape for the latency figures")
    parser.add_argument("--browser-pages", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for the throughput run")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not args.db.is_file():
        sys.exit(f"no catalogue at {args.db}: build it with python bench/search.py --db {args.db} --keep")
    rng = random.Random(args.seed)
    params = queries(args.db, rng, args.per_shape)
    segments = (
        driver.connect(args.db, read_only=True)
        .execute("SELECT COUNT(*) FROM passages WHERE kind = 'segment'")
        .fetchone()[0]
    )
    print(f"catalogue: {args.db} ({segments:,} segments); {len(params)} searches, lexical")
    with tempfile.TemporaryDirectory() as cwd, ServeProcess(db=args.db, cwd=Path(cwd)) as server:
        times = server_times(server.url, params)
        print(
            f"server time (request to last byte, sequential): p50 {statistics.median(times):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms  (goal: p95 < 300 ms)"
        )
        by_shape: dict[str, list[float]] = {}
        shapes = len(params) // args.per_shape
        for i, took in enumerate(times):
            by_shape.setdefault(str(i % shapes), []).append(took)
        for key, values in by_shape.items():
            example = params[int(key)]
            label = example["q"] + "".join(f" --{k} {v}" for k, v in example.items() if k not in ("q", "mode"))
            print(f"  {label[:40]:<40} p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms")
        shown = browser_times(server.url, params[: args.browser_pages])
        if shown:
            print(
                f"in the browser (navigation start to load event): p50 {statistics.median(shown):.1f} ms, "
                f"p95 {percentile(shown, 0.95):.1f} ms"
            )
        done, loaded, errors = throughput(server.url, params, args.clients, args.seconds)
        print(
            f"sustained: {done / args.seconds:.1f} searches/s with {args.clients} concurrent clients over "
            f"{args.seconds:.0f} s (p50 {statistics.median(loaded):.1f} ms, p95 {percentile(loaded, 0.95):.1f} ms, "
            f"{errors} errors)"
        )


if __name__ == "__main__":
    main()
