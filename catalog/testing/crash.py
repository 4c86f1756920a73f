"""kill -9 a real `catalog sync` at random moments, then let it finish and check that nothing
was lost, duplicated or half-written. Used by tests/test_crash.py and bench/crash.py."""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.storage import driver
from catalog.testing.localserver import LocalServer

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Crash test podcast</title><language>en</language>
{items}
</channel></rss>"""
ITEM = """<item><title>Episode {n}</title><guid>crash-{n}</guid>
<pubDate>Mon, {day:02d} Jan 2026 10:00:00 GMT</pubDate>
<enclosure url="media/ep{n}{ext}" type="{mime}" length="{size}"/></item>"""


@dataclass
class CrashResult:
    kills: int = 0
    runs: int = 0
    finished_early: int = 0
    kill_times: list[float] = field(default_factory=list)
    after_kill: list[str] = field(default_factory=list)  # the queue as each kill left it
    problems: list[str] = field(default_factory=list)


def build_site(samples: Path, root: Path, episodes: int) -> None:
    """A feed of `episodes` items whose enclosures are copies of the sample clips."""
    (root / "media").mkdir(parents=True, exist_ok=True)
    sources = [("nonzero-ep1.mp3", ".mp3", "audio/mpeg"), ("nonzero-ep2.m4a", ".m4a", "audio/mp4")]
    items = []
    for n in range(1, episodes + 1):
        name, ext, mime = sources[n % len(sources)]
        target = root / "media" / f"ep{n}{ext}"
        if not target.exists():
            shutil.copy(samples / "media" / name, target)
        items.append(ITEM.format(n=n, day=n % 28 + 1, ext=ext, mime=mime, size=target.stat().st_size))
    (root / "podcast.xml").write_text(FEED.format(items="\n".join(items)))


def run_with_kills(
    config: Path, kills: int, *, seed: int, window: tuple[float, float], grow: Callable[[int], None]
) -> CrashResult:
    """`grow(run)` is called before each run: the feed gains an episode, so every run has work."""
    rng = random.Random(seed)
    result = CrashResult()
    command = [sys.executable, "-m", "catalog", "--config", str(config), "sync"]
    run = 0
    while result.kills < kills and run < kills * 3:  # count only runs really killed mid-way
        grow(run)
        run += 1
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = rng.uniform(*window)
        try:
            proc.wait(timeout=delay)
            result.finished_early += 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            result.kills += 1
            result.kill_times.append(round(delay, 2))
            result.after_kill.append(_queue_state(config))
    result.runs = run
    return result


def _queue_state(config: Path) -> str:
    db = config.parent / "catalog.db"
    states = ""
    if db.exists():
        with driver.sqlite.connect(db) as conn:
            counts = conn.execute("SELECT state, COUNT(*) FROM media GROUP BY state ORDER BY state").fetchall()
            states = " ".join(f"{state}={n}" for state, n in counts)
    parts = len(list((config.parent / "media").rglob("*.part")))
    return (states or "no catalogue yet") + (f" +{parts} .part" if parts else "")


def verify(config: Path, episodes: int, result: CrashResult) -> None:
    """Run to completion, then check the catalogue and the media folder."""
    final = subprocess.run(
        [sys.executable, "-m", "catalog", "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if final.returncode != 0:
        result.problems.append(f"final sync exited {final.returncode}: {final.stderr}")
    db = config.parent / "catalog.db"
    with driver.sqlite.connect(db) as conn:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            result.problems.append("integrity_check failed")
        guids = [row[0] for row in conn.execute("SELECT guid FROM items")]
        if sorted(guids) != sorted(f"crash-{n}" for n in range(1, episodes + 1)):
            result.problems.append(f"items are not each present exactly once: {sorted(guids)}")
        rows = conn.execute(
            """SELECT i.guid, m.state, m.path, m.sha256, m.bytes, t.segments,
                      (SELECT COUNT(*) FROM passages p WHERE p.item_id = i.id AND p.kind = 'segment'),
                      (SELECT COUNT(*) FROM search_index WHERE search_index MATCH 'episode OR war OR podcast'
                       AND rowid IN (SELECT id FROM passages WHERE item_id = i.id))
               FROM items i JOIN media m ON m.item_id = i.id LEFT JOIN transcripts t ON t.item_id = i.id"""
        ).fetchall()
        # FTS5's own check that the index matches its content table; raises if not.
        conn.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
    for guid, state, path, sha, size, segments, passages, indexed in rows:
        if state != "indexed" or not segments or passages != segments:
            result.problems.append(f"{guid}: state {state}, {segments} segments, {passages} passages")
        if not indexed:
            result.problems.append(f"{guid}: transcript not in the search index")
        data = Path(path).read_bytes() if path and Path(path).exists() else b""
        if hashlib.sha256(data).hexdigest() != sha or len(data) != size:
            result.problems.append(f"{guid}: stored file does not match its recorded sha256/size")
    leftovers = [str(p) for p in (config.parent / "media").rglob("*.part")]
    if leftovers:
        result.problems.append(f".part files remain: {leftovers}")


def crash_test(
    samples: Path,
    workdir: Path,
    *,
    episodes: int,
    kills: int,
    seed: int,
    window: tuple[float, float] = (0.2, 2.0),
    throttle: int = 150_000,
) -> CrashResult:
    site = workdir / "site"
    build_site(samples, site, episodes)
    server = LocalServer(site).start()
    server.throttle = throttle
    try:
        config = workdir / "feeds.yaml"
        config.write_text(f"timeout_seconds: 10\nfeeds:\n  - name: crash\n    url: {server.url('podcast.xml')}\n")
        result = run_with_kills(
            config, kills, seed=seed, window=window, grow=lambda run: build_site(samples, site, episodes + run)
        )
        verify(config, episodes + result.runs - 1, result)
    finally:
        server.stop()
    return result
