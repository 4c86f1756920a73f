"""The model upgrade path: `catalog retranscribe` queues transcripts again with another model; the next
sync replaces each in one transaction, the old one searchable until then; `status` counts by model.
And the leases underneath: a result is used once, however many attempts come back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from catalog.app import Catalog
from catalog.asr.model_store import bundled_model_path
from catalog.asr.transcriber import WhisperTranscriber
from catalog.cli.main import cli
from catalog.cli.retranscribe import checked_model
from catalog.models import MediaJob
from catalog.storage import leases
from catalog.storage.database import connect, write
from catalog.sync.events import SyncEvents
from tests.conftest import SAMPLES

EPISODE_1 = 5  # "Episode 1: Ways Out of the War", which says "armistice"


@pytest.fixture
def catalogue(tmp_path: Path, whisper: WhisperTranscriber) -> Path:
    """The shipped samples synced with tiny.en, and `tiny-copy`: the same model in a folder of its own name."""
    config = tmp_path / "feeds.yaml"
    feeds = [
        {"name": "statecraft", "url": str(SAMPLES / "articles.xml")},
        {"name": "nonzero", "url": str(SAMPLES / "podcast.xml")},
        {"name": "talks", "url": str(SAMPLES / "video.xml")},
    ]
    config.write_text(yaml.safe_dump({"timeout_seconds": 5, "cpu_threads": 2, "feeds": feeds}, sort_keys=False))
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=lambda: whisper)
    assert report.ok and report.media_done == 3, report.failures
    bundled = bundled_model_path()
    assert bundled is not None
    copy = tmp_path / "tiny-copy"
    copy.mkdir()
    for part in bundled.iterdir():
        (copy / part.name).symlink_to(part)
    return config


def finds_armistice(config: Path) -> list[int]:
    with Catalog.open(config) as reader:  # a connection of its own, as `catalog search` has
        return [hit.item_id for hit in reader.search("armistice")]


def segments(config: Path, item_id: int) -> list[tuple[Any, ...]]:
    with Catalog.open(config) as reader:
        transcript = reader.transcript(item_id)
    return [(s.start, s.end, s.text, [(w.start, w.end, w.word) for w in s.words]) for s in transcript.segments]


class SearchWhileTranscribing(SyncEvents):
    """Searches the catalogue, from another connection, each time an item starts transcribing."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.seen: list[tuple[int, list[int]]] = []

    def item_started(self, job: MediaJob, what: str) -> None:
        if what == "transcribing":
            self.seen.append((job.item_id, finds_armistice(self.config)))


def test_the_old_transcript_is_searchable_until_the_new_one_replaces_it(
    catalogue: Path, whisper: WhisperTranscriber
) -> None:
    copy = str(catalogue.parent / "tiny-copy")
    before = segments(catalogue, EPISODE_1)
    with Catalog.open(catalogue) as cat:
        assert cat.retranscribe(copy, where_model="tiny.en", feed="nonzero") == 2
        assert cat.status()["transcripts"] == {"by_model": {"tiny.en": 3}, "queued": {copy: 2}}
        assert cat.retranscribe(copy, where_model="tiny.en", feed="nonzero") == 2  # queued again: still two
    assert finds_armistice(catalogue) == [EPISODE_1]

    events = SearchWhileTranscribing(catalogue)
    with Catalog.open(catalogue) as cat:
        report = cat.sync(events=events, transcriber_factory=lambda: whisper)
        assert (report.media_done, report.failures) == (2, [])
        assert cat.status()["transcripts"] == {"by_model": {"tiny-copy": 2, "tiny.en": 1}, "queued": {}}
        models = cat.db.execute("SELECT item_id, model FROM transcripts ORDER BY item_id").fetchall()
        assert models == [(4, "tiny-copy"), (5, "tiny-copy"), (6, "tiny.en")]
        assert cat.db.execute("SELECT state, COUNT(*) FROM media GROUP BY state").fetchall() == [("indexed", 3)]
    assert events.seen == [(4, [EPISODE_1]), (5, [EPISODE_1])]  # found while the new transcript was being made
    assert finds_armistice(catalogue) == [EPISODE_1]
    assert segments(catalogue, EPISODE_1) == before  # the same weights: the same words and times, once each

    with Catalog.open(catalogue) as cat:  # nothing left to do
        assert cat.sync(transcriber_factory=lambda: whisper).media_done == 0


