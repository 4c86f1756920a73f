"""`--since 12h / 7d / 2w` (a time ago) or a date, read by one parser (catalog.cli.dates) for every command that
takes it; a value it cannot read is a usage error naming the option, never a traceback."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from catalog.cli import cli
from catalog.cli.dates import parse_since
from tests.conftest import WriteConfig

NOW = datetime(2026, 11, 29, 18, 0, 5, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12h", datetime(2026, 11, 29, 6, 0, 5, tzinfo=timezone.utc)),
        ("7d", datetime(2026, 11, 22, 18, 0, 5, tzinfo=timezone.utc)),
        (" 2W ", datetime(2026, 11, 15, 18, 0, 5, tzinfo=timezone.utc)),
        ("0d", datetime(2026, 11, 29, 18, 0, 5, tzinfo=timezone.utc)),
        ("2026-01-31", date(2026, 1, 31)),
    ],
    ids=["hours", "days", "weeks-upper-case-spaces", "zero", "iso-date"],
)
def test_parse_since(value: str, expected: date) -> None:
    assert parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["7", "7m", "d", "-3d", "1.5d", "yesterday", "2026-13-01", "999999999w"])
def test_what_parse_since_cannot_read_is_a_bad_parameter(value: str) -> None:
    with pytest.raises(click.BadParameter) as info:
        parse_since(value, now=NOW)
    assert info.value.param_hint == "--since" and repr(value) in info.value.message


@pytest.fixture
def recent(tmp_path: Path, write_config: WriteConfig) -> Path:
    """Articles published 1 hour, 3 days, 10 days and 30 days before now (the tests run at any time)."""
    now = datetime.now(timezone.utc)
    ages = {
        "hour": timedelta(hours=1),
        "days": timedelta(days=3),
        "week": timedelta(days=10),
        "month": timedelta(days=30),
    }
    items = "".join(
        f"<item><title>{name}</title><guid>{name}</guid><description>grain news</description>"
        f"<pubDate>{format_datetime(now - age)}</pubDate></item>"
        for name, age in ages.items()
    )
    feed = tmp_path / "recent.xml"
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title>{items}</channel></rss>')
    config = write_config([{"name": "recent", "url": str(feed), "kind": "article"}])
    assert CliRunner().invoke(cli, ["--config", str(config), "sync"]).exit_code == 0
    return config


@pytest.mark.parametrize(
    ("since", "titles"),
    [
        ("2h", ["hour"]),
        ("5d", ["hour", "days"]),
        ("2w", ["hour", "days", "week"]),
        ("100d", ["hour", "days", "week", "month"]),
    ],
)
@pytest.mark.parametrize("command", [["list"], ["search", "grain", "--lexical"]], ids=["list", "search"])
def test_relative_since_in_every_command(recent: Path, command: list[str], since: str, titles: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--config", str(recent), *command, "--since", since, "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(row["title"] for row in json.loads(result.stdout)) == sorted(titles)


@pytest.mark.parametrize("command", [["list"], ["search", "grain"]], ids=["list", "search"])
def test_a_bad_since_is_a_usage_error_naming_the_option(recent: Path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--config", str(recent), *command, "--since", "7m"])
    assert result.exit_code == 2
    assert "Error: Invalid value for --since: '7m' is not a date in YYYY-MM-DD form, or a time ago" in result.stderr
    assert "Traceback" not in result.stderr
