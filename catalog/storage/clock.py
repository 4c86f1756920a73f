"""Time as the catalogue stores it (UTC, ISO 8601 to the second) and the retry back-off."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def backoff(failures: int, now: datetime, retry_after: float | None = None) -> str:
    """When to try again after `failures` consecutive failures (Retry-After wins when longer)."""
    delay = min(BACKOFF_BASE * (2 ** max(0, failures - 1)), BACKOFF_CAP)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return iso(now + delay)
