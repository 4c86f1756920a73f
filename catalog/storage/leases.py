"""Leases on Whisper work (`transcription_leases`): which item, with which model, handed to which sync run,
until when, and how often.

Only the coordinator (the process holding the sync lock) writes them. A row with no owner is waiting
(`catalog retranscribe` queues that way). `acquire` hands an item to a run (again, when its lease ran out:
`attempt` counts the hand-outs, those of a killed run included); `complete` is called in the transaction
that stores the transcript and deletes the row: it succeeds once per item and run, for whichever of the
run's hand-outs comes back first (not per hand-out: the first result is the one to use), so a later
result, or one of a run that lost the item to another, is dropped.
A run killed with kill -9 leaves its rows; the next run holds the lock, so it takes them over. A row
whose item is indexed another way (a publisher transcript, a sidecar after a crash) is dropped then (`drop`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from catalog.storage.clock import iso, utcnow
from catalog.storage.feeds import require_feed_id
from catalog.storage.rows import Reader


def acquire(db: Database, item_id: int, model: str, owner: str, seconds: float) -> int:
    """Lease `item_id` to `owner` for `seconds` (a new lease, or one taken over); returns the attempt number."""
    now = utcnow()
    db.execute(
        """INSERT INTO transcription_leases (item_id, model, owner, lease_expires, attempt, queued_at)
           VALUES (:item, :model, :owner, :expires, 1, :now)
           ON CONFLICT (item_id) DO UPDATE SET model = :model, owner = :owner, lease_expires = :expires,
               attempt = attempt + 1""",
        {
            "item": item_id,
            "model": model,
            "owner": owner,
            "expires": iso(now + timedelta(seconds=seconds)),
            "now": iso(now),
        },
    )
    return int(db.execute("SELECT attempt FROM transcription_leases WHERE item_id = ?", [item_id]).fetchone()[0])


def complete(db: Database, item_id: int, model: str, owner: str) -> bool:
    """End the lease as done: True once, for the first result of any of `owner`'s hand-outs; False for any
    later one, and for a result of an owner that no longer holds the lease."""
    return bool(
        db.execute(
            "DELETE FROM transcription_leases WHERE item_id = ? AND model = ? AND owner = ?", [item_id, model, owner]
        ).rowcount
    )


def release(db: Database, item_id: int, owner: str, *, keep_waiting: bool) -> None:
    """The work failed: wait for the next run (`keep_waiting`, a re-transcription) or forget the lease
    (a queue item: the media queue counts its attempts)."""
    if keep_waiting:
        db.execute(
            "UPDATE transcription_leases SET owner = NULL, lease_expires = NULL WHERE item_id = ? AND owner = ?",
            [item_id, owner],
        )
    else:
        db.execute("DELETE FROM transcription_leases WHERE item_id = ? AND owner = ?", [item_id, owner])


def redo_failed(db: Database, item_id: int, *, max_attempts: int) -> bool:
    """A re-transcription failed before it was handed out (its media could not be had again): count it as
    an attempt. True: it waits for the next run; False: that was attempt `max_attempts`, it is dropped."""
    db.execute(
        "UPDATE transcription_leases SET owner = NULL, lease_expires = NULL, attempt = attempt + 1 WHERE item_id = ?",
        [item_id],
    )
    return not db.execute(
        "DELETE FROM transcription_leases WHERE item_id = ? AND attempt >= ?", [item_id, max_attempts]
    ).rowcount


def drop(db: Database, item_id: int) -> None:
    """The item was indexed some other way than by its lease's result: nothing is left to do for it."""
    db.execute("DELETE FROM transcription_leases WHERE item_id = ?", [item_id])


def queue_retranscription(
    db: Database,
    model: str,
    *,
    where_model: str | None = None,
    feed: str | None = None,
    since: date | None = None,
) -> int:
    """Queue Whisper-made transcripts again with `model` (those of `where_model`, else every one not made by
    `model`); returns how many. The old transcripts stay searchable until the new ones replace them.
    An item a sync holds (its row has an owner) is left to it: its lease is not reset under it."""
    if feed is not None:
        require_feed_id(db, feed)
    params: dict[str, Any] = {
        "model": model,
        "where": where_model,
        "feed": feed,
        "since": since.isoformat()[:10] if since else None,  # a day: published dates are compared by day
        "now": iso(utcnow()),
    }
    return int(
        db.execute(
            """INSERT INTO transcription_leases (item_id, model, owner, lease_expires, attempt, queued_at)
               SELECT t.item_id, :model, NULL, NULL, 0, :now
               FROM transcripts t JOIN items i ON i.id = t.item_id JOIN feeds f ON f.id = i.feed_id
               JOIN media m ON m.item_id = t.item_id
               WHERE t.source = 'whisper' AND m.state = 'indexed'
                 AND (CASE WHEN :where IS NULL THEN t.model IS NOT :model ELSE t.model = :where END)
                 AND (:feed IS NULL OR f.name = :feed)
                 AND (:since IS NULL OR substr(i.published, 1, 10) >= :since)
               ORDER BY t.item_id
               ON CONFLICT (item_id) DO UPDATE SET model = excluded.model, owner = NULL, lease_expires = NULL,
                   attempt = 0, queued_at = excluded.queued_at
                   WHERE transcription_leases.owner IS NULL""",
            params,
        ).rowcount
    )


def cancel_retranscription(db: Database, *, model: str | None = None, feed: str | None = None) -> int:
    """Forget queued re-transcriptions (of `model`, of `feed`) that no sync has taken: their items keep
    the transcripts they have. Returns how many. NotFoundError for a feed the catalogue does not have."""
    if feed is not None:
        require_feed_id(db, feed)
    return int(
        db.execute(
            """DELETE FROM transcription_leases WHERE owner IS NULL AND (:model IS NULL OR model = :model)
                 AND item_id IN (SELECT m.item_id FROM media m JOIN items i ON i.id = m.item_id
                                 JOIN feeds f ON f.id = i.feed_id
                                 WHERE m.state = 'indexed' AND (:feed IS NULL OR f.name = :feed))""",
            {"model": model, "feed": feed},
        ).rowcount
    )


def waiting_by_model(db: Reader) -> dict[str, int]:
    """Queued re-transcriptions and leases in flight, by model."""
    return dict(db.execute("SELECT model, COUNT(*) FROM transcription_leases GROUP BY model ORDER BY model").fetchall())


def transcripts_by_model(db: Reader) -> dict[str, int]:
    """How many transcripts each model made (publisher transcripts and captions under their source)."""
    return dict(
        db.execute(
            "SELECT COALESCE(model, source), COUNT(*) FROM transcripts GROUP BY 1 ORDER BY COUNT(*) DESC, 1"
        ).fetchall()
    )
