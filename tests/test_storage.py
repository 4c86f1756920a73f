"""The stores (catalog.storage.*) on a real SQLite file: exact rows after each call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from catalog.errors import NotFoundError
from catalog.models import Chapter, Download, Entry, Transcript, TranscriptSegment, Word
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage import media_queue, runs
from catalog.storage import transcripts as transcript_store
from catalog.storage.database import connect, write
from catalog.storage.rows import dict_rows
from catalog.storage.tokens import prepare as index_text

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def at(delta: timedelta = timedelta()) -> str:
    return (NOW + delta).isoformat(timespec="seconds")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(tmp_path / "c.db")
    yield database
    database.conn.close()


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Every store reads the same fixed clock."""
    for module in (feed_store, item_store, media_queue, runs, transcript_store):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)
    return NOW


def fts_ok(db: Database) -> None:
    """FTS5's own check that the index agrees with the passages table (raises if not)."""
    db.execute("INSERT INTO search_index(search_index) VALUES('integrity-check')")
    db.execute("INSERT INTO search_index(search_index, rank) VALUES('integrity-check', 1)")


def matches(db: Database, word: str) -> list[tuple[int, str]]:
    return db.execute(
        "SELECT p.item_id, p.kind FROM search_index JOIN passages p ON p.id = search_index.rowid "
        "WHERE search_index MATCH ? ORDER BY p.item_id, p.kind",
        ["{idx_body idx_heading}: " + index_text(word)],
    ).fetchall()


def feed(db: Database, name: str = "show", url: str = "https://example.org/feed.xml", kind: str | None = None) -> int:
    with write(db):
        return int(feed_store.ensure_feed(db, name, url, kind)["id"])


def feed_row(db: Database, feed_id: int) -> dict[str, Any]:
    return dict_rows(db, "SELECT * FROM feeds WHERE id = ?", [feed_id])[0]


def episode(guid: str, published: str | None = "2026-01-01T00:00:00+00:00", **changes: Any) -> Entry:
    entry = Entry(
        guid=guid,
        kind="podcast",
        title=f"Episode {guid}",
        published=published,
        link=f"https://example.org/{guid}",
        body=f"Notes for {guid}.",
        enclosure_url=f"https://cdn.example.org/{guid}.mp3",
        enclosure_type="audio/mpeg",
        enclosure_length=1000,
        language="en",
    )
    return replace(entry, **changes)


def article(guid: str, **changes: Any) -> Entry:
    entry = Entry(guid=guid, kind="article", title=f"Article {guid}", body=f"Text of {guid}.", language="en")
    return replace(entry, **changes)


def save(db: Database, feed_id: int, entries: list[Entry]) -> dict[str, int]:
    with write(db):
        return item_store.save_entries(db, feed_id, entries)


def item_id(db: Database, guid: str) -> int:
    return int(db.execute("SELECT id FROM items WHERE guid = ?", [guid]).fetchone()[0])


def media_row(db: Database, item: int) -> dict[str, Any]:
    return dict_rows(db, "SELECT * FROM media WHERE item_id = ?", [item])[0]


# --- feeds -----------------------------------------------------------------------------------------


def test_ensure_feed_creates_then_returns_the_same_row(db: Database) -> None:
    with write(db):
        row = feed_store.ensure_feed(db, "show", "https://example.org/feed.xml", "podcast")
        again = feed_store.ensure_feed(db, "show", "https://example.org/feed.xml", "podcast")
    assert row == again
    assert {k: row[k] for k in ("id", "name", "url", "kind", "failures", "etag", "disabled_reason")} == {
        "id": 1,
        "name": "show",
        "url": "https://example.org/feed.xml",
        "kind": "podcast",
        "failures": 0,
        "etag": None,
        "disabled_reason": None,
    }
    assert db.execute("SELECT COUNT(*) FROM feeds").fetchone()[0] == 1


def test_ensure_feed_changed_kind_keeps_fetch_state(db: Database) -> None:
    feed_id = feed(db, kind="podcast")
    with write(db):
        feed_store.feed_validators(db, feed_id, etag='"v1"', last_modified="Mon, 01 Jan 2026 00:00:00 GMT")
        row = feed_store.ensure_feed(db, "show", "https://example.org/feed.xml", "video")
    assert (row["id"], row["kind"], row["etag"], row["last_modified"]) == (
        feed_id,
        "video",
        '"v1"',
        "Mon, 01 Jan 2026 00:00:00 GMT",
    )


