"""The command-line contract: help everywhere, errors without tracebacks, meaningful exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from catalog.cli import cli
from tests.conftest import ROOT, WriteConfig

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example_and_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output or isinstance(cli.commands[name], click.Group)
    assert f"catalog {name}" in (ROOT / "README.md").read_text()


def test_top_level_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Exit codes" in result.output
    for name in COMMANDS:
        assert name in result.output


@pytest.fixture
def article_catalog(write_config: WriteConfig) -> Path:
    fixtures = Path(__file__).parent / "fixtures" / "feeds"
    config = write_config([{"name": "jn", "url": str(fixtures / "jornal_de_noticias_iso8859-1.rss")}])
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return config


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "-",
        ":",
        "*",
        "(",
        ")",
        "NEAR",
        "NEAR(",
        "a OR",
        "OR",
        "AND b",
        "col:val",
        "-x -y",
        "'",
        '"unterminated phrase',
        "^",
        "a:b:c",
        "Portugal*",
        "NOT",
        "💥",
        "\\",
    ],
)
def test_any_query_gives_results_or_a_clear_error(article_catalog: Path, query: str) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(article_catalog), "search", query, "--json"], catch_exceptions=False
    )
    if result.exit_code == 0:
        assert isinstance(json.loads(result.stdout), list)
    else:
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_raw_fts_syntax_errors_are_explained(article_catalog: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(article_catalog), "search", "--raw", "NEAR(", "--json"])
    assert result.exit_code == 2 and "invalid search query" in result.stderr and "Hint:" in result.stderr


def test_quoted_phrase_searches_as_phrase(article_catalog: Path) -> None:
    def count(query: str) -> int:
        result = CliRunner().invoke(
            cli, ["--config", str(article_catalog), "search", query, "--json", "--limit", "100"]
        )
        return len(json.loads(result.stdout))

    assert count("Portugal") > 0
    assert count('"de Portugal"') <= count("de Portugal")


def test_config_errors_exit_3_with_the_line(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: x\n    url: gopher://old\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"])
    assert result.exit_code == 3
    assert f"{config}:3: feeds.0.url" in result.stderr
    missing = CliRunner().invoke(cli, ["--config", str(tmp_path / "none.yaml"), "sync"])
    assert missing.exit_code == 3 and "config file not found" in missing.stderr


def test_reading_commands_need_an_existing_catalogue(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "nope.db"), "search", "x"])
    assert result.exit_code == 1 and "no catalogue at" in result.stderr and "catalog sync" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_db_option_and_env(article_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = article_catalog.parent / "catalog.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATALOG_DB", str(db))
    result = CliRunner().invoke(cli, ["search", "Portugal", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)


def test_bad_date_is_a_usage_error(article_catalog: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(article_catalog), "search", "x", "--since", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
