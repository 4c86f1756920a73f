"""The command-line contract: help everywhere, errors without tracebacks, meaningful exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from catalog.cli import cli
from catalog.cli.main import COMMANDS as LAZY_COMMANDS
from catalog.storage import driver
from tests.conftest import ROOT, SAMPLES, WriteConfig

COMMANDS = sorted(LAZY_COMMANDS)  # every command, loaded when used
SUBCOMMANDS = [
    ("feeds", "list"),
    ("feeds", "add"),
    ("feeds", "update-moved"),
    ("feeds", "import"),
    ("feeds", "export"),
    ("feeds", "remove"),
    ("feeds", "enable"),
    ("feeds", "disable"),
    ("models", "pull"),
    ("watch", "add"),
    ("watch", "list"),
    ("watch", "remove"),
    ("watch", "run"),
]


def test_the_command_list_is_not_empty() -> None:
    assert len(COMMANDS) == 15 and "search" in COMMANDS and "list" in COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example_and_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert "Example" in result.output
    assert f"catalog {name}" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(("group", "name"), SUBCOMMANDS)
def test_every_subcommand_has_help_with_an_example(group: str, name: str) -> None:
    result = CliRunner().invoke(cli, [group, name, "--help"])
    assert result.exit_code == 0 and "Example" in result.output
    assert f"catalog {group} {name}" in (ROOT / "README.md").read_text()


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


ODD_ITEMS = [
    ("Troops near the river", "Units massed near the Dnipro before dawn."),
    ("Grain or oil", "Exporters must choose grain or oil this season."),
    ("Plan B and the talks", "Diplomats drafted plan B and a fallback."),
    ("Shelling at Colval", "Shelling reached the Colval ridge overnight."),
    ("The Col Val road", "Convoys used the col val road."),
    ("An unterminated phrase", "Editors left an unterminated phrase in the draft."),
    ("Phrase book", "Every phrase here is long; none is unterminated."),
    ("ABC of sanctions", "A b c of the sanctions regime, explained."),
    ("Lisbon and Portugal", "Ports in Portugal reopened."),
    ("Portugalete", "Portugalete is a town by Bilbao."),
    ("Not yet", "The truce is not yet agreed."),
]


@pytest.fixture
def odd_catalog(tmp_path: Path, write_config: WriteConfig) -> Path:
    """Articles whose words are the ones FTS5 gives a meaning to (near, or, and, not), so that a query made
    of such words has exactly one right answer."""
    items = "".join(
        f"<item><title>{title}</title><guid>odd-{n}</guid><description>{body}</description>"
        f"<pubDate>Mon, 02 Mar 2026 {n:02d}:00:00 GMT</pubDate></item>"
        for n, (title, body) in enumerate(ODD_ITEMS)
    )
    feed = tmp_path / "odd.xml"
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Odd</title>{items}</channel></rss>')
    config = write_config([{"name": "odd", "url": str(feed), "kind": "article"}])
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return config


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("NEAR", ["Troops near the river"]),
        ("NEAR(", ["Troops near the river"]),
        ("a OR", ["ABC of sanctions", "Plan B and the talks", "Portugalete"]),  # a dangling OR is dropped
        ("OR", ["Grain or oil"]),
        ("AND b", ["Plan B and the talks"]),
        ("NOT", ["Not yet"]),
        ("col:val", ["Shelling at Colval", "The Col Val road"]),
        ("a:b:c", ["ABC of sanctions"]),
        ('"unterminated phrase', ["An unterminated phrase"]),  # a phrase: "Phrase book" has both words apart
        ("Portugal*", ["Lisbon and Portugal", "Portugalete"]),
        ("Portugal", ["Lisbon and Portugal"]),
    ],
)
def test_queries_with_fts5_words_are_searched_as_plain_words(odd_catalog: Path, query: str, titles: list[str]) -> None:
    # typed as a shell passes it: `catalog search a OR` is two arguments (one argument with spaces is a phrase)
    result = CliRunner().invoke(
        cli,
        ["--config", str(odd_catalog), "search", *query.split(" "), "--json", "--lexical"],
        catch_exceptions=False,
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert sorted(hit["title"] for hit in json.loads(result.stdout)) == titles


@pytest.mark.parametrize("query", ['"', '""', "-", ":", "*", "(", ")", "-x -y", "^", "💥", "\\", "- -", "():"])
def test_queries_with_nothing_to_search_for_exit_2(odd_catalog: Path, query: str) -> None:
    result = CliRunner().invoke(cli, ["--config", str(odd_catalog), "search", query, "--json"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: nothing to search for in {query!r}\n"
        "Hint: a query needs at least one word that is not excluded with '-'\n"
    )


def test_a_lone_apostrophe_is_nothing_to_search_for(odd_catalog: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(odd_catalog), "search", "'", "--json"], catch_exceptions=False)
    assert result.exit_code == 2 and 'nothing to search for in "\'"' in result.stderr


def test_raw_fts_syntax_errors_are_explained(article_catalog: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(article_catalog), "search", "--raw", "NEAR(", "--json"])
    assert result.exit_code == 2 and "invalid search query" in result.stderr and "Hint:" in result.stderr


def _search(config: Path, *words: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "search", *words, "--json", "--limit", "100", "--lexical"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    hits: list[dict[str, Any]] = json.loads(result.stdout)
    return hits


def _item_ids(config: Path) -> dict[str, int]:
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        return dict(conn.execute("SELECT title, id FROM items").fetchall())


EP1 = "Episode 1: Ways Out of the War"
GUARANTEES = "What Security Guarantees Could Ukraine Actually Get?"
DRONES = "The Drone War Is Rewriting Military Doctrine"
TALK = "How to End the Ukraine War"


def test_quoted_phrase_searches_as_phrase(synced_samples: Path, manifest: dict[str, Any]) -> None:
    ids = _item_ids(synced_samples)
    said = manifest["media"]["media/nonzero-ep1.mp3"]["phrases"][0]
    assert said["text"] == "European peacekeepers"

    # Spoken first (the whole sentence is about it), then the article that writes it.
    phrase = _search(synced_samples, '"European peacekeepers"')
    assert [(h["item_id"], h["title"], h["passage"]) for h in phrase] == [
        (ids[EP1], EP1, "segment"),
        (ids[GUARANTEES], GUARANTEES, "text"),
    ]
    spoken, written = phrase
    assert abs(spoken["start"] - said["start"]) <= 1.0, spoken
    assert spoken["link"] == f"{(SAMPLES / 'media' / 'nonzero-ep1.mp3').as_uri()}#t={int(spoken['start'])}"
    assert spoken["snippet"].startswith("<mark>European peacekeepers</mark> ")
    assert "start" not in written and "<mark>European peacekeepers</mark>" in written["snippet"]
    # One argument with spaces is the same phrase (the shell ate the quotes).
    assert _search(synced_samples, "European peacekeepers") == phrase

    # The words the other way round are no phrase anywhere, but both words are in the same two passages.
    assert _search(synced_samples, '"peacekeepers European"') == []
    both = _search(synced_samples, "peacekeepers", "European")
    assert [(h["item_id"], h["passage"]) for h in both] == [(ids[EP1], "segment"), (ids[GUARANTEES], "text")]
    # the moment is the first matched word said, whatever the order of the query's words
    assert both[0]["start"] == spoken["start"] and both[0]["start_is"] == "word"

    # "Ukraine war" as a phrase: the talk's title and the article's first sentence; as two words, every
    # passage with both, the spoken one ("the war in Ukraine") among them.
    assert [(h["item_id"], h["title"]) for h in _search(synced_samples, '"Ukraine war"')] == [
        (ids[TALK], TALK),
        (ids[GUARANTEES], GUARANTEES),
    ]
    words = _search(synced_samples, "Ukraine", "war")
    # titles weigh 3x: the talk's and episode 1's titles and notes, then the spoken sentence
    assert [(h["item_id"], h["passage"]) for h in words] == [
        (ids[TALK], "text"),
        (ids[EP1], "text"),
        (ids[EP1], "segment"),
        (ids[DRONES], "text"),
        (ids[GUARANTEES], "text"),
    ]
    # "This week we ask how the war in Ukraine ...": after the welcome, before the peacekeepers
    assert 3.0 < words[2]["start"] < said["start"], words[2]


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
