"""Vectors for search by meaning: which windows of text are embedded, and where their vectors live.

A window is what one vector stands for (migration 0009_passage_vectors):

    window     20-40 s of a transcript, cut at segment boundaries (passages first_id..last_id), from
               the start of its first segment
    paragraph  one paragraph of an article's text passage (char_start..char_end of it)
    title      an item's title (the head of its text passage)
    chapter    a chapter's title, at the chapter's start

Vectors are stored int8 (each scaled to its largest component; its norm kept beside it) in chunks
of CHUNK windows: a search reads a few hundred rows, not one per window, and scores them all at
once with numpy (cosine; exact over the int8 vectors). The model they came from is recorded in
`vector_model`; vectors from another model are never mixed in (`state`, `fill`, `reindex`).

sqlite-vec was the plan; the Python this runs on may lack `enable_load_extension` (pyenv's and
macOS's builds), so the vectors are scored in numpy. The float32 blob layout is sqlite-vec's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

if TYPE_CHECKING:
    from catalog.embedding import Vectors

from catalog.embedding import DIM, Embedder
from catalog.storage.clock import iso, utcnow
from catalog.storage.database import write
from catalog.storage.ranking import Filters
from catalog.storage.rows import Reader

CHUNK = 1024  # windows per stored chunk
WINDOW_MIN, WINDOW_TARGET, WINDOW_MAX = 20.0, 30.0, 40.0  # seconds of transcript per window
PARAGRAPH_MAX = 1500  # characters: a longer paragraph is cut at a sentence end
BATCH = 32  # passages embedded per call
GROUP = 512  # windows embedded per transaction (about 15 s of work)
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_SENTENCE = re.compile(r"(?<=[.!?。？！])\s+")


@dataclass
class Window:
    item_id: int
    source: str  # the kind of passage it comes from: text, segment, chapter
    part: str  # title, paragraph, window, chapter
    first_id: int
    last_id: int
    text: str
    char_start: int | None = None
    char_end: int | None = None
    start: float | None = None
    end: float | None = None


def segment_windows(item_id: int, rows: list[tuple[int, float, float | None, str]]) -> list[Window]:
    """Consecutive segments (id, start, end, text) cut into windows of WINDOW_MIN-WINDOW_MAX seconds."""
    out: list[Window] = []
    current: list[tuple[int, float, float | None, str]] = []

    def flush() -> None:
        if current:
            end = current[-1][2] if current[-1][2] is not None else current[-1][1]
            text = " ".join(row[3] for row in current)
            out.append(
                Window(item_id, "segment", "window", current[0][0], current[-1][0], text, start=current[0][1], end=end)
            )
            current.clear()

    for row in rows:
        if current:
            span = (row[2] if row[2] is not None else row[1]) - current[0][1]
            held = (current[-1][2] or current[-1][1]) - current[0][1]
            if span > WINDOW_MAX and held >= WINDOW_MIN:
                flush()
        current.append(row)
        if (row[2] if row[2] is not None else row[1]) - current[0][1] >= WINDOW_TARGET:
            flush()
    flush()
    return out


def text_windows(item_id: int, passage_id: int, title: str | None, text: str) -> list[Window]:
    """An item's text passage (its title, a blank line, its body) as its title and its paragraphs."""
    out: list[Window] = []
    at = 0
    if title and text.startswith(title):
        out.append(Window(item_id, "text", "title", passage_id, passage_id, title, 0, len(title)))
        at = len(title)
    for match in _pieces(text, at):
        start, end = match
        out.append(Window(item_id, "text", "paragraph", passage_id, passage_id, text[start:end], start, end))
    return out


def _pieces(text: str, at: int) -> Iterable[tuple[int, int]]:
    """(start, end) of each paragraph of text[at:], long ones cut at sentence ends."""
    starts = [at] + [m.end() for m in _PARAGRAPH.finditer(text, at)]
    ends = [m.start() for m in _PARAGRAPH.finditer(text, at)] + [len(text)]
    for start, end in zip(starts, ends, strict=True):
        while start < end and text[start].isspace():
            start += 1
        while end - start > PARAGRAPH_MAX:
            cut = start + PARAGRAPH_MAX
            sentence = max((m.end() for m in _SENTENCE.finditer(text, start, cut)), default=cut)
            yield start, sentence
            start = sentence
        if text[start:end].strip():
            yield start, end


