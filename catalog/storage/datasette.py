"""The catalogue as Datasette shows it: titles, descriptions, search and canned queries (`catalog datasette`).

Datasette finds a table's full-text index by sqlite-utils' naming (`<table>_fts`, or `content="<table>"`);
ours is `search_index` over the view `passages_index` (catalog.storage.index), so the metadata names it
for `passages` (`fts_table`, `fts_pk`): the search box of the passages table then searches transcripts,
articles and chapter titles with Datasette's own escaping. Words match as the index stores them (FTS5's
porter for English); `catalog search` adds other-language stemming, numbers and compounds on top.
"""

from __future__ import annotations

from typing import Any

# When each passage is said, mm:ss, and a link that opens the media there (as catalog.storage.search.media_link)
_AT = "printf('%d:%02d', CAST(p.start AS INTEGER) / 60, CAST(p.start AS INTEGER) % 60)"
_LINK = (
    "CASE WHEN i.youtube_id IS NOT NULL"
    " THEN 'https://www.youtube.com/watch?v=' || i.youtube_id || '&t=' || CAST(p.start AS INTEGER) || 's'"
    " ELSE COALESCE(i.enclosure_url, i.link) || '#t=' || CAST(p.start AS INTEGER) END"
)
_SEARCH = """SELECT p.item_id AS item, i.title, f.name AS feed, i.kind, substr(i.published, 1, 10) AS published,
       {columns}
FROM search_index
JOIN passages p ON p.id = search_index.rowid
JOIN items i ON i.id = p.item_id
JOIN feeds f ON f.id = i.feed_id
WHERE :words != '' AND search_index MATCH escape_fts(:words) AND p.kind {kinds}
ORDER BY search_index.rank
LIMIT 100"""

SEARCH_TRANSCRIPTS = _SEARCH.format(
    columns=f"{_AT} AS at, p.start AS seconds, p.speaker, p.text AS said, {_LINK} AS link",
    kinds="= 'segment'",
)
SEARCH_ARTICLES = _SEARCH.format(columns="i.link AS url, p.text", kinds="= 'text'")
EPISODES_BY_FEED = """SELECT i.id AS item, substr(i.published, 1, 10) AS published, i.title, i.kind,
       m.duration AS seconds, m.state AS media, t.source AS transcript, COALESCE(i.enclosure_url, i.link) AS url
FROM items i
JOIN feeds f ON f.id = i.feed_id
LEFT JOIN media m ON m.item_id = i.id
LEFT JOIN transcripts t ON t.item_id = i.id
WHERE f.name = :feed AND i.kind != 'article'
ORDER BY i.published DESC"""

HIDDEN = ("vector_windows", "vector_model", "watch_queue", "index_stemmers", "_sqlite_migrations")


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the catalogue Datasette names `database` (its file name without .db)."""
    tables: dict[str, Any] = {
        "feeds": {
            "description": "The feeds of feeds.yaml as last fetched: result, failures, when tried next.",
            "label_column": "name",
        },
        "items": {
            "description": "Articles, podcast episodes and videos, one row per feed item.",
            "label_column": "title",
            "facets": ["kind", "feed_id"],
            "sort_desc": "published",
            "columns": {
                "kind": "article, podcast or video",
                "link": "the item's web page",
                "enclosure_url": "the media file's address, as the feed gives it",
                "published": "ISO 8601; published_is says whether the feed gave it or it is when catalog first saw it",
            },
        },
        "passages": {
            "description": "What is searched: an article's text, each transcript segment (with its time) and "
            "each chapter title. The search box searches them all.",
            "fts_table": "search_index",
            "fts_pk": "id",
            "label_column": "text",
            "facets": ["kind"],
            "columns": {
                "kind": "text (an article or show notes), segment (a transcript) or chapter",
                "start": "seconds from the start of the media when the segment begins",
                "end": "seconds from the start of the media when it ends",
                "words": "JSON: [start, end, word] of each word, when the transcript has word times",
            },
        },
        "media": {
            "description": "Each item's audio or video: where it is in the queue, the kept file, why it failed.",
            "facets": ["state"],
        },
        "transcripts": {"description": "Where each transcript came from: whisper (and its model) or the publisher."},
        "runs": {"description": "Each `catalog sync`: what it did and how long it took.", "sort_desc": "id"},
        "failures": {"description": "What failed in each run, and why."},
    }
    tables.update({name: {"hidden": True} for name in HIDDEN})
    queries = {
        "search_transcripts": {
            "title": "Search transcripts",
            "description": 'Moments that say these words (all of them; "quotes" for a phrase), best first, '
            "with the minute and a link that opens the media there.",
            "sql": SEARCH_TRANSCRIPTS,
        },
        "search_articles": {
            "title": "Search articles",
            "description": "Articles and show notes with these words, best first.",
            "sql": SEARCH_ARTICLES,
        },
        "episodes_by_feed": {
            "title": "Episodes by feed",
            "description": "A podcast or video feed's items, newest first, with their media and transcript state.",
            "sql": EPISODES_BY_FEED,
        },
    }
    return {
        "title": "catalog",
        "description": "Articles, podcasts and videos from your feeds, transcribed by Whisper, searchable together.",
        "databases": {database: {"tables": tables, "queries": queries}},
    }