def test_ensure_feed_changed_url_resets_etag_and_failures(db: Database, frozen: datetime) -> None:
    feed_id = feed(db, kind="podcast")
    with write(db):
        feed_store.feed_validators(db, feed_id, etag='"v1"', last_modified="Mon, 01 Jan 2026 00:00:00 GMT")
        feed_store.feed_failed(db, feed_id, "boom", http_status=500, retry_after=None, max_attempts=1)
    assert feed_row(db, feed_id)["disabled_reason"] == "gave up after 1 failures in a row; last: boom"
    with write(db):
        row = feed_store.ensure_feed(db, "show", "https://example.org/moved.xml", "podcast")
    assert {
        k: row[k] for k in ("id", "url", "etag", "last_modified", "failures", "next_fetch_at", "disabled_reason")
    } == {
        "id": feed_id,
        "url": "https://example.org/moved.xml",
        "etag": None,
        "last_modified": None,
        "failures": 0,
        "next_fetch_at": None,
        "disabled_reason": None,
    }
    assert row["last_error"] == "boom"  # the history stays; only the fetch state is reset


def test_ensure_feed_changed_url_forgets_the_body_hash(db: Database) -> None:
    feed_id = feed(db)
    with write(db):
        feed_store.feed_fetched(
            db, feed_id, result="ok", etag=None, last_modified=None, http_status=200, body_sha256="ab" * 32
        )
        row = feed_store.ensure_feed(db, "show", "https://example.org/moved.xml", None)
    # Else the new URL, serving the same bytes, is never parsed: its relative links stay resolved
    # against the old URL.
    assert row["body_sha256"] is None


def test_feed_failed_backs_off_5_10_20_minutes_then_gives_up(db: Database, frozen: datetime) -> None:
    feed_id = feed(db)
    seen = []
    for n in range(1, 5):
        with write(db):
            result = feed_store.feed_failed(
                db, feed_id, f"HTTP 500 #{n}", http_status=500, retry_after=None, max_attempts=4
            )
        row = feed_row(db, feed_id)
        seen.append((result, row["failures"], row["next_fetch_at"], row["disabled_reason"]))
    assert seen == [
        ("error", 1, at(timedelta(minutes=5)), None),
        ("error", 2, at(timedelta(minutes=10)), None),
        ("error", 3, at(timedelta(minutes=20)), None),
        ("disabled", 4, at(timedelta(minutes=40)), "gave up after 4 failures in a row; last: HTTP 500 #4"),
    ]
    row = feed_row(db, feed_id)
    assert (row["last_result"], row["last_error"], row["http_status"], row["last_fetch_at"]) == (
        "error",
        "HTTP 500 #4",
        500,
        at(),
    )


def test_feed_failed_retry_after_wins_when_longer(db: Database, frozen: datetime) -> None:
    feed_id = feed(db)
    with write(db):
        feed_store.feed_failed(db, feed_id, "429", http_status=429, retry_after=3600, max_attempts=5)
    assert feed_row(db, feed_id)["next_fetch_at"] == at(timedelta(hours=1))
    with write(db):
        feed_store.feed_failed(db, feed_id, "429", http_status=429, retry_after=1, max_attempts=5)
    assert feed_row(db, feed_id)["next_fetch_at"] == at(timedelta(minutes=10))


def test_feed_failed_410_gives_up_at_once(db: Database, frozen: datetime) -> None:
    feed_id = feed(db)
    with write(db):
        result = feed_store.feed_failed(
            db, feed_id, "HTTP 410", http_status=410, retry_after=None, max_attempts=5, gone=True
        )
    row = feed_row(db, feed_id)
    assert result == "disabled"
    assert (row["failures"], row["http_status"], row["disabled_reason"]) == (
        1,
        410,
        "410 Gone: the publisher removed this feed (HTTP 410)",
    )


