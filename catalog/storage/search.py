"""Full-text search over articles and transcripts, ranked together, fast at a million segments.

How a search runs (see `catalog.storage.query` for the language, `catalog.storage.index` for the
index): the query becomes one FTS5 MATCH, filters included (`--feed`, `--kind` and the months of
`--since`/`--until` are tokens in the index, so FTS5 intersects them before anything is ranked).
FTS5 ranks inside a LIMITed subquery (bm25, titles and chapters weighted 3x); only those rows are
joined to their items, checked against the exact dates, and turned into hits, with the snippet
and the moment each match is spoken worked out here from the passage's own text and word times.
When the exact-date check leaves too few, the window widens.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from catalog.errors import SearchQueryError
from catalog.storage.feeds import require_feed_id
from catalog.storage.index import BRIDGE_WORDS, analysers_in_use, feed_token, kind_token, month_token, year_token
from catalog.storage.moments import locate, snippet
from catalog.storage.query import Query, parse_query, quote, raw_match, with_fts_stemmed
from catalog.storage.rows import Reader
from catalog.storage.tokens import analyse, analyser_for

if TYPE_CHECKING:
    pass

MARK_START, MARK_END = "<mark>", "</mark>"
WINDOW_PER_HIT = 4  # passages ranked per hit asked for (one item may fill several places)
MAX_WINDOW = 20_000
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
            {
                k: v
                for k, v in moment.as_dict().items()
                if k not in ("item_id", "kind", "feed", "title", "url", "published")
            }
            for moment in self.moments
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
    query, match = _compile(db, text, raw=raw, kind=kind, feed=feed, since=since, until=until)
    return _run(db, query, match, since=since, until=until, want=limit, sort=sort)[:limit]


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
    query, match = _compile(db, text, raw=raw, kind=kind, feed=feed, since=since, until=until)
    hits = _run(db, query, match, since=since, until=until, want=limit * MOMENTS_PER_ITEM, sort="relevance")
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
    kind: str | None,
    feed: str | None,
    since: date | None,
    until: date | None,
) -> tuple[Query, str]:
    filters = []
    if feed is not None:
        filters.append(f"idx_meta: {quote(feed_token(require_feed_id(db, feed)))}")
    if kind is not None:
        filters.append(f"idx_meta: {quote(kind_token(kind))}")
    if since is not None or until is not None:
        filters.append(_date_filter(since, until))
    if raw:
        query = Query(text, [], [])
        match = f"({raw_match(text)})" + "".join(f" AND {f}" for f in filters)
        return query, match
    query = parse_query(text)
    return query, query.match(analysers_in_use(db), filters)


def _date_filter(since: date | None, until: date | None) -> str:
    """The months (whole years as years) from `since` to `until`, as index tokens ORed together."""
    first = since or date(1900, 1, 1)
    last = until or date(2200, 12, 31)
    if first > last:
        return f"idx_meta: {quote(year_token(0))}"  # nothing can match
    if since is None:
        first = date(1900, 1, 1)
    tokens: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        if month == 1 and (year < last.year or last.month == 12) and len(tokens) < 10_000:
            tokens.append(year_token(year))
            year += 1
            continue
        tokens.append(month_token(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if since is None or until is None:  # open-ended: only the years that can hold items
        tokens = [t for t in tokens if _plausible(t)]
    return "idx_meta: (" + " OR ".join(quote(t) for t in tokens) + ")"


def _plausible(token: str) -> bool:
    year = int(token[2:6])
    return 1980 <= year <= date.today().year + 1


def _run(
    db: Reader,
    query: Query,
    match: str,
    *,
    since: date | None,
    until: date | None,
    want: int,
    sort: str,
) -> list[Hit]:
    window = max(want * WINDOW_PER_HIT, 50)
    while True:
        rows = _rows(db, match, window, sort, query.text)
        kept = [row for row in rows if _in_dates(row["published"], since, until)]
        if len(kept) >= want or len(rows) < window or window >= MAX_WINDOW:
            break
        window *= 4
    analysers = with_fts_stemmed(analysers_in_use(db))
    hits = [_hit(row, query, analysers) for row in kept[: max(want, 1) * WINDOW_PER_HIT]]
    # A phrase matched in a segment's bridge that lies wholly in the next segment is found there too:
    # only hits whose own text holds a match are kept (raw FTS5 queries have no terms to look for).
    return [hit for hit, found in hits if found or not query.groups]


def _rows(db: Reader, match: str, window: int, sort: str, text: str) -> list[dict[str, Any]]:
    order = "r.rowid DESC" if sort == "date" else "r.rank"
    inner = "ORDER BY rowid DESC" if sort == "date" else "ORDER BY rank"
    sql = f"""
        SELECT p.item_id, p.kind AS passage, p.start, p."end", p.speaker, p.text, p.words, r.rank,
               i.kind, i.title, i.link, i.published, i.enclosure_url, i.youtube_id,
               COALESCE(i.language, f.language) AS language, f.name AS feed
        FROM (SELECT rowid, rank FROM search_index WHERE search_index MATCH :match {inner} LIMIT :window) r
        JOIN passages p ON p.id = r.rowid
        JOIN items i ON i.id = p.item_id
        JOIN feeds f ON f.id = i.feed_id
        ORDER BY {order}
    """
    try:
        cursor = db.execute(sql, {"match": match, "window": window})
    except sqlite3.OperationalError as exc:
        raise SearchQueryError(
            f"invalid search query {text!r}: {exc}",
            hint='put words in double quotes to search for them literally, e.g. "NEAR"',
        ) from exc
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if sort == "date":
        rows.sort(key=lambda row: row["published"] or "", reverse=True)
    return rows


def _in_dates(published: str | None, since: date | None, until: date | None) -> bool:
    if since is None and until is None:
        return True
    if not published:
        return False
    if since is not None and published < since.isoformat():
        return False
    return not (until is not None and published >= (until + timedelta(days=1)).isoformat())


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
        words = json.loads(row["words"])
        at = 0
        for word_start, _word_end, word in words:
            found = text.find(str(word).strip(), at)
            if found < 0:
                continue
            if found + len(str(word).strip()) > offset:
                return float(word_start), "word"
            at = found + len(str(word).strip())
    if end > start and text:
        return start + (end - start) * offset / len(text), "estimate"
    return start, "segment"
