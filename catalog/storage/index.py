"""What the search index holds for each passage, computed once when the passage is written.

The FTS5 table `search_index` reads four columns of `passages` (external content, kept in step by
triggers), prepared by `catalog.storage.tokens` (which also names the tokenizer):

    idx_body     the passage's own words (an article's body, a transcript segment's text); NULL
                 when they are the passage's `text` as it is (most segments: not stored twice;
                 the view `passages_index` reads `text` in its place)
    idx_heading  a title: the item's title on its text passage, a chapter's title on a chapter;
                 weighted 3x in bm25, so a match in a title ranks above the same match in body text
    idx_bridge   a segment's last BRIDGE_WORDS tokens and the next segment's first BRIDGE_WORDS, so a
                 phrase spoken across a segment or cue boundary is found (phrases only search it)
    idx_meta     one filter token (year, kind, feed) that `--feed`, `--kind` and `--since`/`--until`
                 match inside FTS5 (whole tokens, or prefixes), so a filter narrows the matches before
                 any is ranked; the exact days are checked on the rows FTS5 ranked

Filter tokens start with a private-use character, which no word in any text can produce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog.storage.rows import Reader
from catalog.storage.tokens import TOKENIZER, analyser_for, prepare

if TYPE_CHECKING:
    from sqlite_utils import Database

BRIDGE_WORDS = 2  # a phrase of up to three words is found across a boundary
_SENTENCE_END = (".", "?", "!", "。", "？", "！", "।", "۔")
META = "\ue000"
RANK = "bm25(1.0, 3.0, 0.5, 0.0)"  # idx_body, idx_heading, idx_bridge, idx_meta
FTS_COLUMNS = ("idx_body", "idx_heading", "idx_bridge", "idx_meta")


def meta_text(feed_id: int, kind: str, published: str | None) -> str:
    """One filter token: year, kind and feed, in that order, so FTS5 prefix queries select a year
    (`y2025_`*) or a kind in a year (`y2025_podcast_`*), and whole tokens a feed in a year."""
    year = published[:4] if published and published[:4].isdigit() else "0000"
    return f"{META}y{year}_{kind}_f{feed_id}"


def meta_token(year: int, kind: str | None = None, feed_id: int | None = None) -> str:
    """The filter token (with a feed) or its start (without) for a year and kind; year 0: undated."""
    prefix = f"{META}y{year:04d}_"
    if kind is None:
        return prefix
    return f"{prefix}{kind}_" + (f"f{feed_id}" if feed_id is not None else "")


def text_columns(title: str | None, body: str, analyser: str) -> tuple[str, str]:
    """(idx_body, idx_heading) of an item's text passage."""
    return prepare(body, analyser), prepare(title or "", analyser)


def segment_columns(texts: list[str], analyser: str) -> list[tuple[str | None, str]]:
    """(idx_body, idx_bridge) of consecutive transcript segments; idx_body None when it is the text."""
    bodies = [prepare(text, analyser) for text in texts]
    out: list[tuple[str | None, str]] = []
    for i, (text, body) in enumerate(zip(texts, bodies, strict=True)):
        bridge = ""
        # a segment that ends a sentence has no phrase running on into the next (Whisper's segments
        # mostly end sentences; subtitle cues mostly do not)
        if i + 1 < len(bodies) and not text.rstrip().endswith(_SENTENCE_END):
            following = bodies[i + 1].split()[:BRIDGE_WORDS]
            bridge = " ".join(body.split()[-BRIDGE_WORDS:] + following) if following else ""
        out.append((None if body == text else body, bridge))
    return out


def item_context(db: Database, item_id: int) -> tuple[str, str]:
    """(analyser, idx_meta) for an item's passages."""
    row = db.execute(
        """SELECT i.feed_id, i.kind, i.published, COALESCE(i.language, f.language)
           FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id = ?""",
        [item_id],
    ).fetchone()
    feed_id, kind, published, language = row
    analyser = analyser_for(language)
    remember_analyser(db, analyser)
    return analyser, meta_text(feed_id, kind, published)


def remember_analyser(db: Database, analyser: str) -> None:
    """Queries are stemmed with every stemmer the index was written with (see `analysers_in_use`)."""
    if analyser:
        db.execute("INSERT OR IGNORE INTO index_stemmers (stemmer) VALUES (?)", [analyser])