def test_feed_fetched_stores_hash_and_clears_failures(db: Database, frozen: datetime) -> None:
    feed_id = feed(db)
    with write(db):
        feed_store.feed_validators(db, feed_id, etag='"old"', last_modified="Sun, 01 Feb 2026 00:00:00 GMT")
        feed_store.feed_failed(db, feed_id, "timeout", http_status=None, retry_after=None, max_attempts=5)
        feed_store.feed_failed(db, feed_id, "timeout", http_status=None, retry_after=None, max_attempts=5)
        feed_store.feed_fetched(
            db,
            feed_id,
            result="ok",
            etag=None,  # no new validator: the old one is kept
            last_modified="Sun, 01 Mar 2026 00:00:00 GMT",
            http_status=200,
            title="The Show",
            language="en",
            body_sha256="0f" * 32,
        )
    row = feed_row(db, feed_id)
    assert {
        k: row[k]
        for k in (
            "failures",
            "next_fetch_at",
            "last_result",
            "last_error",
            "http_status",
            "etag",
            "last_modified",
            "title",
            "language",
            "body_sha256",
            "last_fetch_at",
            "last_success_at",
        )
    } == {
        "failures": 0,
        "next_fetch_at": None,
        "last_result": "ok",
        "last_error": None,
        "http_status": 200,
        "etag": '"old"',
        "last_modified": "Sun, 01 Mar 2026 00:00:00 GMT",
        "title": "The Show",
        "language": "en",
        "body_sha256": "0f" * 32,
        "last_fetch_at": at(),
        "last_success_at": at(),
    }
    # A later fetch without a hash (a 200 with no body to hash) keeps the stored one.
    with write(db):
        feed_store.feed_fetched(db, feed_id, result="ok", etag='"new"', last_modified=None, http_status=200)
    assert (feed_row(db, feed_id)["body_sha256"], feed_row(db, feed_id)["etag"]) == ("0f" * 32, '"new"')


def test_feed_validators_update_only_what_is_given(db: Database) -> None:
    feed_id = feed(db)
    with write(db):
        feed_store.feed_validators(db, feed_id, etag='"a"', last_modified="Sun, 01 Mar 2026 00:00:00 GMT")
        feed_store.feed_validators(db, feed_id, etag='"b"', last_modified=None)
    row = feed_row(db, feed_id)
    assert (row["etag"], row["last_modified"], row["last_fetch_at"]) == (
        '"b"',
        "Sun, 01 Mar 2026 00:00:00 GMT",
        None,
    )


def test_feed_recovered_clears_failures(db: Database, frozen: datetime) -> None:
    feed_id = feed(db)
    with write(db):
        feed_store.feed_failed(db, feed_id, "timeout", http_status=None, retry_after=None, max_attempts=5)
        feed_store.feed_recovered(db, feed_id, http_status=304)
    row = feed_row(db, feed_id)
    assert (row["failures"], row["next_fetch_at"], row["last_result"], row["last_error"], row["http_status"]) == (
        0,
        None,
        "not modified",
        None,
        304,
    )


# --- items -----------------------------------------------------------------------------------------


def test_save_entries_counts_new_updated_same(db: Database) -> None:
    feed_id = feed(db)
    entries = [episode("e1"), episode("e2"), article("a1")]
    assert save(db, feed_id, entries) == {"new": 3, "updated": 0, "same": 0}
    assert save(db, feed_id, entries) == {"new": 0, "updated": 0, "same": 3}
    changed = [episode("e1"), episode("e2", title="Episode two, retitled"), article("a1"), episode("e3")]
    assert save(db, feed_id, changed) == {"new": 1, "updated": 1, "same": 2}
    assert db.execute("SELECT guid, kind, title FROM items ORDER BY id").fetchall() == [
        ("e1", "podcast", "Episode e1"),
        ("e2", "podcast", "Episode two, retitled"),
        ("a1", "article", "Article a1"),
        ("e3", "podcast", "Episode e3"),
    ]


