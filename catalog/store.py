"""Reading and writing catalogue rows: feeds, items, the media queue, transcripts, runs.

Callers wrap each logical step in `db.write(...)`; these functions never commit on their own,
so a feed's items, or a transcript and its index rows, land together or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlite_utils import Database

from catalog.feeds import Entry
from catalog.fetch import Download
from catalog.models import Transcript

BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def backoff(failures: int, now: datetime, retry_after: float | None = None) -> str:
    """When to try again after `failures` consecutive failures (Retry-After wins when longer)."""
    delay = min(BACKOFF_BASE * (2 ** max(0, failures - 1)), BACKOFF_CAP)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return iso(now + delay)


# --- feeds ----------------------------------------------------------------------------------------


def ensure_feed(db: Database, name: str, url: str, kind: str | None) -> dict[str, Any]:
    """The feed's row, created on first sight; a changed URL resets its fetch state."""
    current = next(db["feeds"].rows_where("name = ?", [name]), None)
    if current is None:
        db.execute("INSERT INTO feeds (name, url, kind) VALUES (?, ?, ?)", [name, url, kind])
    elif current["url"] != url:
        db.execute(
            "UPDATE feeds SET url = ?, kind = ?, etag = NULL, last_modified = NULL, failures = 0,"
            " next_fetch_at = NULL, disabled_reason = NULL WHERE id = ?",
            [url, kind, current["id"]],
        )
    elif current["kind"] != kind:
        db.execute("UPDATE feeds SET kind = ? WHERE id = ?", [kind, current["id"]])
    else:
        return dict(current)
    return dict(next(db["feeds"].rows_where("name = ?", [name])))


def feed_fetched(
    db: Database,
    feed_id: int,
    *,
    result: str,
    etag: str | None,
    last_modified: str | None,
    http_status: int | None,
    title: str | None = None,
    language: str | None = None,
    warning: str | None = None,
) -> None:
    now = iso(utcnow())
    db.execute(
        """UPDATE feeds SET last_fetch_at = ?, last_success_at = ?, last_result = ?, last_error = ?,
           http_status = ?, etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
           title = COALESCE(?, title), language = COALESCE(?, language), failures = 0,
           next_fetch_at = NULL WHERE id = ?""",
        [now, now, result, warning, http_status, etag, last_modified, title, language, feed_id],
    )


def feed_recovered(db: Database, feed_id: int, *, http_status: int) -> None:
    db.execute(
        """UPDATE feeds SET last_fetch_at = ?, last_result = 'not modified', last_error = NULL, http_status = ?,
           failures = 0, next_fetch_at = NULL WHERE id = ?""",
        [iso(utcnow()), http_status, feed_id],
    )


def feed_failed(
    db: Database,
    feed_id: int,
    message: str,
    *,
    http_status: int | None,
    retry_after: float | None,
    max_attempts: int,
    gone: bool = False,
) -> str:
    """Record a failed fetch with exponential backoff; returns the feed's new result word."""
    now = utcnow()
    failures = db.execute("SELECT failures FROM feeds WHERE id = ?", [feed_id]).fetchone()[0] + 1
    disabled = None
    if gone:
        disabled = f"410 Gone: the publisher removed this feed ({message})"
    elif failures >= max_attempts:
        disabled = f"gave up after {failures} failures in a row; last: {message}"
    db.execute(
        """UPDATE feeds SET last_fetch_at = ?, last_result = 'error', last_error = ?, http_status = ?,
           failures = ?, next_fetch_at = ?, disabled_reason = ? WHERE id = ?""",
        [iso(now), message, http_status, failures, backoff(failures, now, retry_after), disabled, feed_id],
    )
    return "disabled" if disabled else "error"


# --- items ----------------------------------------------------------------------------------------


ITEM_COLUMNS = (
    "feed_id",
    "guid",
    "kind",
    "title",
    "author",
    "published",
    "link",
    "body",
    "enclosure_url",
    "enclosure_type",
    "enclosure_length",
    "youtube_id",
    "language",
    "extra",
    "content_hash",
    "updated_at",
)
_QUEUE_MEDIA = """INSERT INTO media (item_id, url, state, updated_at) VALUES (?, ?, 'new', ?)
    ON CONFLICT(item_id) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at
    WHERE media.state = 'new' AND media.url != excluded.url"""


