"""The media queue: what still needs a transcript, its state (new, downloaded, transcribed, indexed, failed),
attempts and back-off, and resetting failures for `catalog retry`."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from catalog.errors import NotFoundError
from catalog.models import Download, MediaJob
from catalog.storage.clock import backoff, iso, utcnow
from catalog.storage.feeds import require_feed_id

# What a MediaJob is read from (over media m, items i, feeds f), in MediaJob's field order
JOB_COLUMNS = """m.item_id, m.url, m.state, i.kind, i.title, f.name, m.path, m.attempts, i.youtube_id,
               COALESCE(i.language, f.language), i.enclosure_type, i.extra, f.title, m.held_reason"""


def pending_media(
    db: Database,
    *,
    limit: int | None = None,
    feeds: list[str] | None = None,
    include_held: bool = True,
    item_ids: list[int] | None = None,
    backlog_transcripts: bool = False,
) -> list[MediaJob]:
    """Work still to do, newest items first; items in backoff wait for their time.

    `feeds`: only these feeds' items (None: every feed). `include_held=False` leaves out items held
    back from Whisper (see `hold`), so they do not take the places of `limit`. `item_ids`: only these.
    `backlog_transcripts`: also the backlog items (see `skip_backlog`) that link a publisher transcript and
    were not tried yet: their transcript is indexed, their media is not downloaded.
    """
    sql = f"""
        SELECT {JOB_COLUMNS}
        FROM media m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
        WHERE (m.state IN ('new', 'downloaded', 'transcribed')
               OR (? AND m.state = 'skipped' AND m.attempts = 0 AND i.extra LIKE '%"transcripts"%'))
          AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= ?)
    """
    params: list[Any] = [backlog_transcripts, iso(utcnow())]
    if feeds is not None:
        sql += f" AND f.name IN ({', '.join('?' * len(feeds))})"
        params += feeds
    if not include_held:
        sql += " AND m.held_reason IS NULL"
    if item_ids is not None:
        sql += f" AND m.item_id IN ({', '.join('?' * len(item_ids))})"
        params += item_ids
    sql += " ORDER BY i.published IS NULL, i.published DESC, m.item_id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_media_job(row) for row in db.execute(sql, params).fetchall()]


def skip_backlog(db: Database, feed_id: int, keep: int) -> int:
    """A feed's first sync with a `backlog:` limit: only its `keep` newest queued items (by published date)
    stay queued; the others are set aside as 'skipped' (not fetched: backlog) until `queue_items`.
    Returns how many were set aside."""
    return db.execute(
        """UPDATE media SET state = 'skipped', updated_at = ? WHERE state = 'new' AND item_id IN (
               SELECT i.id FROM items i JOIN media m ON m.item_id = i.id
               WHERE i.feed_id = ? AND m.state = 'new'
               ORDER BY i.published IS NULL, i.published DESC, i.id DESC LIMIT -1 OFFSET ?)""",
        [iso(utcnow()), feed_id, keep],
    ).rowcount


def queue_items(db: Database, item_ids: list[int]) -> dict[int, str]:
    """Queue these items' media now (`catalog fetch`): each item's state before, by id. A backlog item
    ('skipped') or a given-up one ('failed') is queued again, with its attempts reset.

    NotFoundError for an id that is not in the catalogue or an item with no media (an article)."""
    marks = ", ".join("?" * len(item_ids))
    found = dict(
        db.execute(
            f"SELECT i.id, m.state FROM items i LEFT JOIN media m ON m.item_id = i.id WHERE i.id IN ({marks})", item_ids
        ).fetchall()
    )
    missing = [str(item_id) for item_id in item_ids if item_id not in found]
    if missing:
        raise NotFoundError(
            f"no item with id {', '.join(missing)}", hint="item ids are shown by `catalog list` and `catalog search`"
        )
    bare = [str(item_id) for item_id in item_ids if found[item_id] is None]
    if bare:
        raise NotFoundError(
            f"item {', '.join(bare)} has no audio or video to fetch", hint="only podcast and video items have media"
        )
    db.execute(
        f"""UPDATE media SET state = 'new', attempts = 0, next_attempt_at = NULL, last_error = NULL, updated_at = ?
            WHERE state IN ('skipped', 'failed') AND item_id IN ({marks})""",
        [iso(utcnow()), *item_ids],
    )
    return {item_id: found[item_id] for item_id in item_ids}


def backlog_tried(db: Database, item_id: int) -> None:
    """A backlog item's publisher transcript could not be had: it stays not fetched, and is not tried again
    (until `catalog fetch` queues it)."""
    db.execute(
        "UPDATE media SET attempts = 1, updated_at = ? WHERE item_id = ? AND state = 'skipped'",
        [iso(utcnow()), item_id],
    )


def media_states(db: Database, item_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """(state, last error) of these items' media, by id."""
    marks = ", ".join("?" * len(item_ids))
    rows = db.execute(f"SELECT item_id, state, last_error FROM media WHERE item_id IN ({marks})", item_ids)
    return {item_id: (state, error) for item_id, state, error in rows.fetchall()}


