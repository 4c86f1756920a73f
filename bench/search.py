"""Benchmark: search at a million transcript segments.

Builds a catalogue through the library API (the stores a sync uses: feeds, items, transcripts) with
realistic text: words drawn with the frequencies of real transcripts and feeds (../shared/corpus:
the speech references and the English feed documents), numbers in digits and in words, names, and
some passages in German, Portuguese, Hindi and Chinese (from the corpus feeds). Then prints, in
one run:

  - index build rate (segments/s through the library) against a raw FTS5 executemany of the same
    segment texts into a plain FTS5 table;
  - for each query shape, with and without filters: in-process p50 and p99 (ms) of
    catalog.storage.search.search_items (what the CLI runs) and, side by side, of sqlite-utils'
    table.search() defaults and of a naive JOIN + ORDER BY bm25 over the same rows (both on an
    FTS5 table made by sqlite-utils' enable_fts), with the ratios;
  - the `catalog search` command's wall time p50 (start-up included).

    python bench/search.py                      # 1M segments (builds for a few minutes, ~1.5 GB)
    python bench/search.py --segments 100000    # quicker
    python bench/search.py --db /tmp/s.db --keep  # build once, re-run queries against the same file
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too

from catalog.models import Entry, Transcript, TranscriptSegment, Word  # noqa: E402
from catalog.sources.feed_parser import parse_feed  # noqa: E402
from catalog.storage import driver  # noqa: E402
from catalog.storage import feeds as feed_store  # noqa: E402
from catalog.storage import items as item_store  # noqa: E402
from catalog.storage import transcripts as transcript_store  # noqa: E402
from catalog.storage.database import connect, write  # noqa: E402
from catalog.storage.search import search_items  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
SEGMENTS_PER_EPISODE = 400  # a 45-minute episode as Whisper segments it
FEEDS = 20
NUMBER_WORDS = ["ten", "twenty", "three", "hundred", "2024", "10", "300", "fifteen", "1990", "seven"]
NAMES = ["Anatol Lieven", "Robert Wright", "Zelensky", "Kyiv", "Crimea", "Odesa", "Brussels", "NATO", "Macron"]


def vocabulary() -> tuple[list[str], list[int], dict[str, list[str]]]:
    """English words with their counts in real transcripts and feeds; foreign passages by language."""
    counts: Counter[str] = Counter()
    speech = CORPUS / "speech" / "manifest.csv"
    for row in csv.DictReader(speech.open(encoding="utf-8")):
        counts.update(re.findall(r"[a-z']+", row["reference_text"].lower()))
    foreign: dict[str, list[str]] = {"de": [], "pt": [], "hi": [], "zh": []}
    sources = {
        "article/guardian.rss": "en",
        "article/daring_fireball.atom": "en",
        "podcast/accidental_tech_podcast.rss": "en",
        "podcast/joe_rogan_libsyn.xml": "en",
        "article/heise_developer_de.atom": "de",
        "article/jornal_de_noticias_iso8859-1.rss": "pt",
        "article/news18_hindi.xml": "hi",
        "article/kc0011_gb2312.rss": "zh",
    }
    for name, language in sources.items():
        path = CORPUS / "feeds" / name
        if not path.exists():
            continue
        for entry in parse_feed(path.read_bytes(), url=path.as_uri()).entries:
            text = f"{entry.title or ''} {entry.body}"
            if language == "en":
                counts.update(re.findall(r"[a-z']+", text.lower()))
            else:
                foreign[language] += [s.strip() for s in re.split(r"[.!?。：\n]", text) if len(s.strip()) > 10]
    words = [w for w, c in counts.items() if c >= 1 and len(w) > 0]
    return words, [counts[w] for w in words], foreign


class Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words, weights, self.foreign = vocabulary()
        self.cum = list(__import__("itertools").accumulate(weights))

    def sentence(self, n: int) -> str:
        picked = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        if self.rng.random() < 0.15:
            picked[self.rng.randrange(n)] = self.rng.choice(NUMBER_WORDS)
        if self.rng.random() < 0.15:
            picked[self.rng.randrange(n)] = self.rng.choice(NAMES)
        return " ".join(picked).capitalize() + "."

    def episode(self, segments: int, language: str) -> Transcript:
        out, at = [], 0.0
        for _ in range(segments):
            if language != "en" and self.foreign.get(language):
                text = self.rng.choice(self.foreign[language])
            else:
                text = self.sentence(self.rng.randint(8, 22))
            words, t = [], at
            for word in text.split():
                words.append(Word(round(t, 2), round(t + 0.3, 2), word))
                t += 0.35
            out.append(TranscriptSegment(at, t, text, None, words))
            at = t + 0.5
        return Transcript(out, source="whisper", model="tiny.en", language=language, duration=at)


def build(path: Path, segments: int, seed: int) -> tuple[float, float, list[str], int]:
    """(seconds writing through the library, seconds of raw FTS5 executemany of the same texts, texts sample)."""
    writer = Writer(seed)
    db = connect(path)
    episodes = max(1, segments // SEGMENTS_PER_EPISODE)
    start_day = date(2024, 1, 1)
    languages = ["en"] * 17 + ["de", "pt", "hi", "zh"]
    spent = 0.0
    texts: list[str] = []
    feed_ids = []
    with write(db):
        for f in range(FEEDS):
            feed_ids.append(feed_store.ensure_feed(db, f"show{f}", f"https://example.org/{f}.xml", "podcast")["id"])
    for e in range(episodes):
        feed = e % FEEDS
        language = languages[feed % len(languages)]
        published = (start_day + timedelta(days=e * 700 // episodes)).isoformat() + "T09:00:00+00:00"
        entry = Entry(
            guid=f"ep{e}",
            kind="podcast" if feed % 4 else "video",
            title=writer.sentence(6),
            published=published,
            body=writer.sentence(40),
            enclosure_url=f"https://example.org/{feed}/{e}.mp3",
            enclosure_type="audio/mpeg",
            language=language,
        )
        transcript = writer.episode(SEGMENTS_PER_EPISODE, language)
        texts += [s.text for s in transcript.segments]
        began = time.perf_counter()
        with write(db):
            item_store.save_entries(db, feed_ids[feed], [entry])
            item_id = db.execute("SELECT id FROM items WHERE guid = ?", [entry.guid]).fetchone()[0]
            transcript_store.save_transcript(db, item_id, transcript)
        spent += time.perf_counter() - began
        if e % 500 == 0:
            print(f"  built {e * SEGMENTS_PER_EPISODE:,} segments ({spent:.0f} s)", file=sys.stderr)
    db.conn.close()
    raw_seconds = raw_build(path.with_name("raw-fts.db"), texts)
    return spent, raw_seconds, texts[:2000], len(texts)


def raw_build(path: Path, texts: list[str]) -> float:
    """The same segment rows (text and word times) with executemany into a table and a plain FTS5
    index over their text, one transaction per episode as a sync writes them: what v1 did."""
    raw = driver.sqlite.connect(str(path), isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = NORMAL")
    raw.executescript(
        """CREATE TABLE rows (id INTEGER PRIMARY KEY, item_id INTEGER, seq INTEGER, start REAL, "end" REAL,
                              text TEXT, words TEXT);
           CREATE VIRTUAL TABLE rows_fts USING fts5(text, content='rows', content_rowid='id');
           CREATE TRIGGER rows_ai AFTER INSERT ON rows BEGIN
               INSERT INTO rows_fts(rowid, text) VALUES (new.id, new.text);
           END;"""
    )
    began = time.perf_counter()
    for e in range(0, len(texts), SEGMENTS_PER_EPISODE):
        batch = texts[e : e + SEGMENTS_PER_EPISODE]
        rows = []
        for seq, text in enumerate(batch):
            words = [[round(n * 0.35, 2), round(n * 0.35 + 0.3, 2), w] for n, w in enumerate(text.split())]
            rows.append((e, seq, seq * 8.0, seq * 8.0 + 7.5, text, json.dumps(words)))
        raw.execute("BEGIN")
        raw.executemany('INSERT INTO rows (item_id, seq, start, "end", text, words) VALUES (?, ?, ?, ?, ?, ?)', rows)
        raw.execute("COMMIT")
    seconds = time.perf_counter() - began
    raw.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return seconds


QUERIES = {
    # shape: (query, filters)
    "rare word": ("{rare}", {}),
    "word": ("{mid}", {}),
    "two words": ("{mid} {mid2}", {}),
    "phrase": ('"{pair}"', {}),
    "prefix": ("{prefix}*", {}),
    "exclusion": ("{mid} -{mid2}", {}),
    "OR": ("{rare} OR {mid}", {}),
    "number": ("ten", {}),
    "name": ('"Anatol Lieven"', {}),
    "German": ("{de}", {}),
    "Chinese": ("{zh}", {}),
    "very common (the)": ("the", {}),
    "word --feed": ("{mid}", {"feed": "show3"}),
    "word --kind video": ("{mid}", {"kind": "video"}),
    "word --since": ("{mid}", {"since": date(2025, 6, 1)}),
    "the --feed": ("the", {"feed": "show3"}),
}


def pick(writer_words: list[str], texts: list[str], rng: random.Random) -> dict[str, str]:
    counts = Counter(w.lower().strip(".,") for t in texts for w in t.split())
    ranked = [w for w, _c in counts.most_common() if w.isalpha() and len(w) > 3]
    mid = ranked[len(ranked) // 20 : len(ranked) // 5] or ranked
    rare = ranked[len(ranked) // 2 :] or ranked
    text = rng.choice([t for t in texts if len(t.split()) > 4])
    words = [w.strip(".,").lower() for w in text.split()]
    i = rng.randrange(len(words) - 1)
    return {
        "rare": rng.choice(rare),
        "mid": rng.choice(mid),
        "mid2": rng.choice(mid),
        "pair": f"{words[i]} {words[i + 1]}",
        "prefix": rng.choice(mid)[:5],
        "de": rng.choice(["Version", "Entwickler", "verfügbar", "Anwendung"]),
        "zh": rng.choice(["纪念", "包邮", "品相"]),
    }


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="runs of each query shape (different words)")
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument("--db", type=Path, help="catalogue file to build (or reuse with --keep)")
    parser.add_argument("--keep", action="store_true", help="reuse --db if it exists, and keep it")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.db"
    rng = random.Random(args.seed)
    if args.keep and path.exists():
        print(f"reusing {path}")
        conn = driver.sqlite.connect(str(path))
        texts = [r[0] for r in conn.execute("SELECT text FROM passages WHERE kind = 'segment' LIMIT 2000")]
        total = conn.execute("SELECT COUNT(*) FROM passages WHERE kind = 'segment'").fetchone()[0]
        conn.close()
        built = raw_seconds = None
    else:
        if path.exists():
            path.unlink()
        built, raw_seconds, texts, total = build(path, args.segments, args.seed)
    print(f"{total:,} transcript segments in {path} ({path.stat().st_size / 1e6:.0f} MB)")
    if built is not None and raw_seconds is not None:
        print(
            f"index build: {total / built:,.0f} segments/s through the library ({built:.1f} s); the same rows by raw "
            f"executemany into a plain FTS5 index {total / raw_seconds:,.0f}/s ({raw_seconds:.1f} s); "
            f"ratio {raw_seconds / built:.2f}x"
        )

    # the comparisons: sqlite-utils' own FTS over the same passages
    import sqlite_utils

    plain = sqlite_utils.Database(driver.connect(path))
    if "passages_fts" not in plain.table_names():
        began = time.perf_counter()
        plain["passages"].enable_fts(["text"], create_triggers=False)
        print(f"(sqlite-utils enable_fts for the comparisons: {time.perf_counter() - began:.1f} s)")
    from catalog.storage.reader import open_reader

    db = open_reader(path)
    search_items(db, "warm", limit=20)  # the process's first search loads the stemmers: not a query's cost
    head = f"{'shape':<20} {'ours p50':>9} {'p99':>8} | {'sqlite-utils':>12} {'p99':>8} | {'naive':>8} {'p99':>8}"
    print(f"\n(ms) {head} | ratios")
    for shape, (template, filters) in QUERIES.items():
        ours, theirs, naive = [], [], []
        for _ in range(args.repeat):
            query = template.format(**pick([], texts, rng))
            began = time.perf_counter()
            search_items(db, query, limit=20, **filters)  # type: ignore[arg-type]
            ours.append((time.perf_counter() - began) * 1000)
            plain_query = " ".join(f'"{w}"' for w in re.findall(r"\w+", query) if w != "OR")
            began = time.perf_counter()
            list(plain["passages"].search(plain_query, limit=20))
            theirs.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            naive_sql(plain, plain_query, filters)
            naive.append((time.perf_counter() - began) * 1000)
        p50, p99 = statistics.median(ours), percentile(ours, 0.99)
        t50, n50 = statistics.median(theirs), statistics.median(naive)
        print(
            f"     {shape:<20} {p50:9.1f} {p99:8.1f} | {t50:12.1f} {percentile(theirs, 0.99):8.1f} | "
            f"{n50:8.1f} {percentile(naive, 0.99):8.1f} | sqlite-utils/ours {t50 / p50:5.1f}x, "
            f"naive/ours {n50 / p50:5.1f}x"
        )
    print(f"\n`catalog search` wall time, {args.cli_runs} runs each (start-up included):")
    for shape in ("rare word", "phrase", "word --feed", "very common (the)"):
        template, filters = QUERIES[shape]
        walls = []
        for _ in range(args.cli_runs):
            query = template.format(**pick([], texts, rng))
            extra = [f"--{k}={v}" for k, v in filters.items()]
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "catalog", "--db", str(path), "search", query, *extra],
                capture_output=True,
                check=True,
            )
            walls.append(time.perf_counter() - began)
        print(f"  {shape:<20} p50 {statistics.median(walls):.3f} s   max {max(walls):.3f} s")
    if args.keep:
        print(f"kept {path}")


def naive_sql(db: object, query: str, filters: dict[str, object]) -> list[tuple[object, ...]]:
    """v1's way: join everything, filter, then order every match by bm25."""
    where, params = ["passages_fts MATCH ?"], [query]
    if "feed" in filters:
        where.append("f.name = ?")
        params.append(str(filters["feed"]))
    if "kind" in filters:
        where.append("i.kind = ?")
        params.append(str(filters["kind"]))
    if "since" in filters:
        where.append("i.published >= ?")
        params.append(str(filters["since"]))
    sql = f"""SELECT p.item_id, i.title, f.name, p.start, snippet(passages_fts, 0, '<b>', '</b>', '…', 20)
              FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid JOIN items i ON i.id = p.item_id
              JOIN feeds f ON f.id = i.feed_id WHERE {" AND ".join(where)} ORDER BY bm25(passages_fts) LIMIT 20"""
    return list(db.execute(sql, params).fetchall())  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
