"""Where an item's audio or video can be played from: the file catalog kept, or the publisher's address.

Read by `catalog serve` (catalog.web) for a page of search hits (one query for all their items) and
for the media it streams.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.storage.rows import Reader, dict_rows


@dataclass(frozen=True)
class MediaSource:
    item_id: int
    kind: str  # podcast or video (an article has none)
    path: str | None  # the kept file, when there is one (downloaded or transcribed)
    content_type: str | None
    enclosure_url: str | None  # the publisher's media address
    youtube_id: str | None


def media_sources(db: Reader, item_ids: list[int]) -> dict[int, MediaSource]:
    """The media of each of `item_ids` that has any, by item id."""
    if not item_ids:
        return {}
    marks = ", ".join("?" for _ in item_ids)
    rows = dict_rows(
        db,
        f"""SELECT i.id AS item_id, i.kind, m.path, m.content_type, i.enclosure_url, i.youtube_id
            FROM items i LEFT JOIN media m ON m.item_id = i.id
            WHERE i.id IN ({marks}) AND i.kind != 'article'""",
        list(item_ids),
    )
    return {row["item_id"]: MediaSource(**row) for row in rows}
