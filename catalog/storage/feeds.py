"""Feed rows: created on first sight, and their fetch state (conditional-GET validators, failures, back-off)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog.errors import NotFoundError
from catalog.storage.clock import backoff, iso, utcnow
from catalog.storage.rows import Reader, dict_rows

if TYPE_CHECKING:
    from sqlite_utils import Database


def ensure_feed(db: Database, name: str, url: str, kind: str | None) -> dict[str, Any]:
    """The feed's row, created on first sight; a changed URL resets its fetch state.

    Unless the new URL is where the feed moved to (`catalog feeds update-moved` wrote it into feeds.yaml):
    that is the address already fetched, so only the pending move is cleared (its history is kept).
    """
    current = next(db["feeds"].rows_where("name = ?", [name]), None)
    if current is None:
        db.execute("INSERT INTO feeds (name, url, kind) VALUES (?, ?, ?)", [name, url, kind])
    elif current["url"] != url and current["moved_to"] == url:
        db.execute(
            "UPDATE feeds SET url = ?, kind = ?, moved_to = NULL, moved_how = NULL, moved_at = NULL WHERE id = ?",
            [url, kind, current["id"]],
        )
    elif current["url"] != url:
        db.execute(
            "UPDATE feeds SET url = ?, kind = ?, etag = NULL, last_modified = NULL, failures = 0,"
            " next_fetch_at = NULL, disabled_reason = NULL, body_sha256 = NULL, last_success_at = NULL,"
            " moved_to = NULL, moved_how = NULL, moved_at = NULL WHERE id = ?",
            [url, kind, current["id"]],
        )
        db.execute("DELETE FROM feed_moves WHERE feed_id = ?", [current["id"]])
    elif current["kind"] != kind:
        db.execute("UPDATE feeds SET kind = ? WHERE id = ?", [kind, current["id"]])
    else:
        return dict(current)
    return dict(next(db["feeds"].rows_where("name = ?", [name])))


def feed_fetched(
    db: Database,
    feed_id: int,
    *,
    result: str,
    etag: str | None,
    last_modified: str | None,
    http_status: int | None,
    title: str | None = None,
    language: str | None = None,
    warning: str | None = None,
    body_sha256: str | None = None,
) -> None:
    now = iso(utcnow())
    db.execute(
        """UPDATE feeds SET last_fetch_at = ?, last_success_at = ?, last_result = ?, last_error = ?,
           http_status = ?, etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
           title = COALESCE(?, title), language = COALESCE(?, language), failures = 0,
           next_fetch_at = NULL, body_sha256 = COALESCE(?, body_sha256) WHERE id = ?""",
        [now, now, result, warning, http_status, etag, last_modified, title, language, body_sha256, feed_id],
    )


def feed_moved(db: Database, feed_id: int, *, from_url: str, to_url: str, how: str, same_document: bool) -> None:
    """The feed is fetched from `to_url` from now on (`how`: HTTP 301, HTTP 308, itunes:new-feed-url, newLocation).

    `same_document`: the response came from `to_url` already (a redirect), so its validators stay; a
    document that names a new address was not fetched from there, so the next fetch is a full one.
    """
    now = iso(utcnow())
    keep = "" if same_document else ", etag = NULL, last_modified = NULL, body_sha256 = NULL"
    db.execute(
        f"UPDATE feeds SET moved_to = ?, moved_how = ?, moved_at = ?{keep} WHERE id = ?", [to_url, how, now, feed_id]
    )
    db.execute(
        "INSERT INTO feed_moves (feed_id, at, from_url, to_url, how) VALUES (?, ?, ?, ?, ?)",
        [feed_id, now, from_url, to_url, how],
    )


def move_trail(db: Reader, feed_id: int) -> list[str]:
    """Every address the feed was at: its feeds.yaml URL, then each move's, oldest first."""
    row = db.execute("SELECT url FROM feeds WHERE id = ?", [feed_id]).fetchone()
    trail = [row[0]] if row else []
    for from_url, to_url in db.execute(
        "SELECT from_url, to_url FROM feed_moves WHERE feed_id = ? ORDER BY id", [feed_id]
    ).fetchall():
        trail += [from_url, to_url]
    return list(dict.fromkeys(trail))


