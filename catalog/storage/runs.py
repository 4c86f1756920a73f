"""Run rows (one per sync) and the failures recorded during a run, for `catalog status`."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from catalog.storage.clock import iso, utcnow


def start_run(db: Database, pid: int) -> int:
    # A run left 'running' by a crash or kill -9 is closed as interrupted.
    db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
    cursor = db.execute("INSERT INTO runs (started_at, pid, status) VALUES (?, ?, 'running')", [iso(utcnow()), pid])
    return int(cursor.lastrowid or 0)


def finish_run(db: Database, run_id: int, status: str, counts: dict[str, Any], message: str | None) -> None:
    assignments = ", ".join(f"{key} = :{key}" for key in counts)
    db.execute(
        f"UPDATE runs SET finished_at = :finished_at, status = :status, message = :message"
        f"{', ' if counts else ''}{assignments} WHERE id = :id",
        {**counts, "finished_at": iso(utcnow()), "status": status, "message": message, "id": run_id},
    )


def record_failure(
    db: Database,
    run_id: int | None,
    stage: str,
    message: str,
    *,
    feed_id: int | None = None,
    item_id: int | None = None,
) -> None:
    db.execute(
        "INSERT INTO failures (run_id, at, feed_id, item_id, stage, message) VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, iso(utcnow()), feed_id, item_id, stage, message],
    )
