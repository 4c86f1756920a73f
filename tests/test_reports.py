"""catalog.storage.reports: `item_detail` (catalog show) and `status` on a catalogue built through the stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from catalog.errors import NotFoundError
from catalog.models import Chapter, Entry, Transcript, TranscriptSegment, Word
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage import media_queue, reports, runs
from catalog.storage import transcripts as transcript_store
from catalog.storage.database import connect, write

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
T = NOW.isoformat(timespec="seconds")
IN_5_MIN = (NOW + timedelta(minutes=5)).isoformat(timespec="seconds")


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, dict[str, int]]]:
    """Two feeds ('news': 2 articles, 'show': 4 episodes + 1 video), one transcript, one failed item,
    one item in backoff, one held, and three runs (one interrupted)."""
    for module in (feed_store, item_store, media_queue, runs, transcript_store):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)
    db = connect(tmp_path / "c.db")
    with write(db):
        news = feed_store.ensure_feed(db, "news", "https://example.org/news.xml", "article")["id"]
        show = feed_store.ensure_feed(db, "show", "https://example.org/show.xml", None)["id"]
        item_store.save_entries(
            db,
            news,
            [
                Entry("a1", "article", "Article one", body="First.", published="2026-01-01T00:00:00+00:00"),
                Entry("a2", "article", "Article two", body="Second.", published="2026-01-02T00:00:00+00:00"),
            ],
        )
        item_store.save_entries(
            db,
            show,
            [
                Entry(
                    f"e{n}",
                    "podcast",
                    f"Episode {n}",
                    author="Ann",
                    published=f"2026-02-0{n}T00:00:00+00:00",
                    link=f"https://example.org/e{n}",
                    body=f"Notes {n}.",
                    enclosure_url=f"https://cdn.example.org/e{n}.mp3",
                    enclosure_type="audio/mpeg",
                    language="en",
                    extra={"itunes_duration": "1:00"} if n == 1 else {},
                )
                for n in range(1, 5)
            ]
            + [Entry("v1", "video", "A video", published="2026-02-09T00:00:00+00:00", youtube_id="abcdefghijk")],
        )
        feed_store.feed_fetched(
            db, show, result="ok", etag='"x"', last_modified=None, http_status=200, title="The Show"
        )
        feed_store.feed_failed(db, news, "HTTP 500", http_status=500, retry_after=None, max_attempts=5)
    ids = dict(db.execute("SELECT guid, id FROM items").fetchall())
    with write(db):
        first = runs.start_run(db, 10)
        runs.record_failure(db, first, "fetch", "HTTP 500", feed_id=news)
    with write(db):
        second = runs.start_run(db, 11)
        transcript_store.save_transcript(
            db,
            ids["e1"],
            Transcript(
                [
                    TranscriptSegment(0.0, 2.0, "Hello there.", "Ann", [Word(0.0, 0.4, " Hello")]),
                    TranscriptSegment(2.0, 5.5, "Goodbye."),
                ],
                model="tiny.en",
                language="en",
                duration=5.5,
                chapters=[Chapter(0.0, "Start", 2.0), Chapter(2.0, "End")],
            ),
        )
        media_queue.media_failed(db, ids["e2"], "HTTP 404: gone", max_attempts=5, permanent=True)
        runs.record_failure(db, second, "media", "HTTP 404: gone", item_id=ids["e2"])
        media_queue.media_failed(db, ids["e3"], "timed out", max_attempts=5)
        media_queue.hold(db, ids["e4"], "language 'de'")
        runs.finish_run(db, second, "partial", {"feeds_checked": 2, "items_new": 7, "media_done": 1}, None)
    with write(db):
        third = runs.start_run(db, 12)
        runs.finish_run(db, third, "ok", {"feeds_checked": 2, "feeds_unchanged": 2}, None)
    ids.update(news=news, show=show, run1=first, run2=second, run3=third)
    yield db, ids
    db.conn.close()


def test_item_detail_of_a_transcribed_episode(built: tuple[Database, dict[str, int]]) -> None:
    db, ids = built
    assert reports.item_detail(db, ids["e1"]) == {
        "item_id": ids["e1"],
        "kind": "podcast",
        "feed": "show",
        "title": "Episode 1",
        "author": "Ann",
        "published": "2026-02-01T00:00:00+00:00",
        "published_is": "feed",
        "url": "https://example.org/e1",
        "media_url": "https://cdn.example.org/e1.mp3",
        "youtube_id": None,
        "text": "Notes 1.",
        "guid": "e1",
        "extra": {"itunes_duration": "1:00"},
        "media_state": "indexed",
        "media_path": None,
        "duration": 5.5,
        "media_error": None,
        "transcript_source": "whisper",
        "transcript_model": "tiny.en",
        "language": "en",
        "transcript_format": None,
        "transcript_url": None,
        "transcript": [
            {"start": 0.0, "end": 2.0, "speaker": "Ann", "text": "Hello there."},
            {"start": 2.0, "end": 5.5, "speaker": None, "text": "Goodbye."},
        ],
        "chapters": [{"start": 0.0, "end": 2.0, "title": "Start"}, {"start": 2.0, "end": None, "title": "End"}],
    }


def test_item_detail_of_an_article_and_a_failed_episode(built: tuple[Database, dict[str, int]]) -> None:
    db, ids = built
    article = reports.item_detail(db, ids["a2"])
    assert {k: article[k] for k in ("kind", "feed", "text", "media_state", "transcript", "chapters", "extra")} == {
        "kind": "article",
        "feed": "news",
        "text": "Second.",
        "media_state": None,
        "transcript": None,
        "chapters": [],
        "extra": {},
    }
    failed = reports.item_detail(db, ids["e2"])
    assert (failed["media_state"], failed["media_error"], failed["transcript"]) == ("failed", "HTTP 404: gone", None)
    video = reports.item_detail(db, ids["v1"])
    assert (video["youtube_id"], video["media_url"], video["media_state"]) == ("abcdefghijk", None, "new")


def test_item_detail_unknown(built: tuple[Database, dict[str, int]]) -> None:
    db, _ = built
    with pytest.raises(NotFoundError, match=r"^no item with id 999$"):
        reports.item_detail(db, 999)


def test_status_feeds(built: tuple[Database, dict[str, int]]) -> None:
    db, _ = built
    feeds = reports.status(db)["feeds"]
    assert feeds == [
        {
            "name": "news",
            "url": "https://example.org/news.xml",
            "title": None,
            "last_fetch_at": T,
            "last_success_at": None,
            "last_result": "error",
            "last_error": "HTTP 500",
            "http_status": 500,
            "failures": 1,
            "next_fetch_at": IN_5_MIN,
            "disabled_reason": None,
            "moved": None,
            "inactive_since": None,
            "items": 2,
            "counts": {"article": 2, "podcast": 0, "video": 0},
        },
        {
            "name": "show",
            "url": "https://example.org/show.xml",
            "title": "The Show",
            "last_fetch_at": T,
            "last_success_at": T,
            "last_result": "ok",
            "last_error": None,
            "http_status": 200,
            "failures": 0,
            "next_fetch_at": None,
            "disabled_reason": None,
            "moved": None,
            "inactive_since": None,
            "items": 5,
            "counts": {"article": 0, "podcast": 4, "video": 1},
        },
    ]


def test_status_feed_without_items_counts_zero(tmp_path: Path) -> None:
    db = connect(tmp_path / "empty.db")
    try:
        with write(db):
            feed_store.ensure_feed(db, "quiet", "https://example.org/q.xml", None)
        status = reports.status(db)
        assert (status["feeds"][0]["items"], status["feeds"][0]["counts"]) == (
            0,
            {"article": 0, "podcast": 0, "video": 0},
        )
        assert status["media"] == {"counts": {}, "pending": [], "failed": []}
        assert status["runs"] == []
    finally:
        db.conn.close()


def test_status_media(built: tuple[Database, dict[str, int]]) -> None:
    db, ids = built
    media = reports.status(db)["media"]
    assert media["counts"] == {"indexed": 1, "failed": 1, "new": 3}
    assert media["pending"] == [
        {
            "item_id": ids["v1"],
            "feed": "show",
            "title": "A video",
            "state": "new",
            "attempts": 0,
            "reason": None,
            "next_attempt_at": None,
            "url": "https://www.youtube.com/watch?v=abcdefghijk",
            "held": None,
        },
        {
            "item_id": ids["e4"],
            "feed": "show",
            "title": "Episode 4",
            "state": "new",
            "attempts": 0,
            "reason": None,
            "next_attempt_at": None,
            "url": "https://cdn.example.org/e4.mp3",
            "held": "language 'de'",
        },
        {
            "item_id": ids["e3"],
            "feed": "show",
            "title": "Episode 3",
            "state": "new",
            "attempts": 1,
            "reason": "timed out",
            "next_attempt_at": IN_5_MIN,
            "url": "https://cdn.example.org/e3.mp3",
            "held": None,
        },
    ]
    assert media["failed"] == [
        {
            "item_id": ids["e2"],
            "feed": "show",
            "title": "Episode 2",
            "state": "failed",
            "attempts": 1,
            "reason": "HTTP 404: gone",
            "next_attempt_at": None,
            "url": "https://cdn.example.org/e2.mp3",
            "held": None,
        }
    ]


def test_status_runs_with_their_failures(built: tuple[Database, dict[str, int]]) -> None:
    db, ids = built
    recent = reports.status(db)["runs"]
    assert [(r["id"], r["pid"], r["status"], r["finished_at"]) for r in recent] == [
        (ids["run3"], 12, "ok", T),
        (ids["run2"], 11, "partial", T),
        (ids["run1"], 10, "interrupted", None),
    ]
    assert recent[0]["failures"] == []
    assert recent[1]["failures"] == [
        {"stage": "media", "feed_id": None, "item_id": ids["e2"], "message": "HTTP 404: gone"}
    ]
    assert recent[2]["failures"] == [{"stage": "fetch", "feed_id": ids["news"], "item_id": None, "message": "HTTP 500"}]
    assert {k: recent[1][k] for k in ("feeds_checked", "feeds_unchanged", "items_new", "media_done", "message")} == {
        "feeds_checked": 2,
        "feeds_unchanged": 0,
        "items_new": 7,
        "media_done": 1,
        "message": None,
    }
    assert [r["id"] for r in reports.status(db, runs=1)["runs"]] == [ids["run3"]]


def test_status_output_names_the_item_a_failure_is_about(built: tuple[Database, dict[str, int]]) -> None:
    from io import StringIO

    from rich.console import Console

    from catalog.cli.render import print_status

    db, ids = built
    out = StringIO()
    print_status(Console(file=out, width=200, highlight=False), reports.status(db))
    assert f"     media: item {ids['e2']}: HTTP 404: gone\n" in out.getvalue()
    assert "     fetch: HTTP 500\n" in out.getvalue()  # a feed's failure has no item
