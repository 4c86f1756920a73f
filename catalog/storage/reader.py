"""Opening the catalogue to read it, fast: a plain sqlite3 connection when the schema is current.

`catalog search` must answer in a quarter of a second, start-up included, so the read path does not
import sqlite-utils (a tenth of a second). Only a catalogue that still needs a migration is opened
through `catalog.storage.database.connect`, which migrates it.
"""

from __future__ import annotations

from pathlib import Path

from catalog.errors import DatabaseError
from catalog.storage import driver
from catalog.storage.rows import Reader

LATEST_MIGRATION = "0012_sqlite_vec"  # tests/test_migrations.py checks this is the last one
MIGRATION_COUNT = 12  # and that there are this many: a catalogue missing an earlier one is migrated too
# A search reads index pages and passage rows scattered through the file: memory-mapped, each is a
# pointer into the OS page cache instead of a read() copy (a third of a filtered query's time at 1M
# segments). Address space only; SQLite maps at most this much, and never more than the file.
READ_MMAP_BYTES = 1 << 30
READ_CACHE_KIB = 64 * 1024


def open_reader(path: Path | str) -> Reader:
    """The catalogue at `path` for reading; a missing file is an error, not a new empty catalogue."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"no catalogue at {path}", hint="run `catalog sync` first, or pass --db PATH")
    conn = None
    try:
        conn = driver.connect(path)
        applied, latest = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(name = ?), 0) FROM _sqlite_migrations WHERE migration_set = 'catalog'",
            [LATEST_MIGRATION],
        ).fetchone()
        current: bool | None = applied == MIGRATION_COUNT and latest == 1
    except driver.OperationalError:  # no migrations table: an empty file, or another program's database
        current = False
    except driver.DatabaseError:  # not SQLite at all: `connect` says so
        current = None
    if current and conn is not None:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
        conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
        return conn
    from catalog.storage.database import connect, is_catalogue  # migrates (or says why the file is not a catalogue)

    if conn is not None:
        catalogue = current is not None and is_catalogue(conn)  # None: the file is no SQLite database at all
        conn.close()
        if current is not None and not catalogue:  # an empty file, or another program's database: never written
            raise DatabaseError(
                f"{path} is not a catalogue", hint="run `catalog sync` to make one, or pass --db PATH to yours"
            )
    return connect(path)


def open_read_only(path: Path | str) -> driver.Connection:
    """The catalogue at `path`, opened so that nothing can write to it (`catalog serve`): SQLite's
    read-only mode, tuned for reading as `open_reader` is. `check_same_thread=False`: a web server
    hands a connection from thread to thread, never to two at once. Open it with `open_reader`
    first, so that a catalogue needing a migration gets it."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"no catalogue at {path}", hint="run `catalog sync` first, or pass --db PATH")
    conn = driver.connect(path, read_only=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
    conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
    return conn
