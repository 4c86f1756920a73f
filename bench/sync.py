"""Benchmark: syncing many feeds' metadata, against the loop users write by hand.

Serves N generated feeds of M items (article-like: HTML bodies of a few paragraphs) from a local
HTTP server with ETag/Last-Modified, then times, in one run:
  (a) cold:  `catalog sync --no-media` on a new catalogue (a separate process: start-up counted)
  (b) warm:  the same again, nothing changed (every feed answers 304)
  (d) warm without validators: the server sends no ETag/Last-Modified (as many do), so every feed
      is a 200 with the same bytes as last time, which catalog recognises and does not parse
  (c) loop:  `for url in urls: feedparser.parse(url)`, sequential, in this process
and prints the ratios. Goals: warm under 2 s; cold at least 2x faster than the loop.

    python bench/sync.py [--feeds 500] [--items 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too


import feedparser  # noqa: E402

from catalog.testing.localserver import LocalServer  # noqa: E402

WORDS = [
    "ceasefire",
    "negotiations",
    "sanctions",
    "diplomacy",
    "security",
    "guarantees",
    "Ukraine",
    "Russia",
    "Europe",
    "NATO",
    "peacekeepers",
    "armistice",
    "front",
    "line",
    "grain",
    "exports",
    "energy",
    "winter",
    "talks",
    "envoy",
    "summit",
    "treaty",
    "analysts",
    "restraint",
    "escalation",
    "deterrence",
    "alliance",
    "budget",
    "aid",
    "weapons",
    "artillery",
    "drones",
]


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_feed(rng: random.Random, number: int, items: int) -> str:
    entries = []
    for i in range(items):
        body = "".join(f"<p>{paragraph(rng, 40)} <a href='https://example.org/{i}'>more</a></p>" for _ in range(3))
        entries.append(
            f"<item><title>Feed {number} story {i}: {paragraph(rng, 6)}</title>"
            f"<link>https://example.org/f{number}/{i}</link><guid>f{number}-{i}</guid>"
            f"<pubDate>Mon, {i % 28 + 1:02d} Sep 2026 10:{i % 60:02d}:00 GMT</pubDate>"
            f"<dc:creator>Author {i % 7}</dc:creator><description>{paragraph(rng, 25)}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Bench feed {number}</title><link>https://example.org/f{number}</link>"
        f"<language>en</language>{''.join(entries)}</channel></rss>"
    )


def timed_sync(config: Path) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "catalog", "--config", str(config), "sync", "--no-media", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"sync failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site = work / "site"
        site.mkdir()
        total = 0
        for number in range(args.feeds):
            data = make_feed(rng, number, args.items)
            (site / f"feed{number}.xml").write_text(data)
            total += len(data)
        server = LocalServer(site).start()
        urls = [server.url(f"feed{number}.xml") for number in range(args.feeds)]
        config = work / "feeds.yaml"
        config.write_text("feeds:\n" + "".join(f"  - {{name: f{n}, url: '{u}'}}\n" for n, u in enumerate(urls)))
        try:
            cold, cold_report = timed_sync(config)
            warm, warm_report = timed_sync(config)
            server.validators = False  # as many servers: no ETag/Last-Modified, so every feed is a 200
            bare, bare_report = timed_sync(config)
            server.validators = True
            started = time.perf_counter()
            parsed = [feedparser.parse(url) for url in urls]
            loop = time.perf_counter() - started
        finally:
            server.stop()
    entries = sum(len(p.entries) for p in parsed)
    assert cold_report["items_new"] == args.feeds * args.items, cold_report
    assert warm_report["feeds_unchanged"] == args.feeds, warm_report
    assert bare_report["feeds_unchanged"] == args.feeds and bare_report["items_updated"] == 0, bare_report
    print(f"{args.feeds} feeds x {args.items} items ({total / 1e6:.1f} MB of XML) on 127.0.0.1, {os.cpu_count()} CPUs")
    print(f"  (a) cold catalog sync --no-media : {cold:6.2f} s  ({cold_report['items_new']} items stored and indexed)")
    print(f"  (b) warm re-sync, all 304        : {warm:6.2f} s")
    print(f"  (d) warm re-sync, no validators  : {bare:6.2f} s  (every feed a 200; same bytes, so not parsed)")
    print(f"  (c) sequential feedparser.parse  : {loop:6.2f} s  ({entries} entries parsed, nothing stored)")
    print(f"  loop / cold = {loop / cold:5.1f}x   (goal >= 2x)")
    print(f"  loop / warm = {loop / warm:5.1f}x   (warm goal < 2 s)")
    print(f"  loop / warm without validators = {loop / bare:5.1f}x")


if __name__ == "__main__":
    main()