def save_entries(db: Database, feed_id: int, entries: list[Entry]) -> dict[str, int]:
    """Insert new items and update changed ones, with their index text and media queue rows.

    Returns counts of 'new', 'updated' and 'same'. Written in batches (one SELECT of what the feed
    already has, then executemany), because a cold sync of 500 feeds stores 25,000 items and a
    statement per column family per item was most of its time.
    """
    conn = db.conn
    known = {
        guid: (item_id, digest)
        for guid, item_id, digest in conn.execute(
            "SELECT guid, id, content_hash FROM items WHERE feed_id = ?", [feed_id]
        )
    }
    now = iso(utcnow())
    counts = {"new": 0, "updated": 0, "same": 0}
    fresh: list[tuple[Entry, tuple[Any, ...]]] = []
    changed: list[tuple[int, Entry, tuple[Any, ...]]] = []
    for entry in entries:
        digest = entry.content_hash()
        seen = known.get(entry.guid)
        if seen and seen[1] == digest:
            counts["same"] += 1
            continue
        row = (
            feed_id,
            entry.guid,
            entry.kind,
            entry.title,
            entry.author,
            entry.published,
            entry.link,
            entry.body,
            entry.enclosure_url,
            entry.enclosure_type,
            entry.enclosure_length,
            entry.youtube_id,
            entry.language,
            json.dumps(entry.extra) if entry.extra else None,
            digest,
            now,
        )
        if seen:
            changed.append((seen[0], entry, row))
        else:
            fresh.append((entry, row))
    touched: list[tuple[int, Entry]] = []
    if fresh:
        columns = ", ".join([*ITEM_COLUMNS, "first_seen_at"])
        marks = ", ".join("?" * (len(ITEM_COLUMNS) + 1))
        conn.executemany(f"INSERT INTO items ({columns}) VALUES ({marks})", [(*row, now) for _, row in fresh])
        ids = dict(conn.execute("SELECT guid, id FROM items WHERE feed_id = ?", [feed_id]).fetchall())
        touched += [(ids[entry.guid], entry) for entry, _ in fresh]
    if changed:
        assignments = ", ".join(f"{column} = ?" for column in ITEM_COLUMNS)
        conn.executemany(f"UPDATE items SET {assignments} WHERE id = ?", [(*row, i) for i, _, row in changed])
        conn.executemany("DELETE FROM passages WHERE item_id = ? AND kind = 'text'", [(i,) for i, _, _ in changed])
        touched += [(item_id, entry) for item_id, entry, _ in changed]
    texts = [(item_id, _index_text(entry)) for item_id, entry in touched]
    conn.executemany(
        "INSERT INTO passages (item_id, kind, seq, text) VALUES (?, 'text', 0, ?)", [t for t in texts if t[1]]
    )
    media = [
        (item_id, entry.media_url, now) for item_id, entry in touched if entry.kind != "article" and entry.media_url
    ]
    conn.executemany(_QUEUE_MEDIA, media)
    counts["new"], counts["updated"] = len(fresh), len(changed)
    return counts


def _index_text(entry: Entry) -> str:
    return "\n\n".join(part for part in (entry.title, entry.body) if part)


# --- media queue ----------------------------------------------------------------------------------


@dataclass
class MediaJob:
    item_id: int
    url: str
    state: str
    kind: str
    title: str | None
    feed: str
    path: str | None
    attempts: int
    youtube_id: str | None
    language: str | None
    enclosure_type: str | None
    extra: dict[str, Any]  # the item's feed extras (transcripts, chapters, persons), parsed
    feed_title: str | None


def pending_media(db: Database, *, limit: int | None = None) -> list[MediaJob]:
    """Work still to do, newest items first; items in backoff wait for their time."""
    sql = """
        SELECT m.item_id, m.url, m.state, i.kind, i.title, f.name, m.path, m.attempts, i.youtube_id,
               COALESCE(i.language, f.language), i.enclosure_type, i.extra, f.title
        FROM media m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
        WHERE m.state IN ('new', 'downloaded', 'transcribed')
          AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= ?)
        ORDER BY i.published IS NULL, i.published DESC, m.item_id DESC
    """
    params: list[Any] = [iso(utcnow())]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_media_job(row) for row in db.execute(sql, params).fetchall()]


def _media_job(row: tuple[Any, ...]) -> MediaJob:
    values = list(row)
    values[11] = json.loads(values[11]) if values[11] else {}
    return MediaJob(*values)


def media_downloaded(db: Database, item_id: int, download: Download, duration: float | None) -> None:
    db.execute(
        """UPDATE media SET state = 'downloaded', path = ?, bytes = ?, sha256 = ?, content_type = ?,
           duration = ?, last_error = NULL, updated_at = ? WHERE item_id = ?""",
        [
            str(download.path),
            download.bytes,
            download.sha256,
            download.content_type,
            duration,
            iso(utcnow()),
            item_id,
        ],
    )