def analysers_in_use(db: Reader) -> list[str]:
    return [row[0] for row in db.execute("SELECT stemmer FROM index_stemmers ORDER BY stemmer")]


def reindex_meta(db: Database, item_id: int, meta: str) -> None:
    """An item's kind or date changed: its passages' filter tokens follow."""
    db.execute("UPDATE passages SET idx_meta = ? WHERE item_id = ? AND idx_meta != ?", [meta, item_id, meta])


def create_index(db: Database) -> None:
    """The FTS5 table over `passages` (through the view that fills in idx_body), its triggers and its
    rank function (used by the migration)."""
    columns = ", ".join(FTS_COLUMNS)
    olds = ", ".join(f"old.{c}" for c in FTS_COLUMNS).replace("old.idx_body", "COALESCE(old.idx_body, old.text)")
    news = ", ".join(f"new.{c}" for c in FTS_COLUMNS).replace("new.idx_body", "COALESCE(new.idx_body, new.text)")
    db.executescript(
        f"""
        CREATE VIEW passages_index AS
            SELECT id, COALESCE(idx_body, text) AS idx_body, idx_heading, idx_bridge, idx_meta FROM passages;
        CREATE VIRTUAL TABLE search_index USING fts5(
            {columns}, content='passages_index', content_rowid='id', tokenize="{TOKENIZER}"
        );
        CREATE TRIGGER passages_index_ai AFTER INSERT ON passages BEGIN
            INSERT INTO search_index(rowid, {columns}) VALUES (new.id, {news});
        END;
        CREATE TRIGGER passages_index_ad AFTER DELETE ON passages BEGIN
            INSERT INTO search_index(search_index, rowid, {columns}) VALUES ('delete', old.id, {olds});
        END;
        CREATE TRIGGER passages_index_au AFTER UPDATE OF text, {columns} ON passages BEGIN
            INSERT INTO search_index(search_index, rowid, {columns}) VALUES ('delete', old.id, {olds});
            INSERT INTO search_index(rowid, {columns}) VALUES (new.id, {news});
        END;
        INSERT INTO search_index(search_index, rank) VALUES ('rank', '{RANK}');
        """
    )


def rebuild_columns(db: Database) -> None:
    """Compute the index columns of every passage from its text (the migration from the v1 index)."""
    items = db.execute(
        """SELECT i.id, i.feed_id, i.kind, i.published, COALESCE(i.language, f.language), i.title
           FROM items i JOIN feeds f ON f.id = i.feed_id"""
    ).fetchall()
    for item_id, feed_id, kind, published, language, title in items:
        analyser = analyser_for(language)
        remember_analyser(db, analyser)
        meta = meta_text(feed_id, kind, published)
        rows = db.execute(
            "SELECT id, kind, text FROM passages WHERE item_id = ? ORDER BY kind, seq", [item_id]
        ).fetchall()
        segments = [(pid, text) for pid, kind_, text in rows if kind_ == "segment"]
        updates: list[tuple[str | None, str, str, str, int]] = []
        for pid, (body, bridge) in zip(
            [pid for pid, _t in segments], segment_columns([t for _p, t in segments], analyser), strict=True
        ):
            updates.append((body, "", bridge, meta, pid))
        for pid, kind_, text in rows:
            if kind_ == "chapter":
                updates.append(("", prepare(text, analyser), "", meta, pid))
            elif kind_ == "text":
                body = text[len(title) :].lstrip("\n") if title and text.startswith(title) else text
                idx_body, idx_heading = text_columns(
                    title if title and text.startswith(title) else None, body, analyser
                )
                updates.append((idx_body, idx_heading, "", meta, pid))
        db.conn.executemany(
            "UPDATE passages SET idx_body = ?, idx_heading = ?, idx_bridge = ?, idx_meta = ? WHERE id = ?", updates
        )


def year_range(db: Reader) -> tuple[int, int] | None:
    """The first and last year items were published in (the items_published index answers it)."""
    first = db.execute("SELECT MIN(published) FROM items WHERE published IS NOT NULL").fetchone()[0]
    last = db.execute("SELECT MAX(published) FROM items").fetchone()[0]
    if not first or not last or not first[:4].isdigit() or not last[:4].isdigit():
        return None
    return int(first[:4]), int(last[:4])


def newest_passage(db: Reader) -> int:
    return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM passages").fetchone()[0])
