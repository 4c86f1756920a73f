"""The catalogue's schema changes after the first five migrations, each a function registered, in
order, by `catalog.storage.schema` (where the migration set and the first schema are)."""

from __future__ import annotations

import sqlite_utils


def m0006(db: sqlite_utils.Database) -> None:
    # Where `published` came from: 'feed' (the feed's own date) or 'first_seen' (the feed gave none we
    # could read, so the item is dated when catalog first saw it, and keeps that date on later syncs).
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN published_is TEXT NOT NULL DEFAULT 'feed'
            CHECK (published_is IN ('feed', 'first_seen'));
        UPDATE items SET published = first_seen_at, published_is = 'first_seen' WHERE published IS NULL;
        """
    )


def m0007(db: sqlite_utils.Database) -> None:
    # A feed that moved (HTTP 301/308, itunes:new-feed-url, <newLocation>) is fetched from `moved_to`
    # while feeds.yaml still names `url`; `catalog feeds update-moved` writes the new address into the
    # file. feed_moves is every move, oldest first: a move back to an address in it is a loop, refused.
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN moved_to TEXT;
        ALTER TABLE feeds ADD COLUMN moved_how TEXT;
        ALTER TABLE feeds ADD COLUMN moved_at TEXT;
        CREATE TABLE feed_moves (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            at TEXT NOT NULL,
            from_url TEXT NOT NULL,
            to_url TEXT NOT NULL,
            how TEXT NOT NULL
        );
        CREATE INDEX feed_moves_feed ON feed_moves(feed_id, id);
        """
    )


def m0008(db: sqlite_utils.Database) -> None:
    # Saved searches (`catalog watch`). Every passage indexed while a saved search exists is queued in
    # watch_queue by a trigger, in the transaction that indexes it: a passage id may be used again (a
    # changed item's passages are deleted and written anew), a queue position (AUTOINCREMENT) never is.
    # A check matches each saved search against the queue after its `checked_through` position and
    # records the matches (one per saved search and item, ever) in the same transaction; a match stays
    # pending until printed (reported_at) and, with a webhook, until the webhook took it (webhook_sent_at).
    db.executescript(
        """
        CREATE TABLE saved_searches (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            query TEXT NOT NULL,
            feed TEXT,
            kind TEXT CHECK (kind IN ('article', 'podcast', 'video')),
            semantic INTEGER NOT NULL DEFAULT 0,
            webhook TEXT,
            created_at TEXT NOT NULL,
            checked_through INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE watch_queue (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            passage_id INTEGER NOT NULL
        );
        CREATE TRIGGER watch_queue_ai AFTER INSERT ON passages
        WHEN EXISTS (SELECT 1 FROM saved_searches) BEGIN
            INSERT INTO watch_queue (passage_id) VALUES (new.id);
        END;
        CREATE TABLE watch_matches (
            id INTEGER PRIMARY KEY,
            watch_id INTEGER NOT NULL REFERENCES saved_searches(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES items(id),
            hit TEXT NOT NULL,  -- the first matching passage as a search hit, as it read when found
            found_at TEXT NOT NULL,
            reported_at TEXT,
            webhook_sent_at TEXT,
            UNIQUE (watch_id, item_id)
        );
        CREATE INDEX watch_matches_unreported ON watch_matches(watch_id) WHERE reported_at IS NULL;
        """
    )


def m0009(db: sqlite_utils.Database) -> None:
    # Search by meaning (catalog.storage.vectors): passages cut into windows (20-40 s of a transcript, an
    # article's paragraph, a title, a chapter title), their vectors stored int8 in chunks of many windows
    # (one read per chunk, not per window), and the embedding model they came from. Plain tables: this
    # runs without the `semantic` extra. A changed passage drops its item's windows of that kind; their
    # vectors stay in the chunks until `catalog reindex --semantic` compacts them, skipped on search.
    db.executescript(
        """
        CREATE TABLE vector_windows (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            source TEXT NOT NULL CHECK (source IN ('text', 'segment', 'chapter')),
            part TEXT NOT NULL CHECK (part IN ('title', 'paragraph', 'window', 'chapter')),
            first_id INTEGER NOT NULL,
            last_id INTEGER NOT NULL,
            char_start INTEGER,
            char_end INTEGER,
            start REAL,
            "end" REAL,
            chunk INTEGER NOT NULL
        );
        CREATE INDEX vector_windows_item ON vector_windows(item_id, source);
        CREATE TABLE vector_chunks (
            id INTEGER PRIMARY KEY,
            size INTEGER NOT NULL,
            ids BLOB NOT NULL,
            vectors BLOB NOT NULL,
            norms BLOB NOT NULL
        );
        CREATE TABLE vector_model (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TRIGGER passages_vectors_ad AFTER DELETE ON passages BEGIN
            DELETE FROM vector_windows WHERE item_id = old.item_id AND source = old.kind;
        END;
        CREATE TRIGGER passages_vectors_au AFTER UPDATE OF text ON passages BEGIN
            DELETE FROM vector_windows WHERE item_id = old.item_id AND source = old.kind;
        END;
        """
    )


