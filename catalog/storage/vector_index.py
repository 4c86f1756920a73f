"""The nearest windows by meaning, scored in SQL by sqlite-vec.

Each window's vector is an int8 BLOB in its own row (`vector_windows.embedding`, migration 0012), and
sqlite-vec's `vec_distance_cosine` scores them exactly, in C, inside the query that filters them: a
plain column rather than a vec0 virtual table, so that every SQLite tool (the sqlite3 shell,
Datasette) still reads the whole file, and a window deleted takes its vector with it. (A vec0 table
answered no faster here: 77 ms against 87 ms over 100,000 int8 vectors; Datasette cannot open a file
holding one without sqlite-vec.) sqlite-vec is loaded into catalog's connections by
`catalog.storage.driver`.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

from catalog.embedding import INSTALL_HINT, available
from catalog.errors import SemanticUnavailableError
from catalog.storage.driver import Connection, load_vectors
from catalog.storage.rows import Reader


def connection(db: Reader) -> Connection:
    """`db`'s connection with sqlite-vec loaded, or SemanticUnavailableError naming the extra."""
    conn: Connection = getattr(db, "conn", None) or cast(Connection, db)  # a sqlite-utils Database, or a connection
    if not available() or not load_vectors(conn):
        raise SemanticUnavailableError("search by meaning needs sqlite-vec", hint=INSTALL_HINT)
    return conn


def nearest_windows(
    db: Reader, query: npt.NDArray[np.int8], limit: int, where: str = "", params: dict[str, Any] | None = None
) -> list[tuple[int, float]]:
    """The `limit` windows nearest to `query` (window id, cosine similarity), best first, among those
    `where` keeps (SQL over `w` = vector_windows and `i` = items, with its named `params`)."""
    conn = connection(db)
    sql = f"""SELECT w.id, vec_distance_cosine(vec_int8(w.embedding), vec_int8(:vector_query)) AS distance
              FROM vector_windows w {"JOIN items i ON i.id = w.item_id" if "i." in where else ""}
              WHERE w.embedding IS NOT NULL {"AND " + where if where else ""}
              ORDER BY distance LIMIT :vector_limit"""
    rows = conn.execute(sql, {"vector_query": query.tobytes(), "vector_limit": limit, **(params or {})}).fetchall()
    return [(int(i), 1.0 - float(d)) for i, d in rows]


def background(db: Reader, query: npt.NDArray[np.int8], sample: int) -> float | None:
    """The query's mean cosine similarity over about `sample` windows spread evenly over the catalogue
    (None when there are none): what "unrelated" scores for this query."""
    conn = connection(db)
    top = conn.execute("SELECT MAX(id) FROM vector_windows").fetchone()[0]
    if top is None:
        return None
    row = conn.execute(
        """SELECT AVG(1.0 - vec_distance_cosine(vec_int8(embedding), vec_int8(:vector_query))) FROM (
               SELECT embedding FROM vector_windows WHERE embedding IS NOT NULL AND id % :step = 0 LIMIT :sample)""",
        {"vector_query": query.tobytes(), "step": max(1, int(top) // sample), "sample": sample},
    ).fetchone()
    return None if row[0] is None else float(row[0])