def media_failed(
    db: Database,
    item_id: int,
    message: str,
    *,
    max_attempts: int,
    retry_after: float | None = None,
    permanent: bool = False,
) -> str:
    """Count a failure; after `max_attempts` (or a permanent cause) the item is marked failed."""
    now = utcnow()
    attempts = db.execute("SELECT attempts FROM media WHERE item_id = ?", [item_id]).fetchone()[0] + 1
    final = permanent or attempts >= max_attempts
    db.execute(
        """UPDATE media SET attempts = ?, last_error = ?, next_attempt_at = ?,
           state = CASE WHEN ? THEN 'failed' ELSE state END, updated_at = ? WHERE item_id = ?""",
        [attempts, message, None if final else backoff(attempts, now, retry_after), final, iso(now), item_id],
    )
    return "failed" if final else "retry"


def save_transcript(db: Database, item_id: int, transcript: Transcript) -> None:
    """Replace the item's transcript, its index rows and its queue state in one go."""
    db.execute("DELETE FROM passages WHERE item_id = ? AND kind IN ('segment', 'chapter')", [item_id])
    rows: list[tuple[object, ...]] = [
        (
            item_id,
            "segment",
            seq,
            seg.start,
            seg.end,
            seg.speaker,
            seg.text.strip(),
            json.dumps([[round(w.start, 2), round(w.end, 2), w.word] for w in seg.words]) if seg.words else None,
        )
        for seq, seg in enumerate(transcript.segments)
        if seg.text.strip()
    ]
    rows += [
        (item_id, "chapter", seq, chapter.start, chapter.end, None, chapter.title, None)
        for seq, chapter in enumerate(transcript.chapters)
        if chapter.title.strip()
    ]
    db.conn.executemany(
        'INSERT INTO passages (item_id, kind, seq, start, "end", speaker, text, words) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
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
            len(transcript.segments),
            iso(utcnow()),
            transcript.format,
            transcript.url,
        ],
    )
    db.execute(
        """UPDATE media SET state = 'indexed', duration = COALESCE(duration, ?), last_error = NULL,
           next_attempt_at = NULL, updated_at = ? WHERE item_id = ?""",
        [transcript.duration, iso(utcnow()), item_id],
    )


def reset_failures(db: Database, *, feed: str | None = None, item_ids: list[int] | None = None) -> tuple[int, int]:
    """Clear backoff and give-up state so the next sync tries again; returns (feeds, items) reset."""
    feeds = 0
    if not item_ids:
        feeds = db.execute(
            """UPDATE feeds SET failures = 0, next_fetch_at = NULL, disabled_reason = NULL
               WHERE (failures > 0 OR disabled_reason IS NOT NULL) AND (:feed IS NULL OR name = :feed)""",
            {"feed": feed},
        ).rowcount
    where = "m.state = 'failed' OR m.next_attempt_at IS NOT NULL"
    params: list[Any] = []
    if item_ids:
        where = f"m.item_id IN ({', '.join('?' * len(item_ids))})"
        params = list(item_ids)
    elif feed:
        where = f"({where}) AND f.name = ?"
        params = [feed]
    items = db.execute(
        f"""UPDATE media SET state = CASE WHEN state = 'failed' THEN 'new' ELSE state END, attempts = 0,
            next_attempt_at = NULL, last_error = NULL
            WHERE item_id IN (SELECT m.item_id FROM media m JOIN items i ON i.id = m.item_id
                              JOIN feeds f ON f.id = i.feed_id WHERE {where})""",
        params,
    ).rowcount
    return feeds, items


# --- runs and failures ----------------------------------------------------------------------------


def start_run(db: Database, pid: int) -> int:
    # A run left 'running' by a crash or kill -9 is closed as interrupted.
    db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
    cursor = db.execute("INSERT INTO runs (started_at, pid, status) VALUES (?, ?, 'running')", [iso(utcnow()), pid])
    return int(cursor.lastrowid or 0)


def finish_run(db: Database, run_id: int, status: str, counts: dict[str, Any], message: str | None) -> None:
    assignments = ", ".join(f"{key} = :{key}" for key in counts)
    db.execute(
        f"UPDATE runs SET finished_at = :finished_at, status = :status, message = :message"
        f"{', ' if counts else ''}{assignments} WHERE id = :id",
        {**counts, "finished_at": iso(utcnow()), "status": status, "message": message, "id": run_id},
    )


def record_failure(
    db: Database,
    run_id: int | None,
    stage: str,
    message: str,
    *,
    feed_id: int | None = None,
    item_id: int | None = None,
) -> None:
    db.execute(
        "INSERT INTO failures (run_id, at, feed_id, item_id, stage, message) VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, iso(utcnow()), feed_id, item_id, stage, message],
    )
