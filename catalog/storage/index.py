"""What the search index holds for each passage, computed once when the passage is written.

The FTS5 table `search_index` reads three columns of `passages` (external content, kept in step by
triggers), prepared by `catalog.storage.tokens` (which also names the tokenizer):

    idx_body     the passage's own words (an article's body, a transcript segment's text); NULL
                 when they are the passage's `text` as it is (most segments: not stored twice;
                 the view `passages_index` reads `text` in its place)
    idx_heading  a title: the item's title on its text passage, a chapter's title on a chapter;
                 weighted 3x in bm25, so a match in a title ranks above the same match in body text
    idx_bridge   a segment's last BRIDGE_WORDS tokens and the next segment's first BRIDGE_WORDS, so a
                 phrase spoken across a segment or cue boundary is found (phrases only search it)

Filters (--feed, --kind, --since, --until) are not in the index: FTS5 ranks its best matches in a
LIMITed subquery and only those rows are joined to their items and filtered (`catalog.storage.search`).
Filter tokens were tried: a prefix query merges the doclists of every matching token before anything
is ranked, which at a million segments cost more than the ranking it saved, and slowed indexing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog.storage.rows import Reader
from catalog.storage.tokens import TOKENIZER, analyser_for, prepare

if TYPE_CHECKING:
    from sqlite_utils import Database

BRIDGE_WORDS = 2  # a phrase of up to three words is found across a boundary
_SENTENCE_END = (".", "?", "!", "。", "？", "！", "।", "۔")
WEIGHTS = "1.0, 3.0, 0.5"  # bm25 weights of idx_body, idx_heading, idx_bridge
RANK = f"bm25({WEIGHTS})"  # the index's rank function (`ORDER BY rank`)
FTS_COLUMNS = ("idx_body", "idx_heading", "idx_bridge")


def score_sql(table: str) -> str:
    """The rank as an SQL expression on `table` (search_index, heading_index), for rows ranked after a join."""
    return f"bm25({table}, {WEIGHTS})"


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


def item_analyser(db: Database, item_id: int) -> str:
    """The analyser of an item's passages (from its language, else its feed's)."""
    row = db.execute(
        "SELECT COALESCE(i.language, f.language) FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id = ?",
        [item_id],
    ).fetchone()
    analyser = analyser_for(row[0] if row else None)
    remember_analyser(db, analyser)
    return analyser


def remember_analyser(db: Database, analyser: str) -> None:
    """Queries are stemmed with every stemmer the index was written with (see `analysers_in_use`)."""
    if analyser:
        db.execute("INSERT OR IGNORE INTO index_stemmers (stemmer) VALUES (?)", [analyser])


def analysers_in_use(db: Reader) -> list[str]:
    return [row[0] for row in db.execute("SELECT stemmer FROM index_stemmers ORDER BY stemmer")]


def create_index(db: Database) -> None:
    """The FTS5 table over `passages` (through the view that fills in idx_body), its triggers and its
    rank function (used by the migration)."""
    columns = ", ".join(FTS_COLUMNS)
    olds = ", ".join(f"old.{c}" for c in FTS_COLUMNS).replace("old.idx_body", "COALESCE(old.idx_body, old.text)")
    news = ", ".join(f"new.{c}" for c in FTS_COLUMNS).replace("new.idx_body", "COALESCE(new.idx_body, new.text)")
    db.executescript(
        f"""
        CREATE VIEW passages_index AS
            SELECT id, COALESCE(idx_body, text) AS idx_body, idx_heading, idx_bridge FROM passages;
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


def create_heading_index(db: Database) -> None:
    """heading_index: the passages that have a heading (an item's text under its title, a chapter),
    indexed like search_index (same columns, tokenizer and rank) but a few rows per item, not one
    per segment. Filled from the passages already there (used by the migration)."""
    columns = ", ".join(FTS_COLUMNS)
    olds = ", ".join(f"old.{c}" for c in FTS_COLUMNS).replace("old.idx_body", "COALESCE(old.idx_body, old.text)")
    news = ", ".join(f"new.{c}" for c in FTS_COLUMNS).replace("new.idx_body", "COALESCE(new.idx_body, new.text)")
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE heading_index USING fts5(
            {columns}, content='passages_index', content_rowid='id', tokenize="{TOKENIZER}"
        );
        CREATE TRIGGER passages_heading_ai AFTER INSERT ON passages WHEN new.idx_heading != '' BEGIN
            INSERT INTO heading_index(rowid, {columns}) VALUES (new.id, {news});
        END;
        CREATE TRIGGER passages_heading_ad AFTER DELETE ON passages WHEN old.idx_heading != '' BEGIN
            INSERT INTO heading_index(heading_index, rowid, {columns}) VALUES ('delete', old.id, {olds});
        END;
        CREATE TRIGGER passages_heading_au_old AFTER UPDATE OF text, {columns} ON passages
        WHEN old.idx_heading != '' BEGIN
            INSERT INTO heading_index(heading_index, rowid, {columns}) VALUES ('delete', old.id, {olds});
        END;
        CREATE TRIGGER passages_heading_au_new AFTER UPDATE OF text, {columns} ON passages
        WHEN new.idx_heading != '' BEGIN
            INSERT INTO heading_index(rowid, {columns}) VALUES (new.id, {news});
        END;
        INSERT INTO heading_index(heading_index, rank) VALUES ('rank', '{RANK}');
        INSERT INTO heading_index(rowid, {columns})
            SELECT id, {columns} FROM passages_index WHERE idx_heading != '';
        """
    )


def rebuild_columns(db: Database) -> None:
    """Compute the index columns of every passage from its text (the migration from the v1 index)."""
    items = db.execute(
        """SELECT i.id, COALESCE(i.language, f.language), i.title FROM items i JOIN feeds f ON f.id = i.feed_id"""
    ).fetchall()
    for item_id, language, title in items:
        analyser = analyser_for(language)
        remember_analyser(db, analyser)
        rows = db.execute(
            "SELECT id, kind, text FROM passages WHERE item_id = ? ORDER BY kind, seq", [item_id]
        ).fetchall()
        segments = [(pid, text) for pid, kind_, text in rows if kind_ == "segment"]
        updates: list[tuple[str | None, str, str, int]] = []
        for pid, (body, bridge) in zip(
            [pid for pid, _t in segments], segment_columns([t for _p, t in segments], analyser), strict=True
        ):
            updates.append((body, "", bridge, pid))
        for pid, kind_, text in rows:
            if kind_ == "chapter":
                updates.append(("", prepare(text, analyser), "", pid))
            elif kind_ == "text":
                titled = bool(title) and text.startswith(title)
                body = text[len(title) :].lstrip("\n") if titled else text
                idx_body, idx_heading = text_columns(title if titled else None, body, analyser)
                updates.append((idx_body, idx_heading, "", pid))
        db.conn.executemany("UPDATE passages SET idx_body = ?, idx_heading = ?, idx_bridge = ? WHERE id = ?", updates)


def newest_passage(db: Reader) -> int:
    return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM passages").fetchone()[0])
