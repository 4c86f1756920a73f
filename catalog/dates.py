"""Dates people type: a day (2026-01-31), or a time ago (`12h`, `7d`, `2w`: that long before now).

The one reader of them, for the command line's --since/--until (catalog.cli.dates, which makes a
ValueError a usage error naming the option) and the search page's fields (catalog.web.routes).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

RELATIVE = re.compile(r"\s*(\d{1,9})\s*([hdw])\s*", re.IGNORECASE)
UNITS = {"h": "hours", "d": "days", "w": "weeks"}
FORMS = "a date in YYYY-MM-DD form, or a time ago such as 12h, 7d or 2w (hours, days, weeks)"


def read_date(value: str) -> date:
    """A day, YYYY-MM-DD; ValueError saying so otherwise."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form") from None


def read_since(value: str, *, now: datetime | None = None) -> date:
    """A day (YYYY-MM-DD), or the moment `Nh`, `Nd` or `Nw` before `now` (UTC, to the second; a
    `datetime`, which is a `date` too, so every filter takes it). ValueError saying what is wrong."""
    match = RELATIVE.fullmatch(value)
    if match is None:
        try:
            return read_date(value)
        except ValueError:
            raise ValueError(f"{value!r} is not {FORMS}") from None
    amount, unit = int(match.group(1)), match.group(2).lower()
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    try:
        return moment - timedelta(**{UNITS[unit]: amount})
    except OverflowError:
        raise ValueError(f"{value!r} is further back than any date") from None
