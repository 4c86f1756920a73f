"""Transcript rows and their index passages: replaced in one go, and read back as a `Transcript`."""

from __future__ import annotations

import json

from sqlite_utils import Database

from catalog.errors import NotFoundError
from catalog.models import Chapter, Transcript, TranscriptSegment, Word
from catalog.storage.clock import iso, utcnow
from catalog.storage.index import item_analyser, segment_columns
from catalog.storage.rows import dict_rows
from catalog.storage.tokens import prepare

# word times as JSON [[start, end, word], ...]: one encoder, no spaces (a million segments' worth adds up)
_WORDS = json.JSONEncoder(separators=(",", ":"), check_circular=False, ensure_ascii=False)


def save_transcript(db: Database, item_id: int, transcript: Transcript) -> None:
    """Replace the item's transcript, its index rows and its queue state in one go."""
    db.execute("DELETE FROM passages WHERE item_id = ? AND kind IN ('segment', 'chapter')", [item_id])
    analyser = item_analyser(db, item_id)
    spoken = [(seq, seg) for seq, seg in enumerate(transcript.segments) if seg.text.strip()]
    columns = segment_columns([seg.text.strip() for _seq, seg in spoken], analyser)
    rows: list[tuple[object, ...]] = [
        (
            item_id,
            "segment",
            seq,
            seg.start,
            seg.end,
            seg.speaker,
            seg.text.strip(),
            _WORDS.encode([[w.start, w.end, w.word] for w in seg.words]) if seg.words else None,
            body,
            "",
            bridge,
        )
        for (seq, seg), (body, bridge) in zip(spoken, columns, strict=True)
    ]
    rows += [
        (item_id, "chapter", seq, chapter.start, chapter.end, None, chapter.title, None, "", heading, "")
        for seq, chapter in enumerate(transcript.chapters)
        if chapter.title.strip()
        for heading in [prepare(chapter.title, analyser)]
    ]
    db.conn.executemany(
        'INSERT INTO passages (item_id, kind, seq, start, "end", speaker, text, words,'
        " idx_body, idx_heading, idx_bridge) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute(
        """INSERT OR REPLACE INTO transcripts
           (item_id, source, model, language, duration, segments, created_at, format, url)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            item_id,
            transcript.source,
            transcript.model,
            transcript.language,
            transcript.duration,
            sum(1 for segment in transcript.segments if segment.text.strip()),  # the ones indexed
            iso(utcnow()),
            transcript.format,
            transcript.url,
        ],
    )
    db.execute(
        """UPDATE media SET state = 'indexed', duration = COALESCE(duration, ?), last_error = NULL,
           next_attempt_at = NULL, held_reason = NULL, updated_at = ? WHERE item_id = ?""",
        [transcript.duration, iso(utcnow()), item_id],
    )


def load_transcript(db: Database, item_id: int) -> Transcript:
    """The stored transcript of an item, with word times and chapters, as a `Transcript`."""
    meta = dict_rows(db, "SELECT * FROM transcripts WHERE item_id = ?", [item_id])
    if not meta:
        found = db.execute(
            "SELECT i.kind, m.state, m.held_reason FROM items i LEFT JOIN media m ON m.item_id = i.id WHERE i.id = ?",
            [item_id],
        ).fetchone()
        if found is None:
            raise NotFoundError(f"no item with id {item_id}", hint="item ids are shown by `catalog search`")
        kind, state, held = found
        if kind == "article":
            raise NotFoundError(
                f"item {item_id} is an article and has no transcript", hint=f"its text: `catalog show {item_id}`"
            )
        why = held or (f"its media is {state}" if state else "no media was found for it")
        raise NotFoundError(
            f"item {item_id} has no transcript yet ({why})", hint="media items get one at `catalog sync`"
        )
    rows = db.execute(
        'SELECT kind, start, "end", speaker, text, words FROM passages WHERE item_id = ? '
        "AND kind IN ('segment', 'chapter') ORDER BY kind DESC, seq",
        [item_id],
    ).fetchall()
    segments, chapters = [], []
    for kind, start, end, speaker, text, words in rows:
        if kind == "chapter":
            chapters.append(Chapter(start, text, end))
            continue
        timed = [Word(w[0], w[1], w[2]) for w in json.loads(words)] if words else []
        segments.append(TranscriptSegment(start, end, text, speaker, timed))
    info = meta[0]
    return Transcript(
        segments=segments,
        source=info["source"],
        model=info["model"],
        language=info["language"],
        duration=info["duration"],
        chapters=chapters,
        format=info["format"],
        url=info["url"],
    )
