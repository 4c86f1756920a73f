"""The catalogue file: opening it (migrated to the current schema) and the write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from catalog.errors import DatabaseError
from catalog.storage import driver
from catalog.storage.schema import migrations

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the catalogue at `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGIN; every write goes through `write()`.
        conn = driver.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        if not is_catalogue(conn) and has_tables(conn):  # never touch someone else's database, not even WAL mode
            conn.close()
            raise DatabaseError(
                f"{path} is a SQLite database, but not a catalog one: nothing was changed",
                hint="--db (or `database:` in feeds.yaml) must name a catalogue, or a new file to create",
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn, execute_plugins=False)
        if migrations.pending(db):
            with write(db):
                migrations.apply(db)
    except driver.DatabaseError as exc:
        raise DatabaseError(
            f"cannot open catalogue {path}: {exc}",
            hint="--db (or `database:` in feeds.yaml) must name a catalog database, or a new file to create",
        ) from exc
    except OSError as exc:  # its folder cannot be made (a read-only mount, /proc)
        raise DatabaseError(
            f"cannot open catalogue {path}: {exc.strerror or exc}",
            hint="pass --db PATH (or set `database:` in feeds.yaml) to a folder you can write",
        ) from exc
    return db


def is_catalogue(conn: driver.Connection) -> bool:
    """Whether the file holds a catalogue (of any schema version): catalog's migrations were applied."""
    try:
        return bool(conn.execute("SELECT 1 FROM _sqlite_migrations WHERE migration_set = 'catalog' LIMIT 1").fetchone())
    except driver.OperationalError:  # no such table
        return False


def has_tables(conn: driver.Connection) -> bool:
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' LIMIT 1").fetchone())


def open_existing(path: Path | str) -> sqlite_utils.Database:
    """Open a catalogue for reading; a missing file, or one that holds no catalogue (empty, another
    program's), is an error with a hint, never made into a new catalogue."""
    if not Path(path).exists():
        raise DatabaseError(f"no catalogue at {path}", hint="run `catalog sync` first, or pass --db PATH")
    raw = driver.connect(path)
    try:
        empty = not has_tables(raw)
    except driver.DatabaseError:  # not SQLite at all: `connect` says so
        empty = False
    finally:
        raw.close()
    if empty:  # leave an empty file as it was
        raise DatabaseError(f"{path} is not a catalogue", hint="run `catalog sync` to make one, or pass --db PATH")
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
