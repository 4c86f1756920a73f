"""The schema, as numbered migrations (sqlite-utils `Migrations`).

A released migration is never edited; a new one is appended. One search index (`passages_fts`, FTS5)
holds both article text and transcript segments, so a single bm25 ranks every medium together.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("catalog")


@migrations(name="0001_initial")
def _m0001(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            url TEXT NOT NULL,
            kind TEXT,
            title TEXT,
            language TEXT,
            etag TEXT,
            last_modified TEXT,
            last_fetch_at TEXT,
            last_success_at TEXT,
            last_result TEXT,
            last_error TEXT,
            http_status INTEGER,
            failures INTEGER NOT NULL DEFAULT 0,
            next_fetch_at TEXT,
            disabled_reason TEXT
        );
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            guid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('article', 'podcast', 'video')),
            title TEXT,
            author TEXT,
            published TEXT,
            link TEXT,
            body TEXT,
            enclosure_url TEXT,
            enclosure_type TEXT,
            enclosure_length INTEGER,
            youtube_id TEXT,
            language TEXT,
            extra TEXT,
            content_hash TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (feed_id, guid)
        );
        CREATE INDEX items_published ON items(published);
        CREATE TABLE media (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            url TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('new', 'downloaded', 'transcribed', 'indexed', 'failed', 'skipped')),
            path TEXT,
            bytes INTEGER,
            sha256 TEXT,
            content_type TEXT,
            duration REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX media_state ON media(state);
        CREATE TABLE transcripts (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            source TEXT NOT NULL,
            model TEXT,
            language TEXT,
            duration REAL,
            segments INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE passages (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            kind TEXT NOT NULL CHECK (kind IN ('text', 'segment', 'chapter')),
            seq INTEGER NOT NULL,
            start REAL,
            "end" REAL,
            speaker TEXT,
            text TEXT NOT NULL,
            words TEXT
        );
        CREATE INDEX passages_item ON passages(item_id, kind, seq);
        CREATE VIRTUAL TABLE passages_fts USING fts5(
            text, content='passages', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN
            INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER passages_ad AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER passages_au AFTER UPDATE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            pid INTEGER,
            status TEXT NOT NULL,
            feeds_checked INTEGER NOT NULL DEFAULT 0,
            feeds_unchanged INTEGER NOT NULL DEFAULT 0,
            items_new INTEGER NOT NULL DEFAULT 0,
            items_updated INTEGER NOT NULL DEFAULT 0,
            media_done INTEGER NOT NULL DEFAULT 0,
            media_failed INTEGER NOT NULL DEFAULT 0,
            audio_seconds REAL NOT NULL DEFAULT 0,
            message TEXT
        );
        CREATE TABLE failures (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            at TEXT NOT NULL,
            feed_id INTEGER REFERENCES feeds(id),
            item_id INTEGER REFERENCES items(id),
            stage TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX failures_run ON failures(run_id);
        """
    )


@migrations(name="0002_transcript_origin")
def _m0002(db: sqlite_utils.Database) -> None:
    # Publisher transcripts: which file format, and where it came from.
    db.executescript(
        """
        ALTER TABLE transcripts ADD COLUMN format TEXT;
        ALTER TABLE transcripts ADD COLUMN url TEXT;
        """
    )


@migrations(name="0003_body_hash_and_holds")
def _m0003(db: sqlite_utils.Database) -> None:
    # body_sha256: a feed served again with the same bytes (and no ETag) is not parsed again.
    # held_reason: a media item kept in the queue but not transcribed (a language the model cannot do).
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN body_sha256 TEXT;
        ALTER TABLE media ADD COLUMN held_reason TEXT;
        """
    )


@migrations(name="0004_search_index")
def _m0004(db: sqlite_utils.Database) -> None:
    # The v1 index (passages_fts, porter unicode61) is replaced by catalog's own analysis
    # (catalog.storage.tokens): stemming that prefixes can match, CJK pairs, Devanagari marks kept,
    # titles weighted, phrases across segment boundaries.
    from catalog.storage.index import create_index, rebuild_columns

    db.executescript(
        """
        DROP TRIGGER IF EXISTS passages_ai;
        DROP TRIGGER IF EXISTS passages_ad;
        DROP TRIGGER IF EXISTS passages_au;
        DROP TABLE IF EXISTS passages_fts;
        ALTER TABLE passages ADD COLUMN idx_body TEXT;  -- NULL: the same as text
        ALTER TABLE passages ADD COLUMN idx_heading TEXT NOT NULL DEFAULT '';
        ALTER TABLE passages ADD COLUMN idx_bridge TEXT NOT NULL DEFAULT '';
        CREATE TABLE index_stemmers (stemmer TEXT PRIMARY KEY);
        CREATE INDEX items_feed_published ON items(feed_id, published);
        """
    )
    rebuild_columns(db)
    create_index(db)
    db.execute("INSERT INTO search_index(search_index) VALUES ('rebuild')")


@migrations(name="0005_search_speed")
def _m0005(db: sqlite_utils.Database) -> None:
    # A search with filters, or grouped by item, looks up the item of every passage it ranks: in
    # passages_owner that is one small entry, not a wide row of text and word times (3x faster at a
    # million segments; it costs indexing under 1%). heading_index holds only the passages with a
    # title or chapter title, so a very common query finds its title matches without walking every
    # segment's entry.
    from catalog.storage.index import create_heading_index

    db.execute("CREATE INDEX passages_owner ON passages(id, item_id)")
    create_heading_index(db)


@migrations(name="0006_published_is")
def _m0006(db: sqlite_utils.Database) -> None:
    # Where `published` came from: 'feed' (the feed's own date) or 'first_seen' (the feed gave none we
    # could read, so the item is dated when catalog first saw it, and keeps that date on later syncs).
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN published_is TEXT NOT NULL DEFAULT 'feed'
            CHECK (published_is IN ('feed', 'first_seen'));
        UPDATE items SET published = first_seen_at, published_is = 'first_seen' WHERE published IS NULL;
        """
    )


@migrations(name="0007_feed_moves")
def _m0007(db: sqlite_utils.Database) -> None:
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


@migrations(name="0008_saved_searches")
def _m0008(db: sqlite_utils.Database) -> None:
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


@migrations(name="0009_passage_vectors")
def _m0009(db: sqlite_utils.Database) -> None:
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


@migrations(name="0011_transcription_leases")
def _m0011(db: sqlite_utils.Database) -> None:
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
