"""The schema, as numbered migrations (sqlite-utils `Migrations`).

A released migration is never edited; a new one is appended. One search index (`passages_fts`, FTS5)
holds both article text and transcript segments, so a single bm25 ranks every medium together.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from catalog.storage import schema_changes

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


# Later changes, in order (catalog.storage.schema_changes)
migrations(name="0006_published_is")(schema_changes.m0006)
migrations(name="0007_feed_moves")(schema_changes.m0007)
migrations(name="0008_saved_searches")(schema_changes.m0008)
migrations(name="0009_passage_vectors")(schema_changes.m0009)
migrations(name="0010_feed_state")(schema_changes.m0010)
migrations(name="0011_transcription_leases")(schema_changes.m0011)
migrations(name="0012_sqlite_vec")(schema_changes.m0012)