def m0010(db: sqlite_utils.Database) -> None:
    # inactive_since: the feed is no longer in feeds.yaml (`catalog feeds remove` without --purge, or the
    # entry deleted by hand). Its items stay searchable; it is not fetched, nor reported as failing.
    # A backlog item (an episode older than a feed's `backlog:` newest on its first sync) has media state
    # 'skipped' (allowed since 0001, unused until now): stored and indexed from its text, not downloaded
    # until `catalog fetch ITEM_ID` queues it.
    db.execute("ALTER TABLE feeds ADD COLUMN inactive_since TEXT")


def m0011(db: sqlite_utils.Database) -> None:
    # Whisper work handed to an executor (in-process, or a Dask cluster) is leased here: which item, with
    # which model, to which sync run (`owner`), until when, and how many times it was handed out. A row
    # with no owner is waiting: `catalog retranscribe` queues indexed items again with a better model that
    # way. The coordinator is the only writer: a result is used only while its row still names the run that
    # handed it out, and the row is deleted in the transaction that stores the transcript, so a late
    # duplicate finds nothing to complete. A run killed mid-way leaves rows that the next run takes over.
    db.executescript(
        """
        CREATE TABLE transcription_leases (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            model TEXT NOT NULL,
            owner TEXT,
            lease_expires TEXT,
            attempt INTEGER NOT NULL DEFAULT 0,
            queued_at TEXT NOT NULL
        );
        """
    )


def m0012(db: sqlite_utils.Database) -> None:
    # Each window's int8 vector moves into its own row, `vector_windows.embedding`, scored in SQL by
    # sqlite-vec's vec_distance_cosine (catalog.storage.vector_index): a plain BLOB column, so the
    # sqlite3 shell and Datasette still read every table, and a window deleted takes its vector with
    # it. The chunks' vectors are copied over unchanged (int8, each scaled to its largest component),
    # here in Python: this connection may have no sqlite-vec. The table is rebuilt with AUTOINCREMENT:
    # a saved search by meaning is matched against the windows embedded after its last check
    # (`saved_searches.checked_window`), so a window id must never be given out twice (deleting the
    # newest windows would otherwise hand their ids to the next ones, which would never be checked).
    db.executescript(
        """
        DROP TRIGGER passages_vectors_ad;
        DROP TRIGGER passages_vectors_au;
        CREATE TABLE vector_windows_next (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id INTEGER NOT NULL REFERENCES items(id),
            source TEXT NOT NULL CHECK (source IN ('text', 'segment', 'chapter')),
            part TEXT NOT NULL CHECK (part IN ('title', 'paragraph', 'window', 'chapter')),
            first_id INTEGER NOT NULL,
            last_id INTEGER NOT NULL,
            char_start INTEGER,
            char_end INTEGER,
            start REAL,
            "end" REAL,
            embedding BLOB
        );
        INSERT INTO vector_windows_next (id, item_id, source, part, first_id, last_id, char_start, char_end,
                                         start, "end")
            SELECT id, item_id, source, part, first_id, last_id, char_start, char_end, start, "end"
            FROM vector_windows;
        DROP TABLE vector_windows;
        ALTER TABLE vector_windows_next RENAME TO vector_windows;
        CREATE INDEX vector_windows_item ON vector_windows(item_id, source);
        CREATE TRIGGER passages_vectors_ad AFTER DELETE ON passages BEGIN
            DELETE FROM vector_windows WHERE item_id = old.item_id AND source = old.kind;
        END;
        CREATE TRIGGER passages_vectors_au AFTER UPDATE OF text ON passages BEGIN
            DELETE FROM vector_windows WHERE item_id = old.item_id AND source = old.kind;
        END;
        ALTER TABLE saved_searches ADD COLUMN checked_window INTEGER NOT NULL DEFAULT 0;
        """
    )
    dim_row = db.execute("SELECT dim FROM vector_model WHERE id = 1").fetchone()
    for ids, vectors in db.execute("SELECT ids, vectors FROM vector_chunks ORDER BY id").fetchall():
        count = len(ids) // 8  # int64 window ids, then `count` vectors of `dim` int8 each
        dim = int(dim_row[0]) if dim_row else len(vectors) // max(count, 1)
        db.conn.executemany(
            "UPDATE vector_windows SET embedding = ? WHERE id = ?",
            (
                (vectors[n * dim : (n + 1) * dim], int.from_bytes(ids[n * 8 : (n + 1) * 8], "little", signed=True))
                for n in range(count)
            ),
        )
    db.executescript(
        """
        DELETE FROM vector_windows WHERE embedding IS NULL;
        DROP TABLE vector_chunks;
        """
    )
