"""Vectors for search by meaning: which windows of text are embedded, and where their vectors live.

A window is what one vector stands for (migration 0009_passage_vectors):

    window     20-40 s of a transcript, cut at segment boundaries (passages first_id..last_id), from
               the start of its first segment
    paragraph  one paragraph of an article's text passage (char_start..char_end of it)
    title      an item's title (the head of its text passage)
    chapter    a chapter's title, at the chapter's start

Each window's vector is stored int8 (scaled so its largest component is 127) in its own row,
`vector_windows.embedding`; sqlite-vec scores them in SQL (`catalog.storage.vector_index`). The model
they came from is recorded in `vector_model`; vectors from another model are never mixed in (`state`,
`fill`, `reindex`).
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

from catalog.embedding import Embedder
from catalog.storage.clock import iso, utcnow
from catalog.storage.database import write
from catalog.storage.ranking import Filters
from catalog.storage.rows import Reader
from catalog.storage.vector_index import nearest_windows

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
        db.execute("DELETE FROM vector_model")
    count = fill(db, embedder)
    with write(db):  # the catalogue embedded again is not news to the saved searches by meaning
        db.execute("UPDATE saved_searches SET checked_window = (SELECT COALESCE(MAX(id), 0) FROM vector_windows)")
    return count


def refresh(db: Database, embedder: Embedder) -> tuple[int, bool]:
    """`catalog reindex --semantic`: the missing vectors, or all of them again when the model changed
    (then True). How many windows were embedded."""
    if state(db, embedder.model) == "changed":
        return reindex(db, embedder), True
    return fill(db, embedder), False


def quantize(vectors: Vectors) -> npt.NDArray[np.int8]:
    """int8 vectors, each scaled so its largest component is 127 (cosine does not mind the scale)."""
    scale = 127.0 / np.maximum(np.abs(vectors).max(axis=-1, keepdims=True), 1e-12)
    quantized: npt.NDArray[np.int8] = np.clip(np.rint(vectors * scale), -127, 127).astype(np.int8)
    return quantized


def store(db: Database, model: str, windows: list[Window], vectors: Vectors) -> None:
    """Write windows with their vectors (inside the caller's transaction)."""
    db.execute(
        "INSERT OR IGNORE INTO vector_model (id, model, dim, created_at) VALUES (1, ?, ?, ?)",
        [model, int(vectors.shape[1]), iso(utcnow())],
    )
    quantized = quantize(vectors)
    db.conn.executemany(
        """INSERT INTO vector_windows (item_id, source, part, first_id, last_id, char_start, char_end,
           start, "end", embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            [
                w.item_id,
                w.source,
                w.part,
                w.first_id,
                w.last_id,
                w.char_start,
                w.char_end,
                w.start,
                w.end,
                quantized[n].tobytes(),
            ]
            for n, w in enumerate(windows)
        ),
    )


def nearest(db: Reader, query: Vectors, where: Filters, limit: int) -> list[tuple[int, float]]:
    """The `limit` windows closest to `query` (cosine, best first) that the filters keep."""
    filters, params = where.sql()
    return nearest_windows(db, quantize(query), limit, filters, params)