def test_retranscribe_and_status_on_the_command_line(catalogue: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--config", str(catalogue), "retranscribe", "--model", "small.en"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert result.stdout == "Queued 3 item(s) to transcribe again with small.en; the next `catalog sync` does it.\n"
    status = runner.invoke(cli, ["--config", str(catalogue), "status"], catch_exceptions=False)
    assert "Transcripts by model: 3 tiny.en\n" in status.stdout
    assert "Queued to transcribe again: 3 with small.en\n" in status.stdout
    narrow = runner.invoke(
        cli,
        ["--config", str(catalogue), "retranscribe", "--model", "small.en", "--feed", "talks", "--since", "2099-01-01"],
        catch_exceptions=False,
    )
    assert narrow.stdout.startswith("Queued 0 item(s)")
    unknown = runner.invoke(cli, ["--config", str(catalogue), "retranscribe", "--model", "small.en", "--feed", "nope"])
    assert (unknown.exit_code, unknown.stderr) == (
        1,
        "Error: no feed named 'nope' in this catalogue\nHint: the feeds are: nonzero, statecraft, talks\n",
    )
    # changed their mind (or the model is not here after all): what no sync has begun is forgotten
    one = runner.invoke(cli, ["--config", str(catalogue), "retranscribe", "--cancel", "--feed", "talks"])
    assert one.stdout == "Cancelled 1 queued re-transcription(s); their items keep their transcripts.\n"
    rest = runner.invoke(cli, ["--config", str(catalogue), "retranscribe", "--cancel", "--model", "small.en"])
    assert rest.stdout.startswith("Cancelled 2 queued")
    status = runner.invoke(cli, ["--config", str(catalogue), "status"], catch_exceptions=False)
    assert "Transcripts by model: 3 tiny.en\n" in status.stdout and "Queued to transcribe again" not in status.stdout
    neither = runner.invoke(cli, ["--config", str(catalogue), "retranscribe"])
    assert neither.exit_code == 2 and "give --model NAME" in neither.stderr


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("smal.en", "'smal.en' is not a Whisper model name; the names are: tiny.en, tiny, base.en, base, small.en,"),
        ("smalll", "'smalll' is not a Whisper model name; the names are: tiny.en, tiny, base.en, base, small.en,"),
    ],
    ids=["mistyped-name", "another-typo"],
)
def test_a_model_that_is_neither_a_name_nor_a_folder_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str, error: str
) -> None:
    """Queued, it would fail at every sync: refused before the catalogue is even opened."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "feeds.yaml"), "retranscribe", "--model", model])
    assert result.exit_code == 2
    assert f"\nError: Invalid value for --model: {error.format(tmp=tmp_path)}" in result.stderr
    assert not (tmp_path / "catalog.db").exists()


def test_a_model_folder_is_queued_by_its_full_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models" / "small-copy").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert checked_model("models/small-copy") == str(tmp_path / "models" / "small-copy")
    assert checked_model("large-v3-turbo") == "large-v3-turbo"


def test_a_model_folder_not_here_is_queued_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It may exist on the cluster's workers only."""
    monkeypatch.chdir(tmp_path)
    assert checked_model("./on-the-workers") == str(tmp_path / "on-the-workers")
    assert "Warning: no model folder" in capsys.readouterr().err


def test_a_result_is_used_once_however_many_attempts_come_back(tmp_path: Path) -> None:
    db = connect(tmp_path / "catalog.db")
    with write(db):
        db.execute("INSERT INTO feeds (name, url) VALUES ('f', 'http://example.org/f')")
        db.execute(
            """INSERT INTO items (id, feed_id, guid, kind, content_hash, first_seen_at, updated_at)
               VALUES (7, 1, 'g', 'podcast', 'h', '2026-01-01', '2026-01-01')"""
        )
        assert leases.acquire(db, 7, "tiny.en", "run-a", 60) == 1
        assert leases.acquire(db, 7, "tiny.en", "run-b", 60) == 2  # run-a died: run-b takes the item over
        assert leases.acquire(db, 7, "tiny.en", "run-b", 60) == 3  # its lease ran out: handed out again
        assert leases.complete(db, 7, "tiny.en", "run-a") is False  # the dead run's result
        assert leases.complete(db, 7, "tiny.en", "run-b") is True  # the first of run-b's two attempts
        assert leases.complete(db, 7, "tiny.en", "run-b") is False  # the late second one
        assert leases.waiting_by_model(db) == {}
    db.close()
