"""The catalogue file: connection settings, the write transaction, and the schema.

Schema changes are numbered migrations (sqlite-utils `Migrations`); a released migration is
never edited, a new one is appended. One search index (`passages_fts`, FTS5) holds both article
text and transcript segments, so a single bm25 ranks every medium together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from catalog.errors import DatabaseError

BUSY_TIMEOUT_MS = 10_000

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


def connect(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the catalogue at `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGIN; every write goes through `write()`.
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn, execute_plugins=False)
        if migrations.pending(db):
            with write(db):
                migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot open catalogue {path}: {exc}") from exc
    return db


def open_existing(path: Path | str) -> sqlite_utils.Database:
    """Open a catalogue for reading; a missing file is an error with a hint, not a new empty file."""
    if not Path(path).exists():
        raise DatabaseError(f"no catalogue at {path}", hint="run `catalog sync` first, or pass --db PATH")
    return connect(path)


@contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, taken with BEGIN IMMEDIATE so lock waits happen up front.

    Nested calls become savepoints of the outer transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
