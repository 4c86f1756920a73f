"""The SQLite binding every catalogue connection is opened with: one per process.

Search by meaning keeps its vectors in sqlite-vec's vec0 table, a SQLite extension, and the sqlite3
of many Pythons cannot load extensions (pyenv's and macOS's builds lack `enable_load_extension`).
So the `semantic` extra brings sqlean.py, sqlite3's own API over a current SQLite that can; when it
is installed, every connection catalog opens uses it. Never a mix: two copies of SQLite in one
process, open on one file, do not see each other's locks, and one closing its last connection
deletes the write-ahead log the other is reading (https://sqlite.org/howtocorrupt.html, 2.2.1).
Code that opens a catalogue itself (tests, benchmarks) takes `connect` and the errors from here.
"""

from __future__ import annotations

import importlib
import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

from catalog.embedding import EXTRA


def _binding() -> ModuleType:
    if all(importlib.util.find_spec(name) is not None for name in EXTRA):
        return importlib.import_module("sqlean")
    return sqlite3


sqlite: ModuleType = _binding()
Connection = sqlite3.Connection  # the type both bindings' connections follow
DatabaseError: type[Exception] = sqlite.DatabaseError
OperationalError: type[Exception] = sqlite.OperationalError
IntegrityError: type[Exception] = sqlite.IntegrityError


def connect(
    path: Path | str, *, timeout: float = 10.0, read_only: bool = False, check_same_thread: bool = True
) -> Connection:
    """A connection to `path` with no implicit transactions (every write says BEGIN itself), and
    sqlite-vec loaded when the binding can (a millisecond). `read_only`: SQLite's read-only mode."""
    target, uri = (f"{Path(path).resolve().as_uri()}?mode=ro", True) if read_only else (str(path), False)
    conn: Connection = sqlite.connect(
        target, timeout=timeout, isolation_level=None, uri=uri, check_same_thread=check_same_thread
    )
    if sqlite is not sqlite3:
        load_vectors(conn)
    return conn


def load_vectors(conn: Connection) -> bool:
    """Load sqlite-vec into `conn` (once); False when this binding cannot (no semantic extra)."""
    try:
        conn.execute("SELECT vec_version()")
        return True
    except DatabaseError:  # no such function (or a file that is no database: its next query says so)
        pass
    if sqlite is sqlite3 and not hasattr(conn, "enable_load_extension"):
        return False
    try:
        sqlite_vec = importlib.import_module("sqlite_vec")
    except ImportError:
        return False
    conn.enable_load_extension(True)
    try:
        sqlite_vec.load(conn)
    finally:
        conn.enable_load_extension(False)
    return True
