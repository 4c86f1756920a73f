"""The read side's view of a connection, and rows as dicts (no imports: every storage module may use it)."""

from __future__ import annotations

import sqlite3
from typing import Any, Protocol


class Reader(Protocol):
    """What the read side needs of a connection: sqlite3's or sqlite-utils' `execute`."""

    def execute(self, sql: str, parameters: Any = ..., /) -> sqlite3.Cursor: ...


def dict_rows(db: Reader, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """The rows of a query as dicts keyed by column name."""
    cursor = db.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=False)) for row in cursor.fetchall()]