def pending_windows(db: Reader, item_ids: Iterable[int] | None = None) -> list[Window]:
    """The windows of every passage without vectors (of `item_ids` only, when given)."""
    wanted = "" if item_ids is None else f"AND p.item_id IN ({','.join(str(int(i)) for i in item_ids) or 'NULL'})"
    missing = db.execute(
        f"""SELECT DISTINCT p.item_id, p.kind FROM passages p WHERE NOT EXISTS (
                SELECT 1 FROM vector_windows w WHERE w.item_id = p.item_id AND w.source = p.kind) {wanted}"""
    ).fetchall()
    out: list[Window] = []
    for item_id, kind in missing:
        rows = db.execute(
            'SELECT p.id, p.start, p."end", p.text, i.title FROM passages p JOIN items i ON i.id = p.item_id '
            "WHERE p.item_id = ? AND p.kind = ? ORDER BY p.seq, p.id",
            [item_id, kind],
        ).fetchall()
        if kind == "segment":
            out += segment_windows(item_id, [(pid, start or 0.0, end, text) for pid, start, end, text, _t in rows])
        elif kind == "chapter":
            out += [
                Window(item_id, "chapter", "chapter", pid, pid, text, start=start, end=end)
                for pid, start, end, text, _t in rows
            ]
        else:
            for pid, _start, _end, text, title in rows:
                out += text_windows(item_id, pid, title, text)
    return out


def recorded_model(db: Reader) -> str | None:
    row = db.execute("SELECT model FROM vector_model WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


def state(db: Reader, model: str) -> str:
    """'ready' (vectors of `model`), 'empty' (no vectors yet) or 'changed' (vectors of another model)."""
    recorded = recorded_model(db)
    if recorded is None or not db.execute("SELECT 1 FROM vector_windows LIMIT 1").fetchone():
        return "changed" if recorded not in (None, model) else "empty"
    return "ready" if recorded == model else "changed"


def fill(
    db: Database, embedder: Embedder, item_ids: Iterable[int] | None = None, *, deadline: float | None = None
) -> int:
    """Embed every window not yet embedded (of `item_ids` only, when given); how many were.

    Committed GROUP windows at a time, so a catalogue embedded for the first time (hours at a
    million segments) keeps what is done when interrupted and never holds the write lock for long;
    stops at `deadline` (time.monotonic()), the rest left for the next run. Nothing is added to
    vectors of another model: that takes `reindex`."""
    recorded = recorded_model(db)
    if recorded not in (None, embedder.model):
        return 0
    windows = pending_windows(db, item_ids)
    done = 0
    for at in range(0, len(windows), GROUP):
        if deadline is not None and time.monotonic() >= deadline:
            break
        group = windows[at : at + GROUP]
        vectors = np.concatenate(
            [embedder.passages([w.text for w in group[i : i + BATCH]]) for i in range(0, len(group), BATCH)]
        )
        with write(db):
            store(db, embedder.model, group, vectors)
        done += len(group)
    return done


def reindex(db: Database, embedder: Embedder) -> int:
    """Vectors for the whole catalogue from scratch with the installed model (after a model change);
    how many windows."""
    with write(db):
        db.execute("DELETE FROM vector_windows")
        db.execute("DELETE FROM vector_chunks")
        db.execute("DELETE FROM vector_model")
    return fill(db, embedder)


def refresh(db: Database, embedder: Embedder) -> tuple[int, bool]:
    """`catalog reindex --semantic`: the missing vectors, or all of them again when the model changed
    (then True); dropped windows' vectors are compacted away. How many windows were embedded."""
    if state(db, embedder.model) == "changed":
        return reindex(db, embedder), True
    count = fill(db, embedder)
    with write(db):
        compact(db, DIM)
    return count, False


def quantize(vectors: Vectors) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 vectors (each scaled so its largest component is 127) and their norms, for cosine."""
    scale = 127.0 / np.maximum(np.abs(vectors).max(axis=1, keepdims=True), 1e-12)
    q = np.clip(np.rint(vectors * scale), -127, 127).astype(np.int8)
    norms = np.linalg.norm(q.astype(np.float32), axis=1).astype(np.float32)
    return q, norms


def store(db: Database, model: str, windows: list[Window], vectors: Vectors) -> None:
    """Write windows and their vectors: the last chunk is topped up, then new chunks follow."""
    conn = db.conn
    conn.execute(
        "INSERT OR IGNORE INTO vector_model (id, model, dim, created_at) VALUES (1, ?, ?, ?)",
        [model, int(vectors.shape[1]), iso(utcnow())],
    )
    q, norms = quantize(vectors)
    at = 0
    last = conn.execute("SELECT id, size, ids, vectors, norms FROM vector_chunks ORDER BY id DESC LIMIT 1").fetchone()
    while at < len(windows):
        if last is not None and last[1] < CHUNK:
            chunk, size = int(last[0]), int(last[1])
            old_ids, old_q, old_norms = last[2], last[3], last[4]
        else:
            chunk = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM vector_chunks").fetchone()[0])
            size, old_ids, old_q, old_norms = 0, b"", b"", b""
            conn.execute(
                "INSERT INTO vector_chunks (id, size, ids, vectors, norms) VALUES (?, 0, x'', x'', x'')", [chunk]
            )
        take = windows[at : at + CHUNK - size]
        ids = []
        for window in take:
            cursor = conn.execute(
                """INSERT INTO vector_windows (item_id, source, part, first_id, last_id, char_start, char_end,
                   start, "end", chunk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    window.item_id,
                    window.source,
                    window.part,
                    window.first_id,
                    window.last_id,
                    window.char_start,
                    window.char_end,
                    window.start,
                    window.end,
                    chunk,
                ],
            )
            ids.append(int(cursor.lastrowid or 0))
        conn.execute(
            "UPDATE vector_chunks SET size = ?, ids = ?, vectors = ?, norms = ? WHERE id = ?",
            [
                size + len(take),
                old_ids + np.asarray(ids, dtype=np.int64).tobytes(),
                old_q + q[at : at + len(take)].tobytes(),
                old_norms + norms[at : at + len(take)].tobytes(),
                chunk,
            ],
        )
        at += len(take)
        last = None


