"""Item rows: new and changed feed entries, their index text and their media queue rows, written in batches."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from catalog.models import SHARED_GUID, Entry, entry_mark, shared_guid
from catalog.storage.clock import iso, utcnow
from catalog.storage.index import remember_analyser, text_columns
from catalog.storage.tokens import analyser_for

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
_PUBLISHED = ITEM_COLUMNS.index("published")
# An entry without a readable date is dated when first seen (published_is 'first_seen'); a later sync
# without one keeps the stored date, and a readable date from the feed replaces it.
_UPDATE_PUBLISHED = {"published": "published = COALESCE(?, published)"}
_QUEUE_MEDIA = """INSERT INTO media (item_id, url, state, updated_at) VALUES (?, ?, 'new', ?)
    ON CONFLICT(item_id) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at
    WHERE media.state = 'new' AND media.url != excluded.url"""


def save_entries(db: Database, feed_id: int, entries: list[Entry]) -> dict[str, int]:
    """Insert new items and update changed ones, with their index text and media queue rows.

    Returns counts of 'new', 'updated' and 'same'. Written in batches (one SELECT of what the feed
    already has, then executemany), because a cold sync of 500 feeds stores 25,000 items and a
    statement per column family per item was most of its time.

    An entry with no `published` date is dated `first_seen_at`, marked `published_is = 'first_seen'`,
    and keeps that date when it changes later.
    """
    conn = db.conn
    stored = conn.execute(
        "SELECT guid, id, content_hash, CASE WHEN published_is = 'feed' THEN published END, title, enclosure_url"
        " FROM items WHERE feed_id = ?",
        [feed_id],
    ).fetchall()
    known = {guid: (item_id, digest) for guid, item_id, digest, *_ in stored}
    stored_marks = {guid: entry_mark(*fields) for guid, _id, _digest, *fields in stored}
    now = iso(utcnow())
    counts = {"new": 0, "updated": 0, "same": 0}
    fresh: list[tuple[Entry, tuple[Any, ...]]] = []
    changed: list[tuple[int, Entry, tuple[Any, ...]]] = []
    for entry in entries:
        entry = _same_item(entry, known, stored_marks)
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
    analysers: set[str] = set()
    if fresh:
        columns = ", ".join([*ITEM_COLUMNS, "first_seen_at", "published_is"])
        marks = ", ".join("?" * (len(ITEM_COLUMNS) + 2))
        conn.executemany(f"INSERT INTO items ({columns}) VALUES ({marks})", [_dated(row, now) for _, row in fresh])
        ids = dict(conn.execute("SELECT guid, id FROM items WHERE feed_id = ?", [feed_id]).fetchall())
        touched += [(ids[entry.guid], entry) for entry, _ in fresh]
    if changed:
        assignments = ", ".join(_UPDATE_PUBLISHED.get(column, f"{column} = ?") for column in ITEM_COLUMNS)
        assignments += ", published_is = CASE WHEN ? IS NULL THEN published_is ELSE 'feed' END"
        conn.executemany(
            f"UPDATE items SET {assignments} WHERE id = ?", [(*row, row[_PUBLISHED], i) for i, _, row in changed]
        )
        conn.executemany("DELETE FROM passages WHERE item_id = ? AND kind = 'text'", [(i,) for i, _, _ in changed])
        touched += [(item_id, entry) for item_id, entry, _ in changed]
    passages = []
    for item_id, entry in touched:
        text = "\n\n".join(part for part in (entry.title, entry.body) if part)
        if not text:
            continue
        analyser = analyser_for(entry.language)
        analysers.add(analyser)
        body, heading = text_columns(entry.title, entry.body, analyser)
        passages.append((item_id, text, body, heading))
    for analyser in analysers:
        remember_analyser(db, analyser)
    conn.executemany(
        "INSERT INTO passages (item_id, kind, seq, text, idx_body, idx_heading) VALUES (?, 'text', 0, ?, ?, ?)",
        passages,
    )
    media = [
        (item_id, entry.media_url, now) for item_id, entry in touched if entry.kind != "article" and entry.media_url
    ]
    conn.executemany(_QUEUE_MEDIA, media)
    counts["new"], counts["updated"] = len(fresh), len(changed)
    return counts


def _same_item(entry: Entry, known: dict[str, Any], marks: dict[str, str]) -> Entry:
    """The entry under the identity its item is stored with, when a GUID's sharing changed between
    syncs (see catalog.sources.feed_parser.distinct_guids): an entry alone with its GUID now, stored
    under the shared form while another entry had the GUID too, keeps that item; one of several
    sharing a GUID now, stored under the bare GUID when it had it alone, keeps that item."""
    guid, shared, mark = entry.guid.rpartition(SHARED_GUID)
    if not shared:
        alias = shared_guid(entry.guid, entry.mark)
        return replace(entry, guid=alias) if alias in known else entry
    if entry.guid not in known and guid in known and marks[guid] == mark:
        return replace(entry, guid=guid)
    return entry


def _dated(row: tuple[Any, ...], now: str) -> tuple[Any, ...]:
    """A new item's row, then first_seen_at and published_is: undated, it is dated when first seen."""
    if row[_PUBLISHED]:
        return (*row, now, "feed")
    return (*row[:_PUBLISHED], now, *row[_PUBLISHED + 1 :], now, "first_seen")


def item_text(db: Database, item_id: int) -> tuple[str | None, str | None]:
    """(title, body) of an item."""
    row = db.execute("SELECT title, body FROM items WHERE id = ?", [item_id]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def has_items(db: Database, feed_id: int) -> bool:
    """Whether the catalogue has any item of this feed yet (none: its first sync with entries is to come)."""
    return db.execute("SELECT 1 FROM items WHERE feed_id = ? LIMIT 1", [feed_id]).fetchone() is not None
