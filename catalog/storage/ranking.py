"""Ranking in SQL: which passages a search answers with, best first, at a million segments.

FTS5 ranks by bm25 in a LIMITed subquery; filters and the cut to a few moments per item are
applied through narrow indexes (passages_owner, items' primary key) before any wide row is read;
a query matching very many passages is ranked among its newest (`rank_floor`). What a hit shows
is made from these rows in `catalog.storage.search`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from catalog.errors import SearchQueryError
from catalog.storage import driver
from catalog.storage.index import score_sql
from catalog.storage.rows import Reader

RANKED_MATCHES = 2_000  # a query matching more is ranked among about this many of its newest matches
SAMPLE_PASSAGES = 50_000  # the newest passages a query's matches are counted in, to estimate them all
MAX_KEEP = 2_000  # rows cut to a few per item, at most (when a few items hold all the best)
HEADING_INDEX = "heading_index"  # titles and chapter titles only (see catalog.storage.index)
OWNER_INDEX = "passages_owner"  # passages(id, item_id): a passage's item without reading the passage


def rank_floor(db: Reader, match: str, newest: int) -> int | None:
    """The oldest passage to rank, when the query matches so many that ranking them all would be slow.

    FTS5 computes bm25 for every match before it can return the best ten; a word in most passages
    ("the") has a million. Such a query is ranked among its newest RANKED_MATCHES matches or so (the
    passages after the floor this returns, assuming matches spread evenly), and further back only
    when those hold too few answers. None: rank them all. `newest`: the newest passage's id.
    """
    estimate = estimate_matches(db, match, newest)
    if estimate <= RANKED_MATCHES:
        return None
    floor = newest - newest * RANKED_MATCHES // estimate
    return floor if floor > 0 else None


def estimate_matches(db: Reader, match: str, newest: int) -> int:
    """How many passages the MATCH expression holds, estimated from the newest SAMPLE_PASSAGES
    (FTS5 counts those quickly: it walks only that end of each doclist); `newest`: the newest id."""
    floor = max(0, newest - SAMPLE_PASSAGES)
    found = db.execute(
        "SELECT COUNT(*) FROM search_index WHERE search_index MATCH ? AND rowid > ?", [match, floor]
    ).fetchone()[0]
    return int(found) * newest // max(1, newest - floor)


@dataclass
class Filters:
    """--feed, --kind, --since, --until: applied to the rows FTS5 ranked, in SQL."""

    feed_id: int | None = None
    kind: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def any(self) -> bool:
        return any(value is not None for value in (self.feed_id, self.kind, self.since, self.until))

    def sql(self) -> tuple[str, dict[str, object]]:
        """(the conditions on `i`, the items table, joined with AND or '' for none; their parameters)"""
        where: list[str] = []
        params: dict[str, object] = {}
        if self.feed_id is not None:
            where.append("i.feed_id = :feed_id")
            params["feed_id"] = self.feed_id
        if self.kind is not None:
            where.append("i.kind = :kind")
            params["kind"] = self.kind
        if self.since is not None:
            where.append("i.published >= :since")
            params["since"] = self.since.isoformat()
        if self.until is not None:
            where.append("i.published < :until")
            params["until"] = (self.until + timedelta(days=1)).isoformat()
        return " AND ".join(where), params


def ranked_rows(
    db: Reader,
    match: str,
    where: Filters,
    floor: int | None,
    sort: str,
    keep: int,
    *,
    below: int | None = None,
    per_item: int | None = None,
    window: int | None = None,
    table: str = "search_index",
    text: str = "",
) -> list[dict[str, Any]]:
    """The best `keep` passages matching `match` that the filters keep (newest first with sort='date'),
    with what a hit shows: ids from `floor` to before `below`, at most `per_item` of one item.

    Without filters FTS5 ranks its matches itself (`ORDER BY rank`). With filters each match is
    first joined to its item through narrow lookups, and only the matches the filters keep are
    scored: a filter that keeps one passage in twenty saves nineteen bm25 computations, and ranking
    all before filtering would also need a window wide enough for the filters to fill. With
    `per_item`, the best `window` are cut to that many per item (so one long episode saying the word
    a hundred times cannot crowd out the other items; each row's `ranked` says how many were cut
    from). Only the `keep` best rows are joined to their text, words and item.
    """
    bound = f"AND s.rowid >= {int(floor)}" if floor is not None else ""  # FTS5 applies it as it walks
    if below is not None:
        bound += f" AND s.rowid < {int(below)}"
    filters, params = where.sql()
    if sort == "date":
        order = "s.rowid DESC"
    elif where.any:
        order = "score"
    else:
        order = "s.rank"
    score = score_sql(table) if where.any else "s.rank"
    joins = (
        f"CROSS JOIN passages fp INDEXED BY {OWNER_INDEX} ON fp.id = s.rowid CROSS JOIN items i ON i.id = fp.item_id"
        if filters
        else ""
    )
    ranked = f"""SELECT s.rowid AS id, {score} AS score FROM {table} s {joins}
              WHERE {table} MATCH :match {bound}{" AND " + filters if filters else ""}
              ORDER BY {order} LIMIT :window"""
    best = "id DESC" if sort == "date" else "score"
    if per_item is not None:
        ranked = f"""SELECT id, score, ranked FROM (
                SELECT r0.id, r0.score, ROW_NUMBER() OVER (PARTITION BY q.item_id ORDER BY r0.{best}) AS nth,
                       COUNT(*) OVER () AS ranked
                FROM ({ranked}) r0 CROSS JOIN passages q INDEXED BY {OWNER_INDEX} ON q.id = r0.id)
            WHERE nth <= {int(per_item)} ORDER BY {best} LIMIT :keep"""
    sql = f"""
        SELECT p.id, p.item_id, p.kind AS passage, p.start, p."end", p.speaker, p.text, p.words, r.score,
               {"r.ranked" if per_item is not None else "NULL"} AS ranked,
               i.kind, i.title, i.link, i.published, i.published_is, i.enclosure_url, i.youtube_id,
               COALESCE(i.language, f.language) AS language, f.name AS feed
        FROM ({ranked}) r
        CROSS JOIN passages p ON p.id = r.id
        CROSS JOIN items i ON i.id = p.item_id
        CROSS JOIN feeds f ON f.id = i.feed_id
        ORDER BY {"r.id DESC" if sort == "date" else "r.score"}
    """
    try:
        cursor = db.execute(sql, {"match": match, "keep": keep, "window": window or keep, **params})
    except driver.OperationalError as exc:
        raise SearchQueryError(
            f"invalid search query {text!r}: {exc}",
            hint='put words in double quotes to search for them literally, e.g. "NEAR"',
        ) from exc
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if sort == "date":
        rows.sort(key=lambda row: row["published"] or "", reverse=True)
    return rows
