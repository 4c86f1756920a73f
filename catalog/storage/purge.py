"""Deleting a feed and everything stored for it (`catalog feeds remove NAME --purge`), in one transaction.

Deleting its passages fires the index triggers, so the search index and the heading index lose them in
the same transaction; the windows of passage vectors (search by meaning, each holding its vector) and
the work leased or queued for them are deleted by item (tests/test_feeds_remove.py checks that every
table referring to items is covered). The files (media and transcript sidecars) are the caller's to
delete, after the commit: a crash before it must not leave rows pointing at files that are gone.
"""

from __future__ import annotations

from typing import Any

from catalog.storage.rows import Reader

_ITEMS = "SELECT id FROM items WHERE feed_id = :feed"
_PASSAGES = f"SELECT id FROM passages WHERE item_id IN ({_ITEMS})"


def purge_feed(db: Reader, feed_id: int) -> dict[str, Any]:
    """Delete the feed `feed_id`, its items, media rows, transcripts, passages and the saved-search
    matches and queue entries that refer to them. Returns the counts and the media paths to delete."""
    params = {"feed": feed_id}
    media = db.execute(f"SELECT path FROM media WHERE path IS NOT NULL AND item_id IN ({_ITEMS})", params)
    paths = [row[0] for row in media]
    counted = {
        table: db.execute(f"SELECT COUNT(*) FROM {table} WHERE item_id IN ({_ITEMS})", params).fetchone()[0]
        for table in ("transcripts", "passages")
    }
    counted["items"] = db.execute("SELECT COUNT(*) FROM items WHERE feed_id = :feed", params).fetchone()[0]
    counted["watch_matches"] = db.execute(f"DELETE FROM watch_matches WHERE item_id IN ({_ITEMS})", params).rowcount
    db.execute(f"DELETE FROM watch_queue WHERE passage_id IN ({_PASSAGES})", params)
    db.execute(f"DELETE FROM passages WHERE item_id IN ({_ITEMS})", params)  # triggers: FTS, headings, windows
    db.execute(f"DELETE FROM vector_windows WHERE item_id IN ({_ITEMS})", params)
    db.execute(f"DELETE FROM transcription_leases WHERE item_id IN ({_ITEMS})", params)
    db.execute(f"DELETE FROM transcripts WHERE item_id IN ({_ITEMS})", params)
    db.execute(f"DELETE FROM media WHERE item_id IN ({_ITEMS})", params)
    db.execute(f"DELETE FROM failures WHERE feed_id = :feed OR item_id IN ({_ITEMS})", params)
    db.execute("DELETE FROM feed_moves WHERE feed_id = :feed", params)
    db.execute("DELETE FROM items WHERE feed_id = :feed", params)
    db.execute("DELETE FROM feeds WHERE id = :feed", params)
    return {**counted, "media_paths": paths}