def load(db: Reader, dim: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Every stored vector: (window ids, int8 vectors, norms)."""
    rows = db.execute("SELECT ids, vectors, norms FROM vector_chunks ORDER BY id").fetchall()
    ids = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.int64)
    q = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(ids), dim)
    norms = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32)
    return ids, q, norms


def nearest(db: Reader, query: Vectors, where: Filters, limit: int) -> list[tuple[int, float]]:
    """The `limit` live windows closest to `query` (cosine, best first) that the filters keep."""
    ids, q, norms = load(db, int(query.shape[0]))
    if not len(ids):
        return []
    scores = (q @ query.astype(np.float32)) / np.maximum(norms, 1e-12)
    filters, params = where.sql()
    allowed_sql = "SELECT w.id FROM vector_windows w" + (
        f" JOIN items i ON i.id = w.item_id WHERE {filters}" if filters else ""
    )
    allowed = np.fromiter((row[0] for row in db.execute(allowed_sql, params)), dtype=np.int64)
    scores[~np.isin(ids, allowed)] = -np.inf  # dropped windows, and those the filters leave out
    take = min(limit, len(ids))
    best = np.argpartition(-scores, take - 1)[:take]
    best = best[np.argsort(-scores[best])]
    return [(int(ids[i]), float(scores[i])) for i in best if np.isfinite(scores[i])]


def compact(db: Database, dim: int) -> None:
    """Rewrite the chunks without the vectors of dropped windows."""
    ids, q, norms = load(db, dim)
    live = {row[0] for row in db.execute("SELECT id FROM vector_windows")}
    keep = np.fromiter((i in live for i in ids.tolist()), dtype=bool, count=len(ids))
    ids, q, norms = ids[keep], q[keep], norms[keep]
    db.execute("DELETE FROM vector_chunks")
    for n, at in enumerate(range(0, len(ids), CHUNK), start=1):
        part = slice(at, at + CHUNK)
        db.execute(
            "INSERT INTO vector_chunks (id, size, ids, vectors, norms) VALUES (?, ?, ?, ?, ?)",
            [n, len(ids[part]), ids[part].tobytes(), q[part].tobytes(), norms[part].tobytes()],
        )
        db.execute(f"UPDATE vector_windows SET chunk = ? WHERE id IN ({','.join(map(str, ids[part].tolist()))})", [n])
