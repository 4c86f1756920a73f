"""catalog.sync.media_stage.MediaWorker over media served by a LocalServer, with a fake transcriber:
download, transcribe once, index, sidecar; holds for an English-only model; feed selection; failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from catalog.config import Config, Settings
from catalog.errors import ModelError
from catalog.models import Entry, Transcript, TranscriptSegment, Word
from catalog.sources.http import make_client
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage import runs
from catalog.storage.database import connect, write
from catalog.storage.rows import dict_rows
from catalog.sync.events import SyncEvents
from catalog.sync.media_stage import MediaWorker
from catalog.sync.report import SyncReport
from catalog.testing.localserver import LocalServer

EP1_BYTES = 73240  # samples/manifest.json


class FakeTranscriber:
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[Path, str | None, list[str] | None]] = []

    def transcribe(
        self, path: Path, *, language: str | None = None, progress: object = None, vocabulary: list[str] | None = None
    ) -> Transcript:
        self.calls.append((path, language, vocabulary))
        return Transcript(
            [
                TranscriptSegment(0.0, 2.5, f"Fake words about {path.stem}.", None, [Word(0.0, 0.4, " Fake")]),
                TranscriptSegment(2.5, 5.0, "Second marmot sentence."),
            ],
            model="fake-1",
            language=language or "en",
            duration=5.0,
        )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(tmp_path / "catalog.db")
    yield database
    database.conn.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # the feeds here are not in feeds.yaml and their media is on 127.0.0.1: a private address (tests/test_ssrf.py)
    return Config(Settings(timeout_seconds=5, max_attempts=3, allow_private_networks=True), tmp_path)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(timeout=5, user_agent="") as http:
        yield http


def add_feed(db: Database, name: str, entries: list[Entry], *, title: str | None = None) -> int:
    with write(db):
        feed_id = int(feed_store.ensure_feed(db, name, f"https://example.org/{name}.xml", "podcast")["id"])
        item_store.save_entries(db, feed_id, entries)
        if title:
            db.execute("UPDATE feeds SET title = ? WHERE id = ?", [title, feed_id])
    return feed_id


def episode(guid: str, url: str, published: str, language: str | None = "en") -> Entry:
    return Entry(
        guid=guid,
        kind="podcast",
        title=f"Episode {guid}",
        published=published,
        body="Robert Wright talks to Anatol Lieven.",
        enclosure_url=url,
        enclosure_type="audio/mpeg",
        language=language,
    )


def worker(
    db: Database,
    config: Config,
    client: httpx.Client,
    factory: object,
    *,
    feeds: list[str] | None = None,
    english_only: bool = False,
) -> MediaWorker:
    """Built as catalog.sync.run.Syncer builds it."""
    return MediaWorker(
        db,
        config,
        client=client,
        transcriber=factory,  # type: ignore[arg-type]
        events=SyncEvents(),
        out_of_time=lambda: False,
        feeds=feeds,
        english_only=english_only,
    )


def new_run(db: Database) -> SyncReport:
    with write(db):
        return SyncReport(run_id=runs.start_run(db, 1))


def media(db: Database) -> list[tuple[object, ...]]:
    return db.execute("SELECT item_id, state, attempts, held_reason IS NOT NULL FROM media ORDER BY item_id").fetchall()


def failures(db: Database) -> list[dict[str, object]]:
    return dict_rows(db, "SELECT run_id, item_id, stage, message FROM failures ORDER BY id")


def test_queued_item_is_downloaded_transcribed_once_indexed_with_sidecar(
    db: Database, config: Config, client: httpx.Client, server: LocalServer
) -> None:
    add_feed(
        db,
        "nonzero",
        [episode("ep1", server.url("media/nonzero-ep1.mp3"), "2026-01-12T09:00:00+00:00")],
        title="Nonzero",
    )
    fake = FakeTranscriber()
    made: list[int] = []

    def factory() -> FakeTranscriber:
        made.append(1)
        return fake

    report = new_run(db)
    worker(db, config, client, factory, feeds=["nonzero"]).run(report, None)

    path = config.media_dir / "nonzero" / "1.mp3"
    assert path.stat().st_size == EP1_BYTES
    assert server.requests["/media/nonzero-ep1.mp3"] == 1
    assert len(fake.calls) == 1
    called_path, language, vocabulary = fake.calls[0]
    assert (called_path, language) == (path, "en")
    assert vocabulary is not None and "Nonzero" in vocabulary
    assert (report.media_done, report.audio_seconds, report.failures, report.notices, report.media_held) == (
        1,
        5.0,
        [],
        [],
        0,
    )
    row = dict_rows(db, "SELECT state, path, bytes, content_type, attempts, last_error FROM media")[0]
    assert row == {
        "state": "indexed",
        "path": str(path),
        "bytes": EP1_BYTES,
        "content_type": "audio/mpeg",
        "attempts": 0,
        "last_error": None,
    }
    assert db.execute("SELECT duration FROM media").fetchone()[0] == pytest.approx(18.26, abs=0.1)
    assert db.execute("SELECT item_id, source, model, language, segments FROM transcripts").fetchall() == [
        (1, "whisper", "fake-1", "en", 2)
    ]
    assert db.execute("SELECT kind, seq, start, text FROM passages WHERE kind = 'segment' ORDER BY seq").fetchall() == [
        ("segment", 0, 0.0, "Fake words about 1."),
        ("segment", 1, 2.5, "Second marmot sentence."),
    ]
    found = db.execute(
        "SELECT p.item_id FROM search_index JOIN passages p ON p.id = search_index.rowid "
        "WHERE search_index MATCH '{idx_body idx_heading}: marmot'"
    ).fetchall()
    assert found == [(1,)]
    sidecar = json.loads((config.media_dir / "nonzero" / "1.mp3.transcript.json").read_text())
    assert (sidecar["model"], [s["text"] for s in sidecar["segments"]]) == (
        "fake-1",
        ["Fake words about 1.", "Second marmot sentence."],
    )
    assert failures(db) == []

    # A second run finds nothing to do: no download, no transcription.
    worker(db, config, client, factory, feeds=["nonzero"]).run(new_run(db), None)
    assert (len(fake.calls), len(made), server.requests["/media/nonzero-ep1.mp3"]) == (1, 1, 1)


@pytest.fixture
def two_languages(db: Database, server: LocalServer) -> None:
    add_feed(db, "english", [episode("en1", server.url("media/nonzero-ep1.mp3"), "2026-01-12T09:00:00+00:00")])
    add_feed(db, "german", [episode("de1", server.url("media/nonzero-ep2.m4a"), "2026-01-13T09:00:00+00:00", "de")])


def test_english_only_holds_an_item_in_another_language(
    db: Database, config: Config, client: httpx.Client, server: LocalServer, two_languages: None
) -> None:
    fake = FakeTranscriber()
    report = new_run(db)
    worker(db, config, client, lambda: fake, english_only=True).run(report, None)

    assert server.requests["/media/nonzero-ep2.m4a"] == 0  # not downloaded
    assert [call[0].name for call in fake.calls] == ["1.mp3"]  # only the English item is transcribed
    assert media(db) == [(1, "indexed", 0, False), (2, "new", 0, True)]
    reason = db.execute("SELECT held_reason FROM media WHERE item_id = 2").fetchone()[0]
    assert reason == (
        "language 'de' and the English-only model 'tiny.en': not transcribed; "
        "set `model:` to a multilingual model (small, large-v3-turbo) to transcribe it"
    )
    assert report.notices == [("item 2 (german: Episode de1)", reason)]
    assert (report.media_held, report.media_done, report.failures) == (1, 1, [])
    assert failures(db) == [{"run_id": report.run_id, "item_id": 2, "stage": "media", "message": f"held: {reason}"}]
    assert db.execute("SELECT COUNT(*) FROM transcripts WHERE item_id = 2").fetchone()[0] == 0

    # The next run says nothing more about it and still does not touch it.
    again = new_run(db)
    worker(db, config, client, lambda: fake, english_only=True).run(again, None)
    assert (again.notices, again.media_held, again.media_done) == ([], 0, 0)
    assert len(failures(db)) == 1
    assert (server.requests["/media/nonzero-ep2.m4a"], len(fake.calls)) == (0, 1)


def test_multilingual_model_transcribes_the_held_item(
    db: Database, config: Config, client: httpx.Client, server: LocalServer, two_languages: None
) -> None:
    fake = FakeTranscriber()
    worker(db, config, client, lambda: fake, english_only=True).run(new_run(db), None)
    report = new_run(db)
    worker(db, config, client, lambda: fake, english_only=False).run(report, None)
    assert [(call[0].name, call[1]) for call in fake.calls] == [("1.mp3", "en"), ("2.m4a", "de")]
    assert media(db) == [(1, "indexed", 0, False), (2, "indexed", 0, False)]  # the hold is cleared
    assert (report.media_done, report.notices) == (1, [])
    assert db.execute("SELECT item_id, language FROM transcripts ORDER BY item_id").fetchall() == [(1, "en"), (2, "de")]


def test_feeds_limit_which_items_are_worked(
    db: Database, config: Config, client: httpx.Client, server: LocalServer, two_languages: None
) -> None:
    fake = FakeTranscriber()
    report = new_run(db)
    worker(db, config, client, lambda: fake, feeds=["german"]).run(report, None)
    assert [call[0].name for call in fake.calls] == ["2.m4a"]
    assert server.requests["/media/nonzero-ep1.mp3"] == 0
    assert media(db) == [(1, "new", 0, False), (2, "indexed", 0, False)]
    assert report.media_done == 1
    worker(db, config, client, lambda: fake, feeds=[]).run(new_run(db), None)
    assert len(fake.calls) == 1 and media(db)[0] == (1, "new", 0, False)


def test_missing_media_counts_an_attempt_and_a_failure(
    db: Database, config: Config, client: httpx.Client, server: LocalServer
) -> None:
    add_feed(
        db,
        "nonzero",
        [
            episode("gone", server.url("media/no-such-episode.mp3"), "2026-01-14T09:00:00+00:00"),
            episode("ep1", server.url("media/nonzero-ep1.mp3"), "2026-01-12T09:00:00+00:00"),
        ],
    )
    fake = FakeTranscriber()
    report = new_run(db)
    worker(db, config, client, lambda: fake).run(report, None)
    row = dict_rows(db, "SELECT state, attempts, last_error, next_attempt_at FROM media WHERE item_id = 1")[0]
    assert (row["state"], row["attempts"], row["next_attempt_at"]) == ("failed", 1, None)  # a 404 is permanent
    assert "404" in row["last_error"]
    assert failures(db) == [{"run_id": report.run_id, "item_id": 1, "stage": "media", "message": row["last_error"]}]
    assert report.failures == [("item 1 (nonzero: Episode gone)", row["last_error"])]
    assert (report.media_done, report.media_failed) == (1, 1)  # the other item is still done
    assert media(db) == [(1, "failed", 1, False), (2, "indexed", 0, False)]
    assert not (config.media_dir / "nonzero" / "1.mp3").exists()


def test_model_error_stops_the_stage_without_spending_attempts(
    db: Database, config: Config, client: httpx.Client, server: LocalServer, two_languages: None
) -> None:
    def factory() -> FakeTranscriber:
        raise ModelError("model 'nope' is not here")

    report = new_run(db)
    with pytest.raises(ModelError, match="model 'nope' is not here"):
        worker(db, config, client, factory).run(report, None)
    # Newest first: the German item (2) is downloaded, then meets the error at its transcription.
    assert db.execute("SELECT item_id, state, attempts, last_error FROM media ORDER BY item_id").fetchall() == [
        (1, "new", 0, None),
        (2, "downloaded", 0, None),
    ]
    assert failures(db) == []
    assert (report.failures, report.media_done) == ([], 0)
    assert db.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0] == 0