def test_save_entries_stores_every_field(db: Database) -> None:
    feed_id = feed(db)
    entry = episode("e1", author="Ann", extra={"itunes_duration": "12:00"})
    save(db, feed_id, [entry])
    row = dict_rows(db, "SELECT * FROM items")[0]
    assert {k: row[k] for k in row if k not in ("id", "first_seen_at", "updated_at")} == {
        "feed_id": feed_id,
        "guid": "e1",
        "kind": "podcast",
        "title": "Episode e1",
        "author": "Ann",
        "published": "2026-01-01T00:00:00+00:00",
        "link": "https://example.org/e1",
        "body": "Notes for e1.",
        "enclosure_url": "https://cdn.example.org/e1.mp3",
        "enclosure_type": "audio/mpeg",
        "enclosure_length": 1000,
        "youtube_id": None,
        "language": "en",
        "extra": json.dumps({"itunes_duration": "12:00"}),
        "content_hash": entry.content_hash(),
        "published_is": "feed",
    }


def test_changed_entry_is_updated_in_place_and_its_text_passage_replaced(db: Database) -> None:
    feed_id = feed(db)
    save(db, feed_id, [episode("e1", body="Talk about zeppelins."), article("a1")])
    first_id = item_id(db, "e1")
    old_passage = db.execute("SELECT id FROM passages WHERE item_id = ?", [first_id]).fetchone()[0]
    assert matches(db, "zeppelins") == [(first_id, "text")]
    save(db, feed_id, [episode("e1", body="Talk about submarines."), article("a1")])
    assert item_id(db, "e1") == first_id
    assert db.execute("SELECT id, kind, seq, text FROM passages WHERE item_id = ?", [first_id]).fetchall() == [
        (old_passage + 2, "text", 0, "Episode e1\n\nTalk about submarines.")
    ]
    assert matches(db, "zeppelins") == []
    assert matches(db, "submarines") == [(first_id, "text")]
    assert db.execute("SELECT body FROM items WHERE id = ?", [first_id]).fetchone()[0] == "Talk about submarines."
    fts_ok(db)


def test_update_keeps_transcript_passages(db: Database) -> None:
    feed_id = feed(db)
    save(db, feed_id, [episode("e1")])
    item = item_id(db, "e1")
    with write(db):
        transcript_store.save_transcript(db, item, Transcript([TranscriptSegment(0.0, 2.0, "spoken walrus")]))
    save(db, feed_id, [episode("e1", title="New title")])
    assert db.execute("SELECT kind, text FROM passages WHERE item_id = ? ORDER BY kind", [item]).fetchall() == [
        ("segment", "spoken walrus"),
        ("text", "New title\n\nNotes for e1."),
    ]
    assert media_row(db, item)["state"] == "indexed"  # a changed entry does not queue its media again
    fts_ok(db)


def test_media_is_queued_only_for_media_entries(db: Database, frozen: datetime) -> None:
    feed_id = feed(db)
    save(
        db,
        feed_id,
        [
            episode("e1"),
            article("a1", enclosure_url="https://cdn.example.org/a1.mp3"),  # an article never gets media
            Entry(guid="v1", kind="video", title="Video", youtube_id="dQw4w9WgXcQ"),
            Entry(guid="p0", kind="podcast", title="No enclosure"),
        ],
    )
    assert db.execute(
        "SELECT i.guid, m.url, m.state, m.attempts FROM media m JOIN items i ON i.id = m.item_id ORDER BY m.item_id"
    ).fetchall() == [
        ("e1", "https://cdn.example.org/e1.mp3", "new", 0),
        ("v1", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "new", 0),
    ]


def test_changed_enclosure_moves_a_queued_item_but_not_a_done_one(db: Database) -> None:
    feed_id = feed(db)
    save(db, feed_id, [episode("e1"), episode("e2")])
    with write(db):
        transcript_store.save_transcript(db, item_id(db, "e2"), Transcript([TranscriptSegment(0, 1, "hi")]))
    save(
        db,
        feed_id,
        [
            episode("e1", enclosure_url="https://cdn2.example.org/e1.mp3"),
            episode("e2", enclosure_url="https://cdn2.example.org/e2.mp3"),
        ],
    )
    assert db.execute("SELECT item_id, url, state FROM media ORDER BY item_id").fetchall() == [
        (item_id(db, "e1"), "https://cdn2.example.org/e1.mp3", "new"),
        (item_id(db, "e2"), "https://cdn.example.org/e2.mp3", "indexed"),
    ]