def moved_feeds(db: Reader) -> list[dict[str, Any]]:
    """The feeds fetched from another address than their feeds.yaml URL, by name."""
    return dict_rows(
        db,
        "SELECT name, url, moved_to, moved_how, moved_at FROM feeds WHERE moved_to IS NOT NULL ORDER BY name",
    )


def feed_validators(db: Database, feed_id: int, *, etag: str | None, last_modified: str | None) -> None:
    """Remember new conditional-GET validators for a body that did not change."""
    db.execute(
        "UPDATE feeds SET etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified) WHERE id = ?",
        [etag, last_modified, feed_id],
    )


def feed_recovered(db: Database, feed_id: int, *, http_status: int) -> None:
    db.execute(
        """UPDATE feeds SET last_fetch_at = ?, last_result = 'not modified', last_error = NULL, http_status = ?,
           failures = 0, next_fetch_at = NULL WHERE id = ?""",
        [iso(utcnow()), http_status, feed_id],
    )


def feed_failed(
    db: Database,
    feed_id: int,
    message: str,
    *,
    http_status: int | None,
    retry_after: float | None,
    max_attempts: int,
    gone: bool = False,
) -> str:
    """Record a failed fetch with exponential backoff; returns the feed's new result word."""
    now = utcnow()
    failures = db.execute("SELECT failures FROM feeds WHERE id = ?", [feed_id]).fetchone()[0] + 1
    disabled = None
    if gone:
        disabled = f"410 Gone: the publisher removed this feed ({message})"
    elif failures >= max_attempts:
        disabled = f"gave up after {failures} failures in a row; last: {message}"
    db.execute(
        """UPDATE feeds SET last_fetch_at = ?, last_result = 'error', last_error = ?, http_status = ?,
           failures = ?, next_fetch_at = ?, disabled_reason = ? WHERE id = ?""",
        [iso(now), message, http_status, failures, backoff(failures, now, retry_after), disabled, feed_id],
    )
    return "disabled" if disabled else "error"


def require_feed_id(db: Reader, name: str) -> int:
    """The id of the feed of that name; NotFoundError, listing the feeds there are, when there is none."""
    row = db.execute("SELECT id FROM feeds WHERE name = ?", [name]).fetchone()
    if row is None:
        names = [row[0] for row in db.execute("SELECT name FROM feeds ORDER BY name")]
        raise NotFoundError(
            f"no feed named {name!r} in this catalogue", hint=f"the feeds are: {', '.join(names) or 'none yet'}"
        )
    return int(row[0])


def mark_listed(db: Database, names: list[str]) -> None:
    """The feeds named in feeds.yaml (`names`, enabled or not) are active; any other is inactive from now on.

    An inactive feed keeps its items (they stay searchable); it is not fetched and not reported as failing.
    """
    listed = list(names)
    marks = ", ".join("?" * len(listed)) or "NULL"
    db.execute(f"UPDATE feeds SET inactive_since = NULL WHERE inactive_since IS NOT NULL AND name IN ({marks})", listed)
    db.execute(
        f"UPDATE feeds SET inactive_since = ? WHERE inactive_since IS NULL AND name NOT IN ({marks})",
        [iso(utcnow()), *listed],
    )


def mark_inactive(db: Database, name: str) -> bool:
    """`catalog feeds remove` without --purge: the feed is kept, inactive. False when the catalogue has no such feed."""
    cursor = db.execute(
        "UPDATE feeds SET inactive_since = COALESCE(inactive_since, ?) WHERE name = ?", [iso(utcnow()), name]
    )
    return bool(cursor.rowcount)


def feed_states(db: Reader) -> dict[str, str | None]:
    """Every feed of the catalogue by name: when it became inactive (None: it is listed in feeds.yaml)."""
    return dict(db.execute("SELECT name, inactive_since FROM feeds ORDER BY name").fetchall())


def find_feed(db: Reader, name: str) -> dict[str, Any] | None:
    """The feed of that name (id, url, kind, inactive_since) and how many items it has; None when there is none."""
    found = dict_rows(
        db,
        "SELECT f.id, f.url, f.kind, f.inactive_since, (SELECT COUNT(*) FROM items WHERE feed_id = f.id) AS items"
        " FROM feeds f WHERE f.name = ?",
        [name],
    )
    return found[0] if found else None
