"""Dates typed on the command line: `--since 7d` / `2w` / `12h` (that long before now), or a day, 2026-01-31.

The one place that reads them, for every command with `--since` or `--until`. A value it cannot read is a
click usage error naming the option (exit code 2), never a traceback.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import click

RELATIVE = re.compile(r"\s*(\d{1,9})\s*([hdw])\s*", re.IGNORECASE)
UNITS = {"h": "hours", "d": "days", "w": "weeks"}
FORMS = "a date in YYYY-MM-DD form, or a time ago such as 12h, 7d or 2w (hours, days, weeks)"


def parse_date(value: str | None, option: str) -> date | None:
    """A day, YYYY-MM-DD; None for None. click.BadParameter naming `option` otherwise."""
    if value is None:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint=option) from None


def parse_since(value: str | None, option: str = "--since", *, now: datetime | None = None) -> date | None:
    """A day (YYYY-MM-DD), or the moment `Nh`, `Nd` or `Nw` before `now` (UTC, to the second; a
    `datetime`, which is a `date` too, so every filter takes it). click.BadParameter naming `option`."""
    if value is None:
        return None
    match = RELATIVE.fullmatch(value)
    if match is None:
        try:
            return parse_date(value, option)
        except click.BadParameter:
            raise click.BadParameter(f"{value!r} is not {FORMS}", param_hint=option) from None
    amount, unit = int(match.group(1)), match.group(2).lower()
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    try:
        return moment - timedelta(**{UNITS[unit]: amount})
    except OverflowError:
        raise click.BadParameter(f"{value!r} is further back than any date", param_hint=option) from None