def test_items_of_different_feeds_with_the_same_guid_are_separate(db: Database) -> None:
    one, two = feed(db, "one"), feed(db, "two", "https://example.org/two.xml")
    assert save(db, one, [episode("e1")]) == {"new": 1, "updated": 0, "same": 0}
    assert save(db, two, [episode("e1")]) == {"new": 1, "updated": 0, "same": 0}
    assert db.execute("SELECT feed_id, guid FROM items ORDER BY id").fetchall() == [(one, "e1"), (two, "e1")]


def test_item_text(db: Database) -> None:
    feed_id = feed(db)
    save(db, feed_id, [article("a1", title=None, body="Only a body.")])
    assert item_store.item_text(db, item_id(db, "a1")) == (None, "Only a body.")
    assert item_store.item_text(db, 999) == (None, None)
    assert db.execute("SELECT text FROM passages").fetchall() == [("Only a body.",)]


# --- the media queue -------------------------------------------------------------------------------


@pytest.fixture
def queue(db: Database) -> dict[str, int]:
    """Two feeds: 'show' with three dated episodes and one undated, 'other' with one episode.

    The undated one is dated when first seen: 2025-12-01, before the others."""
    show, other = feed(db, "show"), feed(db, "other", "https://example.org/other.xml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(item_store, "utcnow", lambda: datetime(2025, 12, 1, tzinfo=timezone.utc))
        save(
            db,
            show,
            [
                episode("old", "2026-01-01T00:00:00+00:00"),
                episode("new", "2026-02-01T00:00:00+00:00"),
                episode("undated", None),
                episode("mid", "2026-01-15T00:00:00+00:00"),
            ],
        )
    save(db, other, [episode("elsewhere", "2026-01-20T00:00:00+00:00")])
    return {guid: item_id(db, guid) for guid in ("old", "new", "undated", "mid", "elsewhere")}


def pending(db: Database, **kwargs: Any) -> list[str]:
    jobs = media_queue.pending_media(db, **kwargs)
    names = {v: k for k, v in dict(db.execute("SELECT guid, id FROM items").fetchall()).items()}
    return [names[job.item_id] for job in jobs]


def test_pending_media_newest_first_with_limit_and_feeds(db: Database, queue: dict[str, int]) -> None:
    assert pending(db) == ["new", "elsewhere", "mid", "old", "undated"]
    assert pending(db, limit=2) == ["new", "elsewhere"]
    assert pending(db, feeds=["other"]) == ["elsewhere"]
    assert pending(db, feeds=["show"], limit=3) == ["new", "mid", "old"]
    assert pending(db, feeds=["nope"]) == []
    assert pending(db, feeds=[]) == []


def test_pending_media_job_fields(db: Database, queue: dict[str, int]) -> None:
    with write(db):
        db.execute("UPDATE feeds SET title = 'The Show', language = 'de' WHERE name = 'show'")
        db.execute("UPDATE items SET language = NULL, extra = ? WHERE guid = 'new'", [json.dumps({"persons": ["A"]})])
    job = media_queue.pending_media(db, limit=1)[0]
    assert (
        job.item_id,
        job.url,
        job.state,
        job.kind,
        job.title,
        job.feed,
        job.path,
        job.attempts,
        job.youtube_id,
        job.language,
        job.enclosure_type,
        job.extra,
        job.feed_title,
        job.held_reason,
    ) == (
        queue["new"],
        "https://cdn.example.org/new.mp3",
        "new",
        "podcast",
        "Episode new",
        "show",
        None,
        0,
        None,
        "de",  # the item has none: the feed's
        "audio/mpeg",
        {"persons": ["A"]},
        "The Show",
        None,
    )


def test_hold_and_include_held(db: Database, queue: dict[str, int]) -> None:
    with write(db):
        media_queue.hold(db, queue["new"], "language 'de'")
    assert pending(db) == ["new", "elsewhere", "mid", "old", "undated"]
    assert pending(db, include_held=False) == ["elsewhere", "mid", "old", "undated"]
    assert pending(db, include_held=False, limit=1) == ["elsewhere"]  # a held item takes no place of the limit
    assert media_queue.pending_media(db, limit=1)[0].held_reason == "language 'de'"
    with write(db):
        media_queue.hold(db, queue["new"], None)
    assert pending(db, include_held=False, limit=1) == ["new"]


def test_media_failed_counts_attempts_then_gives_up(db: Database, queue: dict[str, int], frozen: datetime) -> None:
    item = queue["new"]
    results = []
    for n in range(1, 4):
        with write(db):
            results.append(media_queue.media_failed(db, item, f"timeout {n}", max_attempts=3))
        row = media_row(db, item)
        results.append((row["attempts"], row["state"], row["next_attempt_at"], row["last_error"]))
    assert results == [
        "retry",
        (1, "new", at(timedelta(minutes=5)), "timeout 1"),
        "retry",
        (2, "new", at(timedelta(minutes=10)), "timeout 2"),
        "failed",
        (3, "failed", None, "timeout 3"),
    ]
    assert "new" not in pending(db)


def test_media_in_backoff_waits(db: Database, queue: dict[str, int], frozen: datetime) -> None:
    with write(db):
        media_queue.media_failed(db, queue["new"], "HTTP 503", max_attempts=5, retry_after=7200)
    assert media_row(db, queue["new"])["next_attempt_at"] == at(timedelta(hours=2))
    assert pending(db) == ["elsewhere", "mid", "old", "undated"]


def test_media_failed_permanent_at_once(db: Database, queue: dict[str, int]) -> None:
    with write(db):
        assert media_queue.media_failed(db, queue["old"], "HTTP 404", max_attempts=5, permanent=True) == "failed"
    row = media_row(db, queue["old"])
    assert (row["attempts"], row["state"], row["next_attempt_at"], row["last_error"]) == (1, "failed", None, "HTTP 404")


def test_downloaded_missing_transcribed(db: Database, queue: dict[str, int], tmp_path: Path) -> None:
    item = queue["mid"]
    download = Download(tmp_path / "x.mp3", 1234, "ab" * 32, "audio/mpeg")
    with write(db):
        media_queue.media_downloaded(db, item, download, 61.5)
    row = media_row(db, item)
    assert (row["state"], row["path"], row["bytes"], row["sha256"], row["content_type"], row["duration"]) == (
        "downloaded",
        str(tmp_path / "x.mp3"),
        1234,
        "ab" * 32,
        "audio/mpeg",
        61.5,
    )
    with write(db):
        media_queue.media_missing(db, item)
    assert (media_row(db, item)["state"], media_row(db, item)["path"]) == ("new", None)
    with write(db):
        media_queue.media_downloaded(db, item, download, 61.5)
        media_queue.media_transcribed(db, item)
    assert (media_row(db, item)["state"], media_row(db, item)["path"]) == ("transcribed", str(tmp_path / "x.mp3"))
    assert pending(db).count("mid") == 1  # transcribed but not yet indexed is still work


def test_reset_failures_per_item_and_per_feed(db: Database, queue: dict[str, int], frozen: datetime) -> None:
    show_id = db.execute("SELECT id FROM feeds WHERE name = 'show'").fetchone()[0]
    with write(db):
        for guid in ("old", "mid", "elsewhere"):
            media_queue.media_failed(db, queue[guid], "gone", max_attempts=5, permanent=True)
        media_queue.media_failed(db, queue["new"], "slow", max_attempts=5)  # in backoff
        feed_store.feed_failed(db, show_id, "500", http_status=500, retry_after=None, max_attempts=1)
    with write(db):
        assert media_queue.reset_failures(db, item_ids=[queue["old"]]) == (0, 1)
    assert (media_row(db, queue["old"])["state"], media_row(db, queue["old"])["attempts"]) == ("new", 0)
    assert media_row(db, queue["mid"])["state"] == "failed"
    assert feed_row(db, show_id)["disabled_reason"] is not None  # item ids do not touch feeds
    with write(db):
        assert media_queue.reset_failures(db, feed="show") == (1, 2)  # mid (failed) and new (backoff)
    states = dict(db.execute("SELECT item_id, state || '/' || attempts FROM media").fetchall())
    assert [states[queue[g]] for g in ("old", "new", "mid", "elsewhere")] == ["new/0", "new/0", "new/0", "failed/1"]
    assert media_row(db, queue["new"])["next_attempt_at"] is None
    assert media_row(db, queue["new"])["last_error"] is None
    row = feed_row(db, show_id)
    assert (row["failures"], row["next_fetch_at"], row["disabled_reason"]) == (0, None, None)
    with write(db):
        assert media_queue.reset_failures(db) == (0, 1)  # everything else: 'elsewhere'
    assert media_row(db, queue["elsewhere"])["state"] == "new"


def test_reset_failures_unknown_feed_or_item(db: Database, queue: dict[str, int]) -> None:
    with pytest.raises(NotFoundError, match="no feed named 'nope' in this catalogue") as caught:
        media_queue.reset_failures(db, feed="nope")
    assert caught.value.hint == "the feeds are: other, show"
    with pytest.raises(NotFoundError, match=r"^no item with id 998, 999$"):
        media_queue.reset_failures(db, item_ids=[queue["old"], 998, 999])


# --- transcripts -----------------------------------------------------------------------------------


def whisper_transcript() -> Transcript:
    words = [Word(0.0, 0.5, " Welcome"), Word(2.123, 2.987, " walrus")]
    return Transcript(
        segments=[
            TranscriptSegment(0.0, 4.5, " Welcome to the walrus hour. ", "Ann", words),
            TranscriptSegment(4.5, 5.0, "   "),  # blank: not indexed
            TranscriptSegment(5.0, 9.25, "Narwhals next.", "Bob"),
        ],
        model="tiny.en",
        language="en",
        duration=9.25,
        chapters=[Chapter(0.0, "Intro", 5.0), Chapter(5.0, "  "), Chapter(5.0, "Narwhal corner", 9.25)],
    )


WORDS_JSON = '[[0.0,0.5," Welcome"],[2.123,2.987," walrus"]]'  # as given (asr rounds Whisper's to 1/100 s)


def test_save_and_load_transcript_round_trip(db: Database, queue: dict[str, int], frozen: datetime) -> None:
    item = queue["new"]
    with write(db):
        media_queue.hold(db, item, "language 'de'")
        transcript_store.save_transcript(db, item, whisper_transcript())
    passages = db.execute(
        'SELECT kind, seq, start, "end", speaker, text, words FROM passages WHERE item_id = ? AND kind != ? '
        "ORDER BY id",
        [item, "text"],
    ).fetchall()
    assert passages == [
        ("segment", 0, 0.0, 4.5, "Ann", "Welcome to the walrus hour.", WORDS_JSON),
        ("segment", 2, 5.0, 9.25, "Bob", "Narwhals next.", None),
        ("chapter", 0, 0.0, 5.0, None, "Intro", None),
        ("chapter", 2, 5.0, 9.25, None, "Narwhal corner", None),
    ]
    assert dict_rows(db, "SELECT * FROM transcripts")[0] == {
        "item_id": item,
        "source": "whisper",
        "model": "tiny.en",
        "language": "en",
        "duration": 9.25,
        "segments": 2,  # the blank segment is neither indexed nor counted
        "created_at": at(),
        "format": None,
        "url": None,
    }
    row = media_row(db, item)
    assert (row["state"], row["duration"], row["held_reason"], row["next_attempt_at"]) == ("indexed", 9.25, None, None)
    loaded = transcript_store.load_transcript(db, item)
    rounded = [Word(0.0, 0.5, " Welcome"), Word(2.123, 2.987, " walrus")]  # stored as given
    assert loaded == Transcript(
        segments=[
            TranscriptSegment(0.0, 4.5, "Welcome to the walrus hour.", "Ann", rounded),
            TranscriptSegment(5.0, 9.25, "Narwhals next.", "Bob", []),
        ],
        source="whisper",
        model="tiny.en",
        language="en",
        duration=9.25,
        chapters=[Chapter(0.0, "Intro", 5.0), Chapter(5.0, "Narwhal corner", 9.25)],
    )
    assert matches(db, "walrus") == [(item, "segment")]
    assert matches(db, "narwhal") == [(item, "chapter"), (item, "segment")]


def test_save_transcript_replaces_the_old_one(db: Database, queue: dict[str, int]) -> None:
    item, other = queue["new"], queue["old"]
    with write(db):
        transcript_store.save_transcript(db, item, whisper_transcript())
        transcript_store.save_transcript(db, other, Transcript([TranscriptSegment(0, 1, "other walrus")]))
    with write(db):
        db.execute("UPDATE media SET duration = 60 WHERE item_id = ?", [item])
        transcript_store.save_transcript(
            db,
            item,
            Transcript(
                [TranscriptSegment(0.0, 3.0, "Penguins only.")],
                source="publisher",
                duration=3.0,
                format="vtt",
                url="https://example.org/t.vtt",
            ),
        )
    assert db.execute(
        "SELECT kind, text FROM passages WHERE item_id = ? AND kind != 'text' ORDER BY id", [item]
    ).fetchall() == [("segment", "Penguins only.")]
    assert matches(db, "walrus") == [(other, "segment")]
    assert matches(db, "narwhal") == []
    assert db.execute("SELECT item_id, source, segments, format, url FROM transcripts ORDER BY item_id").fetchall() == [
        (other, "whisper", 1, None, None),
        (item, "publisher", 1, "vtt", "https://example.org/t.vtt"),
    ]
    assert media_row(db, item)["duration"] == 60  # a known duration is kept
    loaded = transcript_store.load_transcript(db, item)
    assert (loaded.source, loaded.format, loaded.url, loaded.chapters) == (
        "publisher",
        "vtt",
        "https://example.org/t.vtt",
        [],
    )
    fts_ok(db)


def test_load_transcript_not_found(db: Database, queue: dict[str, int]) -> None:
    with pytest.raises(NotFoundError, match=r"^no item with id 999$"):
        transcript_store.load_transcript(db, 999)
    with pytest.raises(NotFoundError, match=rf"^item {queue['new']} has no transcript"):
        transcript_store.load_transcript(db, queue["new"])


def test_fts_agrees_after_updates_and_deletes(db: Database, queue: dict[str, int]) -> None:
    feed_id = feed(db)
    for n in range(3):
        save(db, feed_id, [episode(g, body=f"revision {n} of {g}") for g in ("old", "new", "mid")])
        with write(db):
            transcript_store.save_transcript(db, queue["new"], whisper_transcript())
    with write(db):
        db.execute("DELETE FROM passages WHERE item_id = ?", [queue["mid"]])
        db.execute(
            "UPDATE passages SET text = 'rewritten manatee', idx_body = ? WHERE item_id = ? AND kind = 'text'",
            [index_text("rewritten manatee"), queue["old"]],
        )
    fts_ok(db)
    assert matches(db, "manatee") == [(queue["old"], "text")]
    assert matches(db, "revision") == [(queue["new"], "text")]
    assert (
        db.execute("SELECT COUNT(*) FROM search_index").fetchone()[0]
        == db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    )


# --- runs ------------------------------------------------------------------------------------------


def test_runs_start_finish_interrupted_and_failures(db: Database, frozen: datetime) -> None:
    with write(db):
        first = runs.start_run(db, 111)
        runs.record_failure(db, first, "fetch", "HTTP 500", feed_id=feed(db))
    with write(db):
        second = runs.start_run(db, 222)  # the first was never finished: a crash
    with write(db):
        runs.finish_run(db, second, "ok", {"feeds_checked": 2, "items_new": 5, "audio_seconds": 12.5}, None)
        third = runs.start_run(db, 333)
        runs.finish_run(db, third, "partial", {}, "time limit reached")
        runs.record_failure(db, third, "media", "HTTP 404", item_id=None)
    rows = db.execute(
        "SELECT id, pid, status, started_at, finished_at, feeds_checked, items_new, audio_seconds, message "
        "FROM runs ORDER BY id"
    ).fetchall()
    assert rows == [
        (first, 111, "interrupted", at(), None, 0, 0, 0.0, None),
        (second, 222, "ok", at(), at(), 2, 5, 12.5, None),
        (third, 333, "partial", at(), at(), 0, 0, 0.0, "time limit reached"),
    ]
    assert db.execute("SELECT run_id, at, feed_id, item_id, stage, message FROM failures ORDER BY id").fetchall() == [
        (first, at(), 1, None, "fetch", "HTTP 500"),
        (third, at(), None, None, "media", "HTTP 404"),
    ]


def test_write_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), write(db):
        feed_store.ensure_feed(db, "show", "https://example.org/feed.xml", None)
        raise RuntimeError("boom")
    assert db.execute("SELECT COUNT(*) FROM feeds").fetchone()[0] == 0
    assert not db.conn.in_transaction
