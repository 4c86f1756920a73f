"""Read-only views of the catalogue: one item in full (`show`) and the health report (`status`)."""

from __future__ import annotations

import json
from typing import Any

from catalog.errors import NotFoundError
from catalog.storage.leases import transcripts_by_model, waiting_by_model
from catalog.storage.rows import Reader, dict_rows


def item_detail(db: Reader, item_id: int) -> dict[str, Any]:
    """Metadata, full text, and the transcript (segments with times) of one item."""
    found = dict_rows(
        db,
        """SELECT i.id AS item_id, i.kind, f.name AS feed, i.title, i.author, i.published,
                  i.published_is, i.link AS url,
                  i.enclosure_url AS media_url, i.youtube_id, i.body AS text, i.guid, i.extra,
                  m.state AS media_state, m.path AS media_path, m.duration, m.last_error AS media_error,
                  t.source AS transcript_source, t.model AS transcript_model, t.language,
                  t.format AS transcript_format, t.url AS transcript_url
           FROM items i JOIN feeds f ON f.id = i.feed_id
           LEFT JOIN media m ON m.item_id = i.id LEFT JOIN transcripts t ON t.item_id = i.id
           WHERE i.id = ?""",
        [item_id],
    )
    if not found:
        raise NotFoundError(f"no item with id {item_id}", hint="item ids are shown by `catalog search`")
    item = found[0]
    item["extra"] = json.loads(item["extra"]) if item["extra"] else {}
    segments = dict_rows(
        db,
        """SELECT start, "end", speaker, text FROM passages WHERE item_id = ? AND kind = 'segment'
           ORDER BY seq""",
        [item_id],
    )
    chapters = dict_rows(
        db,
        """SELECT start, "end", text AS title FROM passages WHERE item_id = ? AND kind = 'chapter'
           ORDER BY seq""",
        [item_id],
    )
    item["transcript"] = segments if item["transcript_source"] else None
    item["chapters"] = chapters
    return item


def status(db: Reader, *, runs: int = 5) -> dict[str, Any]:
    feeds = dict_rows(
        db,
        """SELECT f.name, f.url, f.title, f.last_fetch_at, f.last_success_at, f.last_result, f.last_error,
                  f.http_status, f.failures, f.next_fetch_at, f.disabled_reason,
                  f.moved_to, f.moved_how, f.moved_at, f.inactive_since,
                  COUNT(i.id) AS items,
                  SUM(i.kind = 'article') AS articles, SUM(i.kind = 'podcast') AS podcasts,
                  SUM(i.kind = 'video') AS videos
           FROM feeds f LEFT JOIN items i ON i.feed_id = f.id GROUP BY f.id ORDER BY f.name""",
    )
    for feed in feeds:
        # A feed that moved is fetched from `moved.to` until feeds.yaml says so too.
        moved = {"to": feed.pop("moved_to"), "how": feed.pop("moved_how"), "at": feed.pop("moved_at")}
        feed["moved"] = moved if moved["to"] else None
        feed["counts"] = {
            "article": feed.pop("articles") or 0,
            "podcast": feed.pop("podcasts") or 0,
            "video": feed.pop("videos") or 0,
        }
    media_sql = """SELECT m.item_id, f.name AS feed, i.title, m.state, m.attempts, m.last_error AS reason,
                          m.next_attempt_at, m.url, m.held_reason AS held
                   FROM media m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                   WHERE f.inactive_since IS NULL AND {} ORDER BY i.published DESC"""
    # a feed no longer in feeds.yaml is not worked: its queue is not listed (the counts keep it)
    pending = dict_rows(db, media_sql.format("m.state IN ('new', 'downloaded', 'transcribed')"))
    failed = dict_rows(db, media_sql.format("m.state = 'failed'"))
    counts = dict(db.execute("SELECT state, COUNT(*) FROM media GROUP BY state").fetchall())
    recent = dict_rows(db, "SELECT * FROM runs ORDER BY id DESC LIMIT ?", [runs])
    for run in recent:
        run["failures"] = dict_rows(
            db,
            "SELECT stage, feed_id, item_id, message FROM failures WHERE run_id = ? ORDER BY id",
            [run["id"]],
        )
    return {
        "feeds": feeds,
        "media": {"counts": counts, "pending": pending, "failed": failed},
        # which model made each transcript, and what `catalog retranscribe` queued (or a run has in flight)
        "transcripts": {"by_model": transcripts_by_model(db), "queued": waiting_by_model(db)},
        "runs": recent,
    }