def retranscription_jobs(
    db: Database, *, limit: int | None = None, feeds: list[str] | None = None
) -> list[tuple[MediaJob, str]]:
    """Indexed items queued again by `catalog retranscribe`, with the model asked for, oldest request first.
    The sync lock is held by the caller, so a row some other run leased (and died) is taken over."""
    sql = f"""
        SELECT {JOB_COLUMNS}, l.model
        FROM transcription_leases l JOIN media m ON m.item_id = l.item_id JOIN items i ON i.id = m.item_id
        JOIN feeds f ON f.id = i.feed_id
        WHERE m.state = 'indexed'
    """
    params: list[Any] = []
    if feeds is not None:
        sql += f" AND f.name IN ({', '.join('?' * len(feeds))})"
        params += feeds
    sql += " ORDER BY l.queued_at, l.item_id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [(_media_job(row[:-1]), row[-1]) for row in db.execute(sql, params).fetchall()]


def media_refetched(db: Database, item_id: int, download: Download) -> None:
    """An indexed item's media downloaded again (to transcribe it again): where it is, its state unchanged."""
    db.execute(
        "UPDATE media SET path = ?, bytes = ?, sha256 = ?, updated_at = ? WHERE item_id = ?",
        [str(download.path), download.bytes, download.sha256, iso(utcnow()), item_id],
    )


def hold(db: Database, item_id: int, reason: str | None) -> None:
    """Keep an item queued without transcribing it (`reason`), or let it go again (None)."""
    db.execute("UPDATE media SET held_reason = ? WHERE item_id = ?", [reason, item_id])


def _media_job(row: tuple[Any, ...]) -> MediaJob:
    """A MediaJob from a row of JOB_COLUMNS (its `extra` JSON read)."""
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


def media_missing(db: Database, item_id: int) -> None:
    """The downloaded file is gone: download it again."""
    db.execute("UPDATE media SET state = 'new', path = NULL WHERE item_id = ?", [item_id])


def media_transcribed(db: Database, item_id: int) -> None:
    """Whisper is done and its sidecar is on disk; indexing comes next."""
    db.execute("UPDATE media SET state = 'transcribed' WHERE item_id = ?", [item_id])


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


def reset_failures(db: Database, *, feed: str | None = None, item_ids: list[int] | None = None) -> tuple[int, int]:
    """Clear backoff and give-up state so the next sync tries again; returns (feeds, items) reset.

    Raises NotFoundError for a feed name or an item id that is not in the catalogue.
    """
    if feed is not None:
        require_feed_id(db, feed)
    if item_ids:
        marks = ", ".join("?" * len(item_ids))
        known = {row[0] for row in db.execute(f"SELECT id FROM items WHERE id IN ({marks})", item_ids)}
        missing = [str(item_id) for item_id in item_ids if item_id not in known]
        if missing:
            raise NotFoundError(
                f"no item with id {', '.join(missing)}", hint="item ids are shown by `catalog search` and `status`"
            )
    feeds = 0
    if not item_ids:
        feeds = db.execute(
            """UPDATE feeds SET failures = 0, next_fetch_at = NULL, disabled_reason = NULL
               WHERE (failures > 0 OR disabled_reason IS NOT NULL) AND (:feed IS NULL OR name = :feed)""",
            {"feed": feed},
        ).rowcount
    where = "m.state = 'failed' OR m.next_attempt_at IS NOT NULL"
    params: list[Any] = []
    if item_ids:  # only those that are failing: an indexed item has nothing to reset
        where = f"({where}) AND m.item_id IN ({', '.join('?' * len(item_ids))})"
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
