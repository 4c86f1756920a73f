"""`--since` and `--until` on the command line: catalog.dates reads them; a value it cannot read is a
click usage error naming the option (exit code 2), never a traceback.
"""

from __future__ import annotations

from datetime import date, datetime

import click

from catalog.dates import read_date, read_since


def parse_date(value: str | None, option: str) -> date | None:
    """A day, YYYY-MM-DD; None for None. click.BadParameter naming `option` otherwise."""
    if value is None:
        return None
    try:
        return read_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def parse_since(value: str | None, option: str = "--since", *, now: datetime | None = None) -> date | None:
    """A day or a time ago (catalog.dates.read_since); None for None. click.BadParameter naming `option`."""
    if value is None:
        return None
    try:
        return read_since(value, now=now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
