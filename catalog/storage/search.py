"""Full-text search over articles and transcripts, ranked together, fast at a million segments.

How a search runs (see `catalog.storage.query` for the language, `catalog.storage.index` for the
index): the query becomes one FTS5 MATCH. FTS5 ranks inside a LIMITed subquery (bm25, titles and
chapters weighted 3x); only those rows are joined to their items and filtered (`--feed`, `--kind`,
`--since`, `--until`), and the best are turned into hits, with the snippet and the moment each
match is spoken worked out here from the passage's own text and word times. When the filters leave
too few, the window widens. A query matching very many passages is ranked among its newest ones
(`_rank_floor`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from catalog.errors import SearchQueryError
from catalog.storage.feeds import require_feed_id
from catalog.storage.index import BRIDGE_WORDS, analysers_in_use, newest_passage
from catalog.storage.moments import locate, snippet
from catalog.storage.query import Query, parse_query, raw_match, with_fts_stemmed
from catalog.storage.rows import Reader
from catalog.storage.tokens import analyse, analyser_for

MARK_START, MARK_END = "<mark>", "</mark>"
WINDOW_PER_HIT = 4  # passages ranked per hit asked for (one item may fill several places)
MAX_WINDOW = 20_000
RANKED_MATCHES = 5_000  # a query matching more is ranked among about this many of its newest matches
SAMPLE_PASSAGES = 50_000  # the newest passages a query's matches are counted in, to estimate them all
MOMENTS_PER_ITEM = 3
_ITEM_FIELDS = ("item_id", "kind", "feed", "title", "url", "published")


@dataclass
class Hit:
    item_id: int
    kind: str
    feed: str
    title: str | None
    url: str | None
    published: str | None
    snippet: str
    score: float
    passage: str
    start: float | None = None
    end: float | None = None
    link: str | None = None
    speaker: str | None = None
    start_is: str | None = None  # word (a word's own time), estimate (inside a cue or paragraph), segment

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        if self.start is None:
            for key in ("start", "end", "link", "speaker", "start_is"):
                data.pop(key)
        return data


@dataclass
class ItemHits:
    """One item and its best moments (up to three), for `--by-item` and the grouped human output."""

    item_id: int
    kind: str
    feed: str
    title: str | None
    url: str | None
    published: str | None
    score: float
    moments: list[Hit] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data = {key: value for key, value in asdict(self).items() if key != "moments"}
        data["moments"] = [
            {k: v for k, v in moment.as_dict().items() if k not in _ITEM_FIELDS} for moment in self.moments
        ]
        return data


def search(
    db: Reader,
    text: str,
    *,
    kind: str | None = None,
    feed: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 20,
    raw: bool = False,
    sort: str = "relevance",
) -> list[Hit]:
    """The best passages for `text`, best first (or newest first with sort='date'), at most `limit`."""
    plan = _compile(db, text, raw=raw, feed=feed, kind=kind, since=since, until=until)
    return _run(db, plan, want=limit, sort=sort)[:limit]


def search_items(
    db: Reader,
    text: str,
    *,
    kind: str | None = None,
    feed: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 20,
    raw: bool = False,
    sort: str = "relevance",
) -> list[ItemHits]:
    """The best items for `text`, each with up to three moments, best item first (or newest)."""
    plan = _compile(db, text, raw=raw, feed=feed, kind=kind, since=since, until=until)
    hits = _run(db, plan, want=limit * MOMENTS_PER_ITEM, sort="relevance", items=limit)
    grouped = group_by_item(hits)
    if sort == "date":
        grouped.sort(key=lambda item: item.published or "", reverse=True)
    return grouped[:limit]


def group_by_item(hits: list[Hit]) -> list[ItemHits]:
    items: dict[int, ItemHits] = {}
    for hit in hits:
        item = items.get(hit.item_id)
        if item is None:
            item = items[hit.item_id] = ItemHits(
                hit.item_id, hit.kind, hit.feed, hit.title, hit.url, hit.published, hit.score
            )
        duplicate = any(m.start == hit.start and m.passage == hit.passage for m in item.moments if m.start is not None)
        if len(item.moments) < MOMENTS_PER_ITEM and not duplicate:
            item.moments.append(hit)
    return list(items.values())


def media_link(url: str | None, youtube_id: str | None, seconds: float) -> str | None:
    """A URL that opens the media at `seconds`: `&t=Ns` on YouTube, a `#t=N` media fragment elsewhere."""
    whole = int(seconds)
    if youtube_id:
        return f"https://www.youtube.com/watch?v={youtube_id}&t={whole}s"
    if not url:
        return None
    return f"{url.split('#')[0]}#t={whole}"


# --- compiling and running --------------------------------------------------------------------------


def _compile(
    db: Reader,
    text: str,
    *,
    raw: bool,
    feed: str | None,
    kind: str | None,
    since: date | None,
    until: date | None,
) -> Plan:
    """The parsed query, its FTS5 MATCH and the filters (an unknown feed is an error, not no answer)."""
    where = Filters(require_feed_id(db, feed) if feed is not None else None, kind, since, until)
    analysers = analysers_in_use(db)
    newest = newest_passage(db)
    if raw:
        return Plan(Query(text, [], []), raw_match(text), where, with_fts_stemmed(analysers), newest)
    query = parse_query(text)
    return Plan(query, query.match(analysers), where, with_fts_stemmed(analysers), newest)


@dataclass
class Plan:
    """A compiled search: what to match, how to filter, and what the catalogue holds (read once)."""

    query: Query
    match: str
    where: Filters
    analysers: list[str]  # every analyser the index was written with (for snippets and times)
    newest: int  # the newest passage's id (the rank floor counts back from it)


def _run(db: Reader, plan: Plan, *, want: int, sort: str, items: int | None = None) -> list[Hit]:
    """Hits for the best rows: `want` of them, or (`items`) the moments of the first `items` items.

    Only the rows that can make it into the answer are analysed for their snippet and time.
    """
    query, where, newest = plan.query, plan.where, plan.newest
    floor = _rank_floor(db, plan) if sort == "relevance" else None
    # Without filters the best few rows are the answer. With filters, every ranked row is a candidate:
    # FTS5 ranks them all anyway (the floor keeps them few), and joining them to their items is cheap.
    keep = max(want * WINDOW_PER_HIT, 50)
    window = MAX_WINDOW if where.any else keep
    while True:
        ranked, kept = _rows(db, plan.match, window, sort, query.text, floor, where, keep=keep)
        if len(kept) >= want:
            break
        if floor is not None:  # too few among the newest passages: look further back
            floor = newest - (newest - floor) * 8
            floor = floor if floor > 0 else None
            continue
        if ranked < window or window >= MAX_WINDOW:
            break
        window = min(window * 4, MAX_WINDOW)
    hits: list[Hit] = []
    moments: dict[int, int] = {}
    for row in kept:
        if items is not None:
            if row["item_id"] not in moments and len(moments) >= items:
                continue
            if moments.get(row["item_id"], 0) >= MOMENTS_PER_ITEM:
                continue
        elif len(hits) >= want:
            break
        hit, found = _hit(row, query, plan.analysers)
        # A phrase matched in a segment's bridge that lies wholly in the next segment is found there too:
        # only hits whose own text holds a match are kept (raw FTS5 queries have no terms to look for).
        if found or not query.groups:
            hits.append(hit)
            moments[hit.item_id] = moments.get(hit.item_id, 0) + 1
    return hits


def _rank_floor(db: Reader, plan: Plan) -> int | None:
    """The oldest passage to rank, when the query matches so many that ranking them all would be slow.

    FTS5 computes bm25 for every match before it can return the best ten; a word in most passages
    ("the") has a million. Such a query is ranked among its newest RANKED_MATCHES matches or so (the
    passages after the floor this returns, assuming matches spread evenly), and further back only
    when those hold too few answers. None: rank them all.
    """
    if not plan.query.groups:
        return None
    newest = plan.newest
    estimate = estimate_matches(db, plan.match, newest)
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
        return (" WHERE " + " AND ".join(where) if where else ""), params


def _rows(
    db: Reader, match: str, window: int, sort: str, text: str, floor: int | None, where: Filters, keep: int
) -> tuple[int, list[dict[str, Any]]]:
    """(how many rows FTS5 ranked, the best `keep` of them the filters keep)."""
    inner = "ORDER BY rowid DESC" if sort == "date" else "ORDER BY rank"
    if floor is not None:
        inner = f"AND rowid >= {int(floor)} {inner}"  # a bound FTS5 applies as it walks the doclists
    filters, params = where.sql()
    sql = f"""
        SELECT p.item_id, p.kind AS passage, p.start, p."end", p.speaker, p.text, p.words, r.rank,
               i.kind, i.title, i.link, i.published, i.enclosure_url, i.youtube_id,
               COALESCE(i.language, f.language) AS language, f.name AS feed, r.n
        FROM (SELECT rowid, rank, COUNT(*) OVER () AS n
              FROM (SELECT rowid, rank FROM search_index WHERE search_index MATCH :match {inner} LIMIT :window)) r
        JOIN passages p ON p.id = r.rowid
        JOIN items i ON i.id = p.item_id
        JOIN feeds f ON f.id = i.feed_id{filters}
        ORDER BY {"r.rowid DESC" if sort == "date" else "r.rank"}
        LIMIT :keep
    """
    try:
        cursor = db.execute(sql, {"match": match, "window": window, "keep": keep, **params})
    except sqlite3.OperationalError as exc:
        raise SearchQueryError(
            f"invalid search query {text!r}: {exc}",
            hint='put words in double quotes to search for them literally, e.g. "NEAR"',
        ) from exc
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    # with no row kept, how many were ranked does not matter: without filters none were, and with
    # filters the window is already the widest
    ranked = rows[0]["n"] if rows else 0
    if sort == "date":
        rows.sort(key=lambda row: row["published"] or "", reverse=True)
    return ranked, rows


def _hit(row: dict[str, Any], query: Query, analysers: list[str]) -> tuple[Hit, bool]:
    """The hit for a row, and whether a match was found in the passage's own text."""
    text = row["text"]
    tokens = analyse(text, analyser_for(row["language"]))
    spans = locate(tokens, query, analysers, bridge_tail=BRIDGE_WORDS if row["passage"] == "segment" else 0)
    hit = Hit(
        item_id=row["item_id"],
        kind=row["kind"],
        feed=row["feed"],
        title=row["title"],
        url=row["link"] or row["enclosure_url"],
        published=row["published"],
        snippet=snippet(text, spans, MARK_START, MARK_END),
        score=round(-row["rank"], 4),
        passage=row["passage"],
    )
    if row["start"] is not None:
        start, start_is = _moment(row, text, spans)
        hit.start, hit.start_is = round(start, 2), start_is
        hit.end = round(row["end"], 2) if row["end"] is not None else None
        hit.speaker = row["speaker"]
        hit.link = media_link(row["enclosure_url"] or row["link"], row["youtube_id"], hit.start)
    return hit, bool(spans)


def _moment(row: dict[str, Any], text: str, spans: list[tuple[int, int]]) -> tuple[float, str]:
    """When the first match is said: its word's own time, else an estimate inside the cue or paragraph."""
    start, end = float(row["start"]), float(row["end"] if row["end"] is not None else row["start"])
    if not spans or row["passage"] == "chapter":  # a chapter's title is not spoken: its start is the moment
        return start, "segment"
    offset = spans[0][0]
    if row["words"]:
        at = 0
        for word_start, _word_end, word in json.loads(row["words"]):
            spoken = str(word).strip()
            found = text.find(spoken, at)
            if found < 0:
                continue
            at = found + len(spoken)
            if at > offset:
                return float(word_start), "word"
    if end > start and text:
        return start + (end - start) * offset / len(text), "estimate"
    return start, "segment"
