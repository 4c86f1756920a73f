"""A catalogue written by catalog v1 opens with today's code: migrated in place, nothing lost.

tests/fixtures/catalog-v1.db was made by scripts/make_catalog_v1_fixture.sh: catalog v1 (git 4c79378,
schema migrations 0001_initial and 0002_transcript_origin only) checked out into a temporary worktree,
`catalog --db ... sync` run on its shipped samples (feeds.yaml: 3 articles from samples/articles.xml,
2 podcast episodes from samples/podcast.xml and 1 video from samples/video.xml, the 3 media items
transcribed by the bundled tiny.en model), then `PRAGMA journal_mode=DELETE` and VACUUM. v1's own
`catalog search armistice` on that file answered item 6 ("Episode 1: Ways Out of the War"), a
segment from 13.26 s to 17.16 s: the same answer is expected after the migration.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlite_utils import Database

from catalog.storage import driver
from catalog.storage.database import connect
from catalog.storage.search import search
from catalog.storage.transcripts import load_transcript

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "catalog-v1.db"


def columns(db: Database, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def counts(conn: driver.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("feeds", "items", "media", "transcripts", "passages", "runs", "failures")
    }


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog.db"
    shutil.copyfile(FIXTURE, target)
    return target


def test_fixture_is_a_v1_catalogue() -> None:
    """The file is what the other tests take it for: v1's schema, not yet migrated, small."""
    assert FIXTURE.stat().st_size < 200_000
    conn = driver.sqlite.connect(f"file:{FIXTURE}?mode=ro", uri=True)
    try:
        applied = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert applied == ["0001_initial", "0002_transcript_origin"]
        assert "body_sha256" not in [row[1] for row in conn.execute("PRAGMA table_info(feeds)")]
        assert "held_reason" not in [row[1] for row in conn.execute("PRAGMA table_info(media)")]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_v1_catalogue_is_migrated_and_keeps_every_row(v1_copy: Path) -> None:
    with driver.sqlite.connect(v1_copy) as before:
        rows_before = {
            table: before.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("feeds", "items", "media", "transcripts", "passages", "runs")
        }
    db = connect(v1_copy)
    try:
        applied = [row[0] for row in db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert applied == [
            "0001_initial",
            "0002_transcript_origin",
            "0003_body_hash_and_holds",
            "0004_search_index",
            "0005_search_speed",
            "0006_published_is",
            "0007_feed_moves",
            "0008_saved_searches",
            "0009_passage_vectors",
            "0010_feed_state",
            "0011_transcription_leases",
            "0012_sqlite_vec",
        ]
        assert columns(db, "feeds")[-5:] == ["body_sha256", "moved_to", "moved_how", "moved_at", "inactive_since"]
        assert columns(db, "media")[-1] == "held_reason"
        assert counts(db.conn) == {
            "feeds": 3,
            "items": 6,
            "media": 3,
            "transcripts": 3,
            "passages": 17,
            "runs": 1,
            "failures": 0,
        }
        assert db.execute("SELECT COUNT(*) FROM feed_moves").fetchone() == (0,)
        assert db.execute("SELECT moved_to, moved_how, moved_at FROM feeds").fetchall() == [(None, None, None)] * 3
        assert db.execute("SELECT kind, COUNT(*) FROM passages GROUP BY kind ORDER BY kind").fetchall() == [
            ("segment", 11),
            ("text", 6),
        ]
        assert db.execute("SELECT body_sha256 FROM feeds").fetchall() == [(None,)] * 3
        assert db.execute("SELECT DISTINCT published_is FROM items").fetchall() == [("feed",)]  # v1 items were dated
        assert db.execute("SELECT item_id, state, held_reason FROM media ORDER BY item_id").fetchall() == [
            (4, "indexed", None),
            (5, "indexed", None),
            (6, "indexed", None),
        ]
        # Every v1 row is still there, column for column (the new columns are appended at the end).
        for table, old_rows in rows_before.items():
            new_rows = db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            assert [row[: len(old)] for row, old in zip(new_rows, old_rows, strict=True)] == old_rows, table
    finally:
        db.conn.close()


def test_search_after_migration_finds_the_spoken_word_at_the_same_time(v1_copy: Path) -> None:
    db = connect(v1_copy)
    try:
        hits = search(db, "armistice")
        assert [(h.item_id, h.kind, h.feed, h.passage, h.start, h.end) for h in hits] == [
            (6, "podcast", "sample-nonzero", "segment", 13.26, 17.16)
        ]
        assert hits[0].title == "Episode 1: Ways Out of the War"
        assert hits[0].snippet == "<mark>Armistice</mark>, not peace, is the most likely outcome this year."
        assert hits[0].link is not None and hits[0].link.endswith("/samples/media/nonzero-ep1.mp3#t=13")
        # article text indexed by v1 is found too
        assert {h.item_id for h in search(db, "drone", kind="article")} == {2}
        transcript = load_transcript(db, 6)
        assert transcript.source == "whisper" and transcript.model == "tiny.en"
        assert [s.start for s in transcript.segments] == [0.0, 3.2, 8.18, 13.26]
        assert transcript.segments[3].words[0].word.strip() == "Armistice,"
    finally:
        db.conn.close()


def test_migrated_catalogue_passes_integrity_checks(v1_copy: Path) -> None:
    db = connect(v1_copy)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.execute("INSERT INTO search_index(search_index) VALUES('integrity-check')")
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'passages_fts'").fetchall() == []
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        db.conn.close()
    # Opening it again finds nothing left to migrate and changes nothing.
    again = connect(v1_copy)
    try:
        assert again.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0] == 12
        assert counts(again.conn)["passages"] == 17
    finally:
        again.conn.close()


def test_the_reader_knows_the_latest_migration() -> None:
    """`catalog search` opens a current catalogue without sqlite-utils: it must know the last migration."""
    import sqlite_utils

    from catalog.storage.reader import LATEST_MIGRATION, MIGRATION_COUNT
    from catalog.storage.schema import migrations

    names = [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]
    assert (names[-1], len(names)) == (LATEST_MIGRATION, MIGRATION_COUNT)


def test_a_catalogue_missing_an_earlier_migration_is_migrated_on_read(tmp_path: Path) -> None:
    """Migrations from branches merged out of order: the latest applied does not mean all are."""
    from catalog.storage.database import connect
    from catalog.storage.reader import open_reader

    db = connect(tmp_path / "c.db")
    db.execute("ALTER TABLE feeds DROP COLUMN inactive_since")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '0010_feed_state'")
    db.conn.close()
    reader = open_reader(tmp_path / "c.db")
    assert "inactive_since" in [row[1] for row in reader.execute("PRAGMA table_info(feeds)")]
