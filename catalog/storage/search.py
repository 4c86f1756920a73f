"""Full-text search over articles and transcripts, ranked together, fast at a million segments.

How a search runs (see `catalog.storage.query` for the language, `catalog.storage.index` for the
index): the query becomes one FTS5 MATCH, ranked by bm25 (titles and chapters weighted 3x) in a
LIMITed subquery. With filters (`--feed`, `--kind`, `--since`, `--until`) each match is joined to
its item through the narrow passages_owner index and only the matches kept are scored. Grouped by
item, the best rows are cut to three per item first. Only the rows that make the answer are joined
to their text and items, and turned into hits, with the snippet and the moment each match is
spoken worked out here from the passage's own text and word times. A query matching very many
passages is ranked among its newest ones (`catalog.storage.ranking.rank_floor`), looking further
back when those hold too few answers; heading_index finds its title and chapter matches of any age.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from catalog.storage.feeds import require_feed_id
from catalog.storage.index import BRIDGE_WORDS, analysers_in_use, newest_passage
from catalog.storage.moments import locate, snippet
from catalog.storage.query import Query, parse_query, raw_match, with_fts_stemmed
from catalog.storage.ranking import HEADING_INDEX, MAX_KEEP, Filters, rank_floor, ranked_rows
from catalog.storage.rows import Reader
from catalog.storage.tokens import analyse, analyser_for

MARK_START, MARK_END = "<mark>", "</mark>"
ROWS_PER_HIT = 2  # passages kept per hit asked for (one item may fill several places)
SPARE_ROWS = 10
MOMENTS_PER_ITEM = 3
HEADING_COLUMNS = "{idx_heading}"
_ITEM_FIELDS = ("item_id", "kind", "feed", "title", "url", "published", "published_is")


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
    published_is: str = "feed"  # or first_seen: the feed gave no readable date (see catalog.storage.items)
    match: str = "lexical"  # or semantic, or both (found by words and by meaning: catalog.storage.semantic)

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
    published_is: str = "feed"

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
    return grouped_items(hits, limit, sort)


def grouped_items(hits: list[Hit], limit: int, sort: str) -> list[ItemHits]:
    """Hits (best first) as the best `limit` items with their moments, best first (or newest)."""
    grouped = group_by_item(hits)
    if sort == "date":
        newest_first(grouped)
    return grouped[:limit]


def newest_first(entries: list[Hit] | list[ItemHits]) -> None:
    """Sort hits or items newest first, in place (undated last)."""
    entries.sort(key=lambda entry: entry.published or "", reverse=True)


def group_by_item(hits: list[Hit]) -> list[ItemHits]:
    items: dict[int, ItemHits] = {}
    for hit in hits:
        item = items.get(hit.item_id)
        if item is None:
            item = items[hit.item_id] = ItemHits(
                hit.item_id,
                hit.kind,
                hit.feed,
                hit.title,
                hit.url,
                hit.published,
                hit.score,
                published_is=hit.published_is,
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
        return Plan(Query(text, [], []), raw_match(text), None, where, with_fts_stemmed(analysers), newest)
    query = parse_query(text)
    headings = query.match(analysers, columns=HEADING_COLUMNS)
    return Plan(query, query.match(analysers), headings, where, with_fts_stemmed(analysers), newest)


@dataclass
class Plan:
    """A compiled search: what to match, how to filter, and what the catalogue holds (read once)."""

    query: Query
    match: str
    headings: str | None  # the same matched in titles and chapter titles only (None: a raw query)
    where: Filters
    analysers: list[str]  # every analyser the index was written with (for snippets and times)
    newest: int  # the newest passage's id (the rank floor counts back from it)


def _run(db: Reader, plan: Plan, *, want: int, sort: str, items: int | None = None) -> list[Hit]:
    """Hits for the best rows: `want` of them, or (`items`) the moments of the first `items` items.

    Only the rows that can make it into the answer are analysed for their snippet and time.
    """
    query, newest = plan.query, plan.newest
    floor = rank_floor(db, plan.match, newest) if sort == "relevance" and query.groups else None
    per_item = MOMENTS_PER_ITEM if items is not None else None
    # Rows kept: grouped, the cut to `per_item` is made in SQL, so the answer needs `want` rows and a
    # few spare (a bridge match found only in the next segment is dropped); flat, one item may fill
    # several places, so more.
    keep = want + SPARE_ROWS if per_item is not None else max(want * ROWS_PER_HIT, 50)
    window = keep * 4  # rows ranked to cut `per_item` from
    kept: list[dict[str, Any]] = []
    below = None
    while True:
        # bm25 scores a row the same whatever else is ranked: each pass ranks only the rows the
        # last did not reach, and the passes merge by score
        rows = ranked_rows(
            db,
            plan.match,
            plan.where,
            floor,
            sort,
            keep,
            below=below,
            per_item=per_item,
            window=window,
            text=query.text,
        )
        found = len({row["item_id"] for row in kept + rows}) if items is not None else len(kept) + len(rows)
        needed = items if items is not None else want
        if per_item is not None and found < needed and window < MAX_KEEP and rows and rows[0]["ranked"] >= window:
            window = MAX_KEEP  # a few items held all the best rows: cut from more
            continue
        kept += rows
        if found >= needed or floor is None:
            break
        # too few among the newest passages (filters kept few): look back as far again as should give
        # enough, going by how many these gave
        below = floor
        floor = newest - (newest - floor) * min(8, max(2, -(-3 * needed // (2 * max(1, found)))))
        floor = floor if floor > 0 else None
    if below is not None:
        kept = sorted(kept, key=lambda row: row["score"])[:keep]
    if floor is not None and plan.headings is not None:
        # Titles and chapter titles are few: their matches are all ranked, so one older than the
        # floor still comes before the body text it outranks.
        seen = {row["id"] for row in kept}
        headings = ranked_rows(
            db, plan.headings, plan.where, None, sort, keep, per_item=per_item, window=window, table=HEADING_INDEX
        )
        kept += [row for row in headings if row["id"] not in seen]
        kept = sorted(kept, key=lambda row: row["score"])[:keep]
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
        hit, found = hit_for(row, query, plan.analysers)
        # A phrase matched in a segment's bridge that lies wholly in the next segment is found there too:
        # only hits whose own text holds a match are kept (raw FTS5 queries have no terms to look for).
        if found or not query.groups:
            hits.append(hit)
            moments[hit.item_id] = moments.get(hit.item_id, 0) + 1
    return hits


def hit_for(row: dict[str, Any], query: Query, analysers: list[str]) -> tuple[Hit, bool]:
    """The hit for a passage row (passage and item columns as `ranked_rows` gives them, `score` a
    bm25 rank), and whether a match was found in the passage's own text."""
    text = row["text"]
    tokens = analyse(text, analyser_for(row["language"]))
    spans = locate(tokens, query, analysers, bridge_tail=BRIDGE_WORDS if row["passage"] == "segment" else 0)
    moment = _moment(row, text, spans) if row["start"] is not None else None
    marked = snippet(text, spans, MARK_START, MARK_END)
    hit = item_hit(row, marked, -row["score"], row["passage"], moment, row["speaker"])
    return hit, bool(spans)


def item_hit(
    row: dict[str, Any],
    snippet_text: str,
    score: float,
    passage: str,
    moment: tuple[float, str] | None = None,
    speaker: str | None = None,
) -> Hit:
    """A hit on one of an item's passages: the item's fields from `row` (kind, feed, title, link,
    enclosure_url, youtube_id, published, published_is, and `end` for a timed passage), and, for a
    spoken or timed passage, its `moment` (start, how the start was found) with a link there."""
    hit = Hit(
        item_id=row["item_id"],
        kind=row["kind"],
        feed=row["feed"],
        title=row["title"],
        url=row["link"] or row["enclosure_url"],
        published=row["published"],
        published_is=row["published_is"],
        snippet=snippet_text,
        score=round(score, 4) + 0.0,  # never -0.0 (a literal 0 score negated)
        passage=passage,
    )
    if moment is not None:
        hit.start, hit.start_is = round(moment[0], 2), moment[1]
        hit.end = round(row["end"], 2) if row["end"] is not None else None
        hit.speaker = speaker
        hit.link = media_link(row["enclosure_url"] or row["link"], row["youtube_id"], hit.start)
    return hit


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
