"""Search by meaning, and the hybrid search that fuses it with the full-text one.

`semantic_search` embeds the query (multilingual-e5, `catalog.embedding`) and ranks the windows of
`catalog.storage.vectors` by cosine. `hybrid_search` runs the bm25 search of `catalog.storage.search`
and the semantic one, and fuses the two lists by reciprocal rank fusion: each hit scores
1/(RRF_K + its rank) in each list it is in, summed. A full-text hit and a semantic window are one
hit when they are the same moment (same item, and the match inside the window's time; for an
article, the same item's text): it keeps the full-text hit's snippet and word time, and its
`match` is "both"; the others are "lexical" or "semantic".
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from catalog.embedding import BACKGROUND_SAMPLE, STANDOUT, Embedder
from catalog.errors import SearchQueryError, VectorModelError
from catalog.storage.feeds import require_feed_id
from catalog.storage.moments import snippet
from catalog.storage.ranking import Filters
from catalog.storage.rows import Reader, dict_rows
from catalog.storage.search import (
    MARK_END,
    MARK_START,
    MOMENTS_PER_ITEM,
    Hit,
    ItemHits,
    grouped_items,
    item_hit,
    newest_first,
)
from catalog.storage.search import search as lexical_search
from catalog.storage.vector_index import background
from catalog.storage.vectors import nearest, quantize, state

if TYPE_CHECKING:
    from catalog.embedding import Vectors

RRF_K = 60  # the usual constant: a rank-1 hit in one list is worth about as much as rank 3 in both
DEPTH = 50  # hits taken from each list before fusing (more when more are asked for)
_SYNTAX = re.compile(r'["*()]|(?<!\S)-\S+|\b(?:OR|AND|NOT|NEAR)\b')


def check_vectors(db: Reader, embedder: Embedder) -> None:
    """SearchQueryError unless the catalogue holds vectors of the installed model."""
    found = state(db, embedder.model)
    if found == "changed":
        raise VectorModelError(
            f"the catalogue's vectors were made by another embedding model than {embedder.model}",
            hint="run `catalog reindex --semantic` to embed it again with the installed model",
        )
    if found == "empty":
        raise SearchQueryError(
            "the catalogue has no vectors for search by meaning yet", hint="run `catalog reindex --semantic`"
        )


def semantic_search(
    db: Reader,
    embedder: Embedder,
    text: str,
    *,
    kind: str | None = None,
    feed: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 20,
    sort: str = "relevance",
    vector: Vectors | None = None,
) -> list[Hit]:
    """The windows closest in meaning to `text` (its `vector`, when the caller has embedded it already),
    best first (or newest first with sort='date')."""
    check_vectors(db, embedder)
    where = Filters(require_feed_id(db, feed) if feed is not None else None, kind, since, until)
    found = nearest(db, query_vector(embedder, text) if vector is None else vector, where, limit)
    hits = window_hits(db, found)
    if sort == "date":
        newest_first(hits)
    return hits


def query_vector(embedder: Embedder, text: str) -> Vectors:
    """The query embedded, its search syntax (quotes, OR, -word) left out."""
    return embedder.query(_SYNTAX.sub(" ", text).strip() or text)


def standout_bar(db: Reader, vector: Vectors) -> float:
    """How close a window must be to the query (`vector`) to be shown when none of its words is in the
    catalogue: STANDOUT above the query's background (catalog.embedding)."""
    mean = background(db, quantize(vector), BACKGROUND_SAMPLE)
    return float("inf") if mean is None else mean + STANDOUT


def hybrid_search(
    db: Reader,
    embedder: Embedder,
    text: str,
    *,
    kind: str | None = None,
    feed: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 20,
    sort: str = "relevance",
) -> list[Hit]:
    """bm25 and meaning, fused by reciprocal rank: best first (or the best, newest first)."""
    depth = max(DEPTH, 2 * limit)
    filters: dict[str, Any] = {"kind": kind, "feed": feed, "since": since, "until": until}
    lexical = lexical_search(db, text, limit=depth, **filters)
    vector = query_vector(embedder, text)  # embedded once: the search and the bar both need it
    semantic = semantic_search(db, embedder, text, limit=depth, vector=vector, **filters)
    floor = standout_bar(db, vector) if not lexical and semantic else float("inf")
    hits = fuse(lexical, semantic, floor)[:limit]
    if sort == "date":
        newest_first(hits)
    return hits


