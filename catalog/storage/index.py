"""What the search index holds for each passage, computed once when the passage is written.

The FTS5 table `search_index` reads four columns of `passages` (external content, kept in step by
triggers), prepared by `catalog.storage.tokens` (which also names the tokenizer):

    idx_body     the passage's own words (an article's body, a transcript segment's text)
    idx_heading  a title: the item's title on its text passage, a chapter's title on a chapter;
                 weighted 3x in bm25, so a match in a title ranks above the same match in body text
    idx_bridge   a segment's last BRIDGE_WORDS tokens and the next segment's first BRIDGE_WORDS, so a
                 phrase spoken across a segment or cue boundary is found (phrases only search it)
    idx_meta     filter tokens (feed, kind, year, month) that `--feed`, `--kind`, `--since` and
                 `--until` match inside FTS5, so a filter narrows the matches before any is ranked

Filter tokens start with a private-use character, which no word in any text can produce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog.storage.rows import Reader
from catalog.storage.tokens import TOKENIZER, analyser_for, prepare

if TYPE_CHECKING:
    from sqlite_utils import Database

BRIDGE_WORDS = 5
META = "\ue000"
RANK = "bm25(1.0, 3.0, 0.5, 0.0)"  # idx_body, idx_heading, idx_bridge, idx_meta
FTS_COLUMNS = ("idx_body", "idx_heading", "idx_bridge", "idx_meta")


def meta_text(feed_id: int, kind: str, published: str | None) -> str:
    tokens = [f"{META}f{feed_id}", f"{META}k{kind}"]
    if published and len(published) >= 7 and published[:4].isdigit():
        tokens += [f"{META}y{published[:4]}", f"{META}m{published[:4]}{published[5:7]}"]
    return " ".join(tokens)


def feed_token(feed_id: int) -> str:
    return f"{META}f{feed_id}"


def kind_token(kind: str) -> str:
    return f"{META}k{kind}"


def year_token(year: int) -> str:
    return f"{META}y{year:04d}"


def month_token(year: int, month: int) -> str:
    return f"{META}m{year:04d}{month:02d}"


def text_columns(title: str | None, body: str, analyser: str) -> tuple[str, str]:
    """(idx_body, idx_heading) of an item's text passage."""
    return prepare(body, analyser), prepare(title or "", analyser)


def segment_columns(texts: list[str], analyser: str) -> list[tuple[str, str]]:
    """(idx_body, idx_bridge) of consecutive transcript segments."""
    bodies = [prepare(text, analyser) for text in texts]
    words = [body.split() for body in bodies]
    out = []
    for i, body in enumerate(bodies):
        following = words[i + 1][:BRIDGE_WORDS] if i + 1 < len(words) else []
        bridge = words[i][-BRIDGE_WORDS:] + following if following else []
        out.append((body, " ".join(bridge)))
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
    """The FTS5 table over `passages`, its triggers and its rank function (used by the migration)."""
    columns = ", ".join(FTS_COLUMNS)
    olds = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    news = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE search_index USING fts5(
            {columns}, content='passages', content_rowid='id', tokenize="{TOKENIZER}"
        );
        CREATE TRIGGER passages_index_ai AFTER INSERT ON passages BEGIN
            INSERT INTO search_index(rowid, {columns}) VALUES (new.id, {news});
        END;
        CREATE TRIGGER passages_index_ad AFTER DELETE ON passages BEGIN
            INSERT INTO search_index(search_index, rowid, {columns}) VALUES ('delete', old.id, {olds});
        END;
        CREATE TRIGGER passages_index_au AFTER UPDATE OF {columns} ON passages BEGIN
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
        updates: list[tuple[str, str, str, str, int]] = []
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
