"""`catalog feeds remove [--purge]`, `feeds enable|disable`, and the state of a feed (active, disabled, inactive):
feeds.yaml is edited line by line, a removed feed's items stay searchable unless purged, and a purge leaves
no row, index entry or file of it behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.app import Catalog
from catalog.asr.transcriber import WhisperTranscriber
from catalog.cli import cli
from catalog.errors import ConfigError
from catalog.sources.feed_entries import remove_entry, set_enabled
from catalog.storage import driver
from catalog.testing.localserver import LocalServer
from tests.conftest import ROOT, SAMPLES

HEAD = "# my feeds\nmedia_dir: media\nfeeds:\n"
ARTICLES = f"  - name: statecraft  # articles\n    url: {SAMPLES / 'articles.xml'}\n\n"
PODCAST = f"  # the podcast\n  - name: nonzero\n    url: {SAMPLES / 'podcast.xml'}\n    kind: podcast\n"


def _run(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.output
    return result


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with driver.sqlite.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(HEAD + ARTICLES + PODCAST)
    return path


def test_remove_keeps_the_items_searchable_and_the_feed_inactive(config: Path) -> None:
    assert _run(config, "sync", "--no-media").exit_code == 0
    result = _run(config, "feeds", "remove", "statecraft")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Removed statecraft from feeds.yaml; its 3 item(s) stay searchable "
        "(`catalog feeds remove statecraft --purge` deletes them).\n"
    )
    assert config.read_text() == HEAD + "\n" + PODCAST  # only its lines; the blank line and comments stay
    hits = json.loads(_run(config, "search", "peacekeepers", "--json", "--lexical").stdout)
    assert [(hit["feed"], hit["title"]) for hit in hits] == [
        ("statecraft", "What Security Guarantees Could Ukraine Actually Get?")
    ]
    listed = json.loads(_run(config, "feeds", "list", "--json").stdout)
    assert [(row["name"], row["state"]) for row in listed] == [("nonzero", "active"), ("statecraft", "inactive")]
    human = _run(config, "feeds", "list").stdout.splitlines()
    assert human[1] == f"statecraft  [auto]  {(SAMPLES / 'articles.xml').as_uri()}  (inactive)"
    report = json.loads(_run(config, "sync", "--no-media", "--json").stdout)
    assert report["feeds_checked"] == 1  # the inactive feed is not fetched
    status = json.loads(_run(config, "status", "--json").stdout)
    assert {feed["name"]: feed["state"] for feed in status["feeds"]} == {"nonzero": "active", "statecraft": "inactive"}
    assert _rows(config.parent / "catalog.db", "SELECT name FROM feeds WHERE inactive_since IS NOT NULL") == [
        ("statecraft",)
    ]


def test_a_feed_deleted_from_feeds_yaml_by_hand_is_inactive_not_failing(tmp_path: Path) -> None:
    server = LocalServer(tmp_path).start()
    try:
        config = tmp_path / "feeds.yaml"
        config.write_text(HEAD + f"  - name: gone\n    url: {server.url('missing.xml')}\n" + ARTICLES)
        first = _run(config, "sync", "--no-media")
        assert first.exit_code == 4 and "Feed problems" in _run(config, "status").stdout
        config.write_text(HEAD + ARTICLES)
        assert _run(config, "sync", "--no-media").exit_code == 0
        status = _run(config, "status")
        assert "Feed problems" not in status.stdout  # the 404 is in the first run's history only
        assert [line for line in status.stdout.splitlines() if "404" in line] == [
            f"     fetch: HTTP 404 Not Found from {server.url('missing.xml')}"
        ]
        assert [line.split()[5] for line in status.stdout.splitlines() if line.startswith(" gone ")] == ["inactive"]
        config.write_text(HEAD + f"  - name: gone\n    url: {server.url('missing.xml')}\n" + ARTICLES)
        _run(config, "sync", "--no-media")  # listed again: active again, and failing again
        status_json = json.loads(_run(config, "status", "--json").stdout)
        assert {feed["name"]: feed["state"] for feed in status_json["feeds"]}["gone"] == "active"
    finally:
        server.stop()


def _tables_referring_to_items(db: Path) -> set[str]:
    tables = [row[0] for row in _rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        table
        for table in tables
        if any(fk[2] == "items" for fk in _rows(db, f"SELECT * FROM pragma_foreign_key_list('{table}')"))
    }


def test_purge_deletes_rows_index_entries_matches_and_files(config: Path, whisper: WhisperTranscriber) -> None:
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=lambda: whisper)
        assert report.ok and report.media_done == 2, report.failures
        cat.watch_add("peacekeepers", name="peace")
    db = config.parent / "catalog.db"
    with Catalog.open(config) as cat:
        cat.sync(transcriber_factory=lambda: whisper)  # nothing new; the watch now exists for later passages
    media = config.parent / "media" / "nonzero"
    files = sorted(path.name for path in media.iterdir())
    assert len(files) == 4 and sum(name.endswith(".transcript.json") for name in files) == 2
    podcast_ids = [
        row[0]
        for row in _rows(db, "SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id WHERE f.name = 'nonzero'")
    ]
    passages = _rows(db, f"SELECT COUNT(*) FROM passages WHERE item_id IN ({', '.join(map(str, podcast_ids))})")[0][0]
    with driver.sqlite.connect(db) as conn:  # a match of the saved search on an episode, as a sync would record it
        conn.execute(
            "INSERT INTO watch_matches (watch_id, item_id, hit, found_at) VALUES (1, ?, '{}', '2026-01-01')",
            [podcast_ids[0]],
        )
        conn.execute(  # and an episode queued by `catalog retranscribe` (a lease holds a foreign key to it)
            "INSERT INTO transcription_leases (item_id, model, queued_at) VALUES (?, 'small.en', '2026-01-01')",
            [podcast_ids[1]],
        )
    result = _run(config, "feeds", "remove", "nonzero", "--purge", "--json")
    assert result.exit_code == 0, result.stderr
    removed = json.loads(result.stdout)
    assert {key: removed[key] for key in ("feed", "removed_from_config", "purged", "items", "transcripts")} == {
        "feed": "nonzero",
        "removed_from_config": True,
        "purged": True,
        "items": 2,
        "transcripts": 2,
    }
    assert (removed["passages"], removed["watch_matches"]) == (passages, 1)
    assert sorted(Path(path).name for path in removed["files"]) == files
    assert not media.exists()
    assert config.read_text() == HEAD + ARTICLES + "  # the podcast\n"  # comments above an entry are kept
    referring = _tables_referring_to_items(db)  # every table with a foreign key to items, today's and tomorrow's
    assert {"media", "transcripts", "passages", "watch_matches", "vector_windows", "transcription_leases"} <= referring
    marks = ", ".join(map(str, podcast_ids))
    for table in sorted(referring):
        assert _rows(db, f"SELECT COUNT(*) FROM {table} WHERE item_id IN ({marks})") == [(0,)], table
    assert _rows(db, f"SELECT COUNT(*) FROM items WHERE id IN ({marks})") == [(0,)]
    assert _rows(db, "SELECT name FROM feeds") == [("statecraft",)]
    # the search index has no entry left for the episodes: the spoken word is gone, the article stays
    assert json.loads(_run(config, "search", "armistice", "--json", "--lexical").stdout) == []
    assert _rows(db, "SELECT COUNT(*) FROM search_index") == _rows(db, "SELECT COUNT(*) FROM passages")
    hits = json.loads(_run(config, "search", "peacekeepers", "--json", "--lexical").stdout)
    assert [hit["feed"] for hit in hits] == ["statecraft"]


def test_an_inactive_feed_can_still_be_purged(config: Path) -> None:
    assert _run(config, "sync", "--no-media").exit_code == 0
    assert _run(config, "feeds", "remove", "statecraft").exit_code == 0
    again = _run(config, "feeds", "remove", "statecraft")
    assert again.exit_code == 3
    assert again.stderr == (
        f"Error: no feed named 'statecraft' in {config}\n"
        "Hint: the feeds are: nonzero; 'statecraft' is in the catalogue: add --purge\n"
    )
    purged = _run(config, "feeds", "remove", "statecraft", "--purge")
    assert purged.stdout == (
        "Removed statecraft (it was no longer in feeds.yaml) and deleted 3 item(s), 0 transcript(s), "
        "3 indexed passage(s), 0 saved-search match(es) and 0 file(s).\n"
    )
    assert _rows(config.parent / "catalog.db", "SELECT name FROM feeds") == [("nonzero",)]


def test_remove_before_any_sync_only_edits_the_file(config: Path) -> None:
    result = _run(config, "feeds", "remove", "nonzero")
    assert result.stdout == "Removed nonzero from feeds.yaml; the catalogue had nothing from it.\n"
    assert config.read_text() == HEAD + ARTICLES + "  # the podcast\n"
    assert not (config.parent / "catalog.db").exists()


def test_disable_and_enable_edit_only_the_enabled_key(config: Path) -> None:
    disabled = _run(config, "feeds", "disable", "nonzero")
    assert disabled.stdout == "Disabled nonzero (enabled: false): `catalog sync` skips it; its items stay searchable.\n"
    assert config.read_text() == HEAD + ARTICLES + PODCAST + "    enabled: false\n"
    again = _run(config, "feeds", "disable", "nonzero")
    assert again.stdout == "nonzero is already disabled; feeds.yaml not changed.\n"
    report = json.loads(_run(config, "sync", "--no-media", "--json").stdout)
    assert report["feeds_checked"] == 1
    assert "Disabled in feeds.yaml, not fetched: nonzero" in _run(config, "status").stdout
    assert json.loads(_run(config, "status", "--json").stdout)["disabled"] == ["nonzero"]
    listed = json.loads(_run(config, "feeds", "list", "--json").stdout)
    assert [(row["name"], row["state"], row["enabled"]) for row in listed] == [
        ("statecraft", "active", True),
        ("nonzero", "disabled", False),
    ]
    enabled = _run(config, "feeds", "enable", "nonzero")
    assert enabled.stdout == "Enabled nonzero: the next `catalog sync` fetches it.\n"
    assert config.read_text() == HEAD + ARTICLES + PODCAST + "    enabled: true\n"
    disabled_first = _run(config, "feeds", "disable", "statecraft")
    assert disabled_first.exit_code == 0
    articles_off = ARTICLES.replace("articles.xml\n", "articles.xml\n    enabled: false\n")
    assert config.read_text() == HEAD + articles_off + PODCAST + "    enabled: true\n"


def test_the_shipped_file_keeps_every_other_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    shipped = (ROOT / "feeds.yaml").read_text()
    path.write_text(shipped)
    assert set_enabled(path, "nonzero", True)
    after = path.read_text()
    assert after == shipped.replace(
        "    kind: podcast\n    enabled: false\n", "    kind: podcast\n    enabled: true\n", 1
    )
    remove_entry(path, "youtube-example")
    lines = after.splitlines(keepends=True)
    start = lines.index("  - name: youtube-example\n")
    assert path.read_text() == "".join(lines[:start])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds:\n  - name: a\n    url: https://x.org/a\n", "no feed named 'b' in {path}"),
        ("feeds: [{name: b, url: 'https://x.org/b'}]\n", "{path}: the feeds of this file are written as a"),
    ],
    ids=["unknown", "flow-list"],
)
def test_what_cannot_be_edited_is_an_error_and_the_file_stays(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text)
    for edit in (lambda: remove_entry(path, "b"), lambda: set_enabled(path, "b", False)):
        with pytest.raises(ConfigError) as info:
            edit()
        assert str(info.value).startswith(message.format(path=path))
    assert path.read_text() == text
    result = _run(path, "feeds", "disable", "b")
    assert result.exit_code == 3 and result.stderr.startswith(f"Error: {message.format(path=path)}")


def test_the_queue_of_an_inactive_feed_is_not_listed_as_pending(config: Path) -> None:
    assert _run(config, "sync", "--no-media").exit_code == 0
    before = json.loads(_run(config, "status", "--json").stdout)["media"]
    assert [row["feed"] for row in before["pending"]] == ["nonzero", "nonzero"]
    assert _run(config, "feeds", "remove", "nonzero").exit_code == 0
    after = json.loads(_run(config, "status", "--json").stdout)["media"]
    assert (after["pending"], after["counts"]) == ([], {"new": 2})
    assert "Pending" not in _run(config, "status").stdout


def test_purge_waits_for_no_sync_and_changes_nothing_meanwhile(config: Path) -> None:
    from catalog.sync.lock import SyncLock

    assert _run(config, "sync", "--no-media").exit_code == 0
    before = config.read_text()
    with SyncLock(config.parent / "catalog.db"):
        result = _run(config, "feeds", "remove", "nonzero", "--purge")
    assert result.exit_code == 5 and "already running" in result.stderr
    assert "run it again when the sync has finished" in result.stderr
    assert config.read_text() == before
    assert _rows(config.parent / "catalog.db", "SELECT COUNT(*) FROM items") == [(5,)]
