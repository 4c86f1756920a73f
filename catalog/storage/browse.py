"""Browsing the catalogue without a query: items newest first, with the same filters as search."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from catalog.storage.feeds import require_feed_id
from catalog.storage.rows import Reader, dict_rows

if TYPE_CHECKING:
    pass


def list_items(
    db: Reader,
    *,
    kind: str | None = None,
    feed: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Items newest first: id, kind, feed, title, published (and published_is: feed or first_seen), url, media
    and transcript state."""
    where: list[str] = ["1"]
    params: list[object] = []
    if feed is not None:
        where.append("i.feed_id = ?")
        params.append(require_feed_id(db, feed))
    if kind is not None:
        where.append("i.kind = ?")
        params.append(kind)
    if since is not None:
        where.append("i.published >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("i.published < ?")
        params.append((until + timedelta(days=1)).isoformat())
    return dict_rows(
        db,
        f"""SELECT i.id AS item_id, i.kind, f.name AS feed, i.title, i.published, i.published_is,
                   COALESCE(i.link, i.enclosure_url) AS url, m.state AS media_state,
                   t.source AS transcript_source, COALESCE(m.duration, t.duration) AS duration
            FROM items i JOIN feeds f ON f.id = i.feed_id
            LEFT JOIN media m ON m.item_id = i.id LEFT JOIN transcripts t ON t.item_id = i.id
            WHERE {" AND ".join(where)}
            ORDER BY i.published IS NULL, i.published DESC, i.id DESC
            LIMIT ? OFFSET ?""",
        [*params, limit, offset],
    )
