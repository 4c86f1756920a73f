"""Saved searches (`catalog watch`): stored queries matched against every passage indexed after them.

The flow, and why each step is its own transaction (the delivery guarantee is at-least-once):

1. `check` (one transaction, by the caller's `write()`): each saved search is matched against the
   passages queued since its last check (`watch_queue`, filled by a trigger as passages are
   indexed; see migration 0008), the matches are recorded as pending, and its position is moved on.
   A crash before the commit leaves the queue and the positions as they were: the next check does it again.
2. The caller delivers `unreported` matches (prints them) and then `mark_reported`; webhooks get
   `unsent` and then `mark_sent`. A crash between delivering and marking delivers those matches once
   more on the next run: never lost, at worst said twice.

A saved search reports each item once, ever: its first matching passage (`UNIQUE (watch_id, item_id)`),
so a transcript indexed after its episode's description matched does not report the episode again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from catalog.embedding import WATCH_SIMILARITY, Embedder
from catalog.errors import NotFoundError, WatchError
from catalog.storage.clock import iso, utcnow
from catalog.storage.feeds import require_feed_id
from catalog.storage.index import analysers_in_use
from catalog.storage.query import parse_query, with_fts_stemmed
from catalog.storage.ranking import Filters
from catalog.storage.rows import Reader, dict_rows
from catalog.storage.search import Hit, hit_for
from catalog.storage.semantic import window_hits
from catalog.storage.vector_index import nearest_windows
from catalog.storage.vectors import quantize, state

WATCH_COLUMNS = "id, name, query, feed, kind, semantic, webhook, created_at, checked_through, checked_window"
NEW_WINDOWS_K = 1000  # windows a saved search by meaning can match in one check


@dataclass
class Watch:
    id: int
    name: str
    query: str
    feed: str | None
    kind: str | None
    semantic: bool
    webhook: str | None
    created_at: str
    checked_through: int  # the last watch_queue position matched
    checked_window: int = 0  # the last vector window matched by meaning (a semantic one)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "query": self.query,
            "feed": self.feed,
            "kind": self.kind,
            "semantic": self.semantic,
            "webhook": self.webhook,
            "created_at": self.created_at,
        }


@dataclass
class WatchMatch:
    """A passage a saved search matched, as it read when found."""

    id: int
    watch: str
    hit: Hit
    found_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "watch": self.watch, "found_at": self.found_at, **self.hit.as_dict()}


def _watch(row: dict[str, Any]) -> Watch:
    return Watch(**{**row, "semantic": bool(row["semantic"])})


def list_watches(db: Reader) -> list[Watch]:
    return [_watch(row) for row in dict_rows(db, f"SELECT {WATCH_COLUMNS} FROM saved_searches ORDER BY name")]


def get_watch(db: Reader, name: str) -> Watch:
    rows = dict_rows(db, f"SELECT {WATCH_COLUMNS} FROM saved_searches WHERE name = ?", [name])
    if not rows:
        known = ", ".join(watch.name for watch in list_watches(db)) or "none"
        raise NotFoundError(f"no saved search named {name!r}", hint=f"the saved searches are: {known}")
    return _watch(rows[0])


def add_watch(
    db: Reader,
    name: str,
    query: str,
    *,
    feed: str | None = None,
    kind: str | None = None,
    semantic: bool = False,
    webhook: str | None = None,
) -> Watch:
    """Save a search (the caller holds `write()`); it is matched against passages indexed from now on.

    Raises SearchQueryError for a query that cannot be searched, NotFoundError for a feed the catalogue
    does not have, WatchError for a name taken or a webhook that is not an http(s) URL.
    """
    parse_query(query)
    if feed is not None:
        require_feed_id(db, feed)
    if webhook is not None:
        parts = urlsplit(webhook)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WatchError(
                f"webhook {webhook!r} is not an http(s) URL",
                hint="give the full address, e.g. https://example.org/hook",
            )
    if db.execute("SELECT 1 FROM saved_searches WHERE name = ?", [name]).fetchone():
        raise WatchError(f"a saved search named {name!r} exists already", hint="pick another --name, or remove it")
    # Where the queue is now: passages queued before this search was saved are not its news.
    top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'watch_queue'").fetchone()[0]
    window = db.execute("SELECT COALESCE(MAX(id), 0) FROM vector_windows").fetchone()[0]
    db.execute(
        "INSERT INTO saved_searches (name, query, feed, kind, semantic, webhook, created_at, checked_through,"
        " checked_window) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [name, query, feed, kind, int(semantic), webhook, iso(utcnow()), int(top), int(window)],
    )
    return get_watch(db, name)


def remove_watch(db: Reader, name: str) -> None:
    """Forget a saved search and its matches (the caller holds `write()`)."""
    watch = get_watch(db, name)
    db.execute("DELETE FROM watch_matches WHERE watch_id = ?", [watch.id])
    db.execute("DELETE FROM saved_searches WHERE id = ?", [watch.id])
    if not db.execute("SELECT 1 FROM saved_searches").fetchone():
        db.execute("DELETE FROM watch_queue")


def check(db: Reader, embedder: Embedder | None = None) -> int:
    """Match every saved search against the passages queued since its last check and record what it
    finds (the caller holds `write()`); empties the queue. With `embedder` (the semantic extra, and
    vectors of its model), a saved search by meaning is also matched against the windows embedded
    since. Returns how many new matches were recorded."""
    top = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM watch_queue").fetchone()[0])
    by_meaning = embedder is not None and state(db, embedder.model) == "ready"
    last_window = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM vector_windows").fetchone()[0])
    found = 0
    now = iso(utcnow())
    for watch in list_watches(db):
        hits: list[Hit] = []
        if watch.checked_through < top:
            ids = [
                int(row[0])
                for row in db.execute(
                    "SELECT passage_id FROM watch_queue WHERE seq > ? AND seq <= ? ORDER BY seq",
                    [watch.checked_through, top],
                )
            ]
            hits += match_passages(db, watch, ids)
            db.execute("UPDATE saved_searches SET checked_through = ? WHERE id = ?", [top, watch.id])
        if watch.semantic and by_meaning and embedder is not None and watch.checked_window < last_window:
            hits += match_windows(db, watch, embedder, last_window)
            db.execute("UPDATE saved_searches SET checked_window = ? WHERE id = ?", [last_window, watch.id])
        for hit in hits:
            cursor = db.execute(
                "INSERT OR IGNORE INTO watch_matches (watch_id, item_id, hit, found_at) VALUES (?, ?, ?, ?)",
                [watch.id, hit.item_id, json.dumps(asdict(hit)), now],
            )
            found += cursor.rowcount
    db.execute("DELETE FROM watch_queue WHERE seq <= ?", [top])
    return found


def match_windows(db: Reader, watch: Watch, embedder: Embedder, upto: int) -> list[Hit]:
    """The windows embedded after the watch's last check (up to `upto`) whose meaning is within
    WATCH_SIMILARITY of its query, oldest first, a hit each."""
    feed_id = None
    if watch.feed is not None:
        row = db.execute("SELECT id FROM feeds WHERE name = ?", [watch.feed]).fetchone()
        if row is None:
            return []
        feed_id = int(row[0])
    filters, params = Filters(feed_id, watch.kind).sql()
    where = "w.id > :watch_after AND w.id <= :watch_upto" + (f" AND {filters}" if filters else "")
    params = {"watch_after": watch.checked_window, "watch_upto": upto, **params}
    near = nearest_windows(db, quantize(embedder.query(watch.query)), NEW_WINDOWS_K, where, params)
    close = sorted((wid, score) for wid, score in near if score >= WATCH_SIMILARITY)
    return window_hits(db, close)


def match_passages(db: Reader, watch: Watch, passage_ids: Sequence[int]) -> list[Hit]:
    """The passages among `passage_ids` that `watch` matches, oldest first, a hit each.

    The one place a saved search is matched by its words; by meaning, `match_windows`.
    """
    if not passage_ids:
        return []
    query = parse_query(watch.query)
    analysers = analysers_in_use(db)
    feed_id = None
    if watch.feed is not None:
        row = db.execute("SELECT id FROM feeds WHERE name = ?", [watch.feed]).fetchone()
        if row is None:  # the feed has gone from the catalogue: nothing of it can match
            return []
        feed_id = int(row[0])
    filters, params = Filters(feed_id, watch.kind).sql()
    cursor = db.execute(
        f"""SELECT p.id, p.item_id, p.kind AS passage, p.start, p."end", p.speaker, p.text, p.words, 0.0 AS score,
                   i.kind, i.title, i.link, i.published, i.published_is, i.enclosure_url, i.youtube_id,
                   COALESCE(i.language, f.language) AS language, f.name AS feed
            FROM search_index s
            CROSS JOIN passages p ON p.id = s.rowid
            CROSS JOIN items i ON i.id = p.item_id
            CROSS JOIN feeds f ON f.id = i.feed_id
            WHERE search_index MATCH :match AND s.rowid IN (SELECT value FROM json_each(:ids))
            {"AND " + filters if filters else ""}
            ORDER BY s.rowid""",
        {"match": query.match(analysers), "ids": json.dumps(list(passage_ids)), **params},
    )
    columns = [d[0] for d in cursor.description]
    found = []
    stemmers = with_fts_stemmed(analysers)
    for values in cursor.fetchall():
        hit, matched = hit_for(dict(zip(columns, values, strict=True)), query, stemmers)
        if not matched and query.groups:  # matched only through the next segment's words: found there
            continue
        found.append(hit)
    return found


def _matches(db: Reader, where: str) -> list[tuple[Watch, WatchMatch]]:
    rows = dict_rows(
        db,
        f"SELECT m.id, m.watch_id, m.hit, m.found_at FROM watch_matches m WHERE {where} ORDER BY m.id",
    )
    watches = {watch.id: watch for watch in list_watches(db)}
    return [
        (
            watches[row["watch_id"]],
            WatchMatch(row["id"], watches[row["watch_id"]].name, Hit(**json.loads(row["hit"])), row["found_at"]),
        )
        for row in rows
    ]


def unreported(db: Reader) -> list[WatchMatch]:
    """Matches not yet printed, oldest first."""
    return [match for _watch, match in _matches(db, "m.reported_at IS NULL")]


def unsent(db: Reader) -> list[tuple[Watch, list[WatchMatch]]]:
    """Per saved search with a webhook, the matches its webhook has not taken yet, oldest first."""
    grouped: dict[int, tuple[Watch, list[WatchMatch]]] = {}
    where = "m.webhook_sent_at IS NULL AND m.watch_id IN (SELECT id FROM saved_searches WHERE webhook IS NOT NULL)"
    for watch, match in _matches(db, where):
        grouped.setdefault(watch.id, (watch, []))[1].append(match)
    return list(grouped.values())


def mark_reported(db: Reader, match_ids: Sequence[int]) -> None:
    db.execute(
        "UPDATE watch_matches SET reported_at = ? WHERE reported_at IS NULL AND id IN (SELECT value FROM json_each(?))",
        [iso(utcnow()), json.dumps(list(match_ids))],
    )


def mark_sent(db: Reader, match_ids: Sequence[int]) -> None:
    db.execute(
        "UPDATE watch_matches SET webhook_sent_at = ? WHERE id IN (SELECT value FROM json_each(?))",
        [iso(utcnow()), json.dumps(list(match_ids))],
    )