def hybrid_items(
    db: Reader, embedder: Embedder, text: str, *, limit: int = 20, sort: str = "relevance", **filters: Any
) -> list[ItemHits]:
    """The best items by the fused ranking, each with up to three moments."""
    hits = hybrid_search(db, embedder, text, limit=limit * MOMENTS_PER_ITEM * 2, **filters)
    return grouped_items(hits, limit, sort)


def semantic_items(
    db: Reader, embedder: Embedder, text: str, *, limit: int = 20, sort: str = "relevance", **filters: Any
) -> list[ItemHits]:
    hits = semantic_search(db, embedder, text, limit=limit * MOMENTS_PER_ITEM * 2, **filters)
    return grouped_items(hits, limit, sort)


def fuse(lexical: list[Hit], semantic: list[Hit], floor: float) -> list[Hit]:
    """Reciprocal rank fusion of two ranked lists; the same moment in both is one hit, match 'both'.

    A window found by meaning alone joins only when it is as close to the query as the windows that
    also hold its words (the least similar of those is the bar, so "armistice" does not bring every
    item in the catalogue along with the ones that say it); with no word match at all, when it
    reaches `floor` (`standout_bar`: e5's similarities are too compressed for one fixed bar to
    tell a paraphrase from a neighbour)."""
    scores: dict[int, float] = {}
    out: list[Hit] = []
    taken: set[int] = set()
    for rank, hit in enumerate(lexical, start=1):
        score = 1.0 / (RRF_K + rank)
        twin = next((j for j, other in enumerate(semantic) if j not in taken and same_moment(hit, other)), None)
        if twin is not None:
            taken.add(twin)
            score += 1.0 / (RRF_K + twin + 1)
        out.append(replace(hit, match="both" if twin is not None else "lexical"))
        scores[id(out[-1])] = score
    if lexical:
        twins = [semantic[j].score for j in taken]
        bar = min(twins) if twins else float("inf")  # the words found it, meaning did not: words only
    else:
        bar = floor
    for rank, hit in enumerate(semantic, start=1):
        if rank - 1 not in taken and hit.score >= bar:
            out.append(replace(hit, match="semantic"))
            scores[id(out[-1])] = 1.0 / (RRF_K + rank)
    out.sort(key=lambda hit: -scores[id(hit)])
    return [replace(hit, score=round(scores[id(hit)], 6)) for hit in out]


def same_moment(lexical: Hit, window: Hit) -> bool:
    if lexical.item_id != window.item_id or lexical.passage != window.passage:
        return False
    if lexical.passage == "text":
        return True
    if lexical.start is None or window.start is None:
        return False
    if lexical.passage == "chapter":
        return abs(lexical.start - window.start) < 0.01
    return window.start - 0.01 <= lexical.start <= (window.end if window.end is not None else window.start) + 0.01


def window_hits(db: Reader, found: list[tuple[int, float]]) -> list[Hit]:
    """Hits for windows (id, cosine), in that order, with their text as the snippet."""
    if not found:
        return []
    rows = dict_rows(
        db,
        f"""SELECT w.id, w.item_id, w.source, w.part, w.first_id, w.last_id, w.char_start, w.char_end, w.start,
                   w."end", i.kind, i.title, i.link, i.published, i.published_is, i.enclosure_url, i.youtube_id,
                   f.name AS feed
            FROM vector_windows w JOIN items i ON i.id = w.item_id JOIN feeds f ON f.id = i.feed_id
            WHERE w.id IN ({",".join(str(int(wid)) for wid, _s in found)})""",
    )
    by_id = {row["id"]: row for row in rows}
    hits = []
    for wid, score in found:
        row = by_id.get(wid)
        if row is None:
            continue
        passages = db.execute(
            "SELECT text, speaker FROM passages WHERE item_id = ? AND id BETWEEN ? AND ? AND kind = ? ORDER BY seq",
            [row["item_id"], row["first_id"], row["last_id"], row["source"]],
        ).fetchall()
        text = " ".join(p[0] for p in passages)
        if row["char_start"] is not None:
            text = text[row["char_start"] : row["char_end"]]
        moment = (float(row["start"]), "segment") if row["start"] is not None else None
        speaker = passages[0][1] if passages else None
        hit = item_hit(row, snippet(text, [], MARK_START, MARK_END), score, row["source"], moment, speaker)
        hits.append(replace(hit, match="semantic"))
    return hits
