"""The vector index: a sqlite-vec `vec0` table in the catalogue file.

`vector_index` holds one int8 vector per window (rowid = vector_windows.id) and finds the nearest
by cosine, exactly, in C. sqlite-vec is loaded into catalog's own connection when first needed; the
binding that can load it is chosen in `catalog.storage.driver`.

A window dropped by a connection without sqlite-vec (a catalog without the `semantic` extra, a
Datasette, the sqlite3 shell: its passage changed, its feed was purged) is noted in
`vector_dropped` by a trigger of plain SQL (migration 0012), and its vector deleted by the next
`prune()`; until then searches skip it.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

from catalog.embedding import INSTALL_HINT, available
from catalog.errors import SemanticUnavailableError
from catalog.storage.driver import Connection, load_vectors
from catalog.storage.rows import Reader

TABLE = "vector_index"
K_MAX = 4096  # sqlite-vec's largest k


def connection(db: Reader) -> Any:
    """`db`'s connection with sqlite-vec loaded, or SemanticUnavailableError naming the extra."""
    conn: Connection = getattr(db, "conn", None) or cast(Connection, db)  # a sqlite-utils Database, or a connection
    if not available() or not load_vectors(conn):
        raise SemanticUnavailableError("search by meaning needs sqlite-vec", hint=INSTALL_HINT)
    return conn


def ensure(conn: Any, dim: int) -> None:
    """Create the index when missing, moving in the vectors an earlier catalog stored in chunks."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [TABLE]).fetchone():
        return
    outer = conn.in_transaction
    if not outer:
        conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [TABLE]).fetchone():
            conn.execute(f"CREATE VIRTUAL TABLE {TABLE} USING vec0(embedding int8[{dim}] distance_metric=cosine)")
            for ids, vectors in conn.execute("SELECT ids, vectors FROM vector_chunks ORDER BY id").fetchall():
                chunk_ids = np.frombuffer(ids, dtype=np.int64)
                add(conn, chunk_ids.tolist(), np.frombuffer(vectors, dtype=np.int8).reshape(len(chunk_ids), dim))
            conn.execute("DELETE FROM vector_chunks")
            conn.execute("DELETE FROM vector_dropped")
            conn.execute(f"DELETE FROM {TABLE} WHERE rowid NOT IN (SELECT id FROM vector_windows)")
        if not outer:
            conn.execute("COMMIT")
    except BaseException:
        if not outer:
            conn.execute("ROLLBACK")
        raise


def add(conn: Any, ids: list[int], vectors: npt.NDArray[np.int8]) -> None:
    """Store int8 vectors under their window ids (inside the caller's transaction)."""
    conn.executemany(
        f"INSERT INTO {TABLE} (rowid, embedding) VALUES (?, vec_int8(?))",
        ((int(i), vectors[n].tobytes()) for n, i in enumerate(ids)),
    )


def prune(conn: Any) -> int:
    """Delete the vectors of dropped windows (inside the caller's transaction); how many."""
    dropped = [row[0] for row in conn.execute("SELECT id FROM vector_dropped").fetchall()]
    conn.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", ((i,) for i in dropped))
    conn.execute("DELETE FROM vector_dropped")
    return len(dropped)


def clear(conn: Any, dim: int) -> None:
    """Every window and vector gone (inside the caller's transaction), for a new model."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute("DELETE FROM vector_windows")
    conn.execute("DELETE FROM vector_dropped")
    conn.execute("DELETE FROM vector_chunks")
    conn.execute("DELETE FROM vector_model")
    conn.execute(f"CREATE VIRTUAL TABLE {TABLE} USING vec0(embedding int8[{dim}] distance_metric=cosine)")


def knn(
    conn: Any,
    query: npt.NDArray[np.int8] | npt.NDArray[np.float32],
    limit: int,
    allowed: tuple[str, dict[str, Any]] | None = None,
    *,
    table: str = TABLE,
) -> list[tuple[int, float]]:
    """The `limit` nearest live windows (window id, cosine similarity), best first; with `allowed`
    (a SELECT of window ids and its parameters) only among those. `query` is int8 for the index as
    stored (a float32 one is for a float[] vec0 table: bench/semantic.py compares the two)."""
    dropped = {row[0] for row in conn.execute("SELECT id FROM vector_dropped").fetchall()}
    vector = "vec_int8(:vector_query)" if query.dtype == np.int8 else ":vector_query"
    sql = f"SELECT rowid, distance FROM {table} WHERE embedding MATCH {vector} AND k = :vector_k"
    params: dict[str, Any] = {"vector_query": query.tobytes(), "vector_k": min(K_MAX, limit + len(dropped))}
    if allowed is not None:
        sql += f" AND rowid IN ({allowed[0]})"
        params.update(allowed[1])
    rows = conn.execute(sql + " ORDER BY distance", params).fetchall()
    return [(int(i), 1.0 - float(d)) for i, d in rows if i not in dropped][:limit]
