"""The edges of leased Whisper work (catalog.sync.transcription, catalog.storage.leases), with an executor the
test drives: two hand-outs coming back together, a worker that never answers (the attempt cap, the time
limit), a lease left behind by a killed run, and a re-transcription that fails. Real SQLite, media served
by a LocalServer, no model."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from catalog.asr.task import Progress, TranscriberSettings, TranscriptionResult, TranscriptionTask
from catalog.config import Config, Settings
from catalog.models import MediaJob
from catalog.sources.http import make_client
from catalog.storage import leases, media_queue
from catalog.storage.database import connect, write
from catalog.sync import transcription
from catalog.sync.events import SyncEvents
from catalog.sync.media_stage import STOPPED, MediaWorker
from catalog.sync.transcription import MAX_ATTEMPTS, Running, Transcriptions, lease_seconds
from catalog.testing.localserver import LocalServer
from tests.test_media_stage import FakeTranscriber, add_feed, episode, failures, new_run


@dataclass
class Handle:
    task: TranscriptionTask
    result: TranscriptionResult | None = None
    cancelled: bool = False


class FakeExecutor:
    """Answers each task with `answer` at once, or (None) never, as a hung worker or an empty cluster:
    the test then sets `Handle.result` itself."""

    in_process = False
    slots = 2

    def __init__(self, answer: Callable[[TranscriptionTask], TranscriptionResult] | None = None) -> None:
        self.answer = answer
        self.handles: list[Handle] = []

    def submit(self, task: TranscriptionTask, progress: Progress | None = None) -> Handle:
        handle = Handle(task, self.answer(task) if self.answer else None)
        self.handles.append(handle)
        return handle

    def finished(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        done = [handle for handle in handles if handle.result is not None]
        if not done:
            time.sleep(min(timeout, 0.01))
        return done

    def result(self, handle: Any) -> TranscriptionResult:
        assert handle.result is not None
        result: TranscriptionResult = handle.result
        return result

    def cancel(self, handle: Any) -> None:
        handle.cancelled = True

    def close(self) -> None:
        pass


def transcribed(task: TranscriptionTask) -> TranscriptionResult:
    return TranscriptionResult(task.item_id, task.model, transcript=FakeTranscriber().transcribe(Path("x.mp3")))


def failing(task: TranscriptionTask) -> TranscriptionResult:
    return TranscriptionResult(task.item_id, task.model, error="the worker's decoder failed")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(tmp_path / "catalog.db")
    yield database
    database.conn.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(Settings(timeout_seconds=5, max_attempts=3, allow_private_networks=True), tmp_path)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(timeout=5, user_agent="") as http:
        yield http


@pytest.fixture
def job(db: Database, server: LocalServer) -> MediaJob:
    add_feed(db, "nonzero", [episode("ep1", server.url("media/nonzero-ep1.mp3"), "2026-01-12T09:00:00+00:00")])
    return media_queue.pending_media(db)[0]


def running(job: MediaJob, seconds: float, *, retranscribe: bool = False) -> Running:
    task = TranscriptionTask(job.item_id, "tiny.en", TranscriberSettings("tiny.en"), ".mp3", data=b"")
    return Running(job, task, seconds, retranscribe=retranscribe)


def lease_rows(db: Database) -> list[tuple[Any, ...]]:
    return db.execute("SELECT item_id, model, owner, attempt FROM transcription_leases").fetchall()


class Deadline(SyncEvents):
    """Time runs out as soon as the first task is handed out (when `at_first_task`)."""

    def __init__(self, at_first_task: bool) -> None:
        self.at_first_task = at_first_task
        self.started = 0
        self.done: list[tuple[int, str, str | None]] = []

    def item_started(self, job: MediaJob, stage: str) -> None:
        self.started += stage == "transcribing"

    def item_done(self, job: MediaJob, result: str, detail: str | None) -> None:
        self.done.append((job.item_id, result, detail))

    def out_of_time(self) -> bool:
        return self.at_first_task and self.started > 0


def media_worker(
    db: Database, config: Config, client: httpx.Client, executor: FakeExecutor, events: Deadline | None = None
) -> MediaWorker:
    events = events or Deadline(at_first_task=False)
    return MediaWorker(
        db,
        config,
        client=client,
        transcriber=FakeTranscriber,
        events=events,
        out_of_time=events.out_of_time,
        executor=executor,
    )


def test_two_hand_outs_of_one_item_coming_back_in_one_batch_are_used_once(db: Database, job: MediaJob) -> None:
    executor = FakeExecutor()
    flight = Transcriptions(db, executor)
    run = running(job, 0.0)
    flight.submit(run)
    assert flight.collect(0) == []  # its lease ran out at once: handed out again
    assert len(executor.handles) == 2
    for handle in executor.handles:
        handle.result = transcribed(handle.task)
    came_back = flight.collect(0)
    assert [item for item, _result in came_back] == [run] and len(flight) == 0
    with write(db):
        assert flight.complete(run) is True
    assert lease_rows(db) == []


def test_an_item_handed_out_max_attempts_times_without_a_result_comes_back_failed(db: Database, job: MediaJob) -> None:
    executor = FakeExecutor()
    flight = Transcriptions(db, executor)
    run = running(job, 0.0)
    flight.submit(run)
    came_back: list[tuple[Running, TranscriptionResult]] = []
    for _ in range(MAX_ATTEMPTS + 2):
        came_back += flight.collect(0)
    assert len(executor.handles) == MAX_ATTEMPTS and all(handle.cancelled for handle in executor.handles)
    [(back, result)] = came_back
    assert back is run and result.error == "no result in 3 leases of 0 s (a hung or missing worker?)"
    assert len(flight) == 0


def test_out_of_time_a_lease_that_runs_out_is_given_up_and_kept_for_the_next_run(db: Database, job: MediaJob) -> None:
    executor = FakeExecutor()
    flight = Transcriptions(db, executor)
    run = running(job, 0.0)
    flight.submit(run)
    flight.stop_handing_out()
    assert flight.collect(0) == []
    assert (len(executor.handles), executor.handles[0].cancelled, flight.abandoned, len(flight)) == (1, True, [run], 0)
    assert lease_rows(db) == [(job.item_id, "tiny.en", flight.owner, 1)]


def test_a_failed_retranscription_waits_for_the_next_run_until_its_last_attempt(db: Database, job: MediaJob) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        flight = Transcriptions(db, FakeExecutor(failing))
        run = running(job, 60.0, retranscribe=True)
        flight.submit(run)
        [(_run, result)] = flight.collect(0)
        assert result.error is not None
        with write(db):
            waits = flight.release(run)
        assert waits is (attempt < MAX_ATTEMPTS)
        assert lease_rows(db) == ([(job.item_id, "tiny.en", None, attempt)] if waits else [])


@pytest.mark.timeout(60)
def test_a_hung_worker_past_the_time_limit_ends_the_run_and_the_next_run_takes_the_lease_over(
    db: Database, config: Config, client: httpx.Client, job: MediaJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcription, "LEASE_BASE_S", 0.2)
    monkeypatch.setattr(transcription, "LEASE_PER_AUDIO_S", 0.0)
    hung = FakeExecutor()
    events = Deadline(at_first_task=True)
    report = new_run(db)
    media_worker(db, config, client, hung, events).run(report, None)  # before: handed out again, for ever
    assert (len(hung.handles), hung.handles[0].cancelled) == (1, True)
    assert (report.stopped_early, report.media_done, report.failures) == (STOPPED, 0, [])
    assert events.done == [(job.item_id, "retry", "time limit reached before its task came back")]
    assert db.execute("SELECT state, attempts FROM media").fetchall() == [("downloaded", 0)]
    [(item_id, model, owner, attempt)] = lease_rows(db)  # still this run's: the next one takes it over
    assert (item_id, model, owner.startswith("sync-"), attempt) == (job.item_id, "tiny.en", True, 1)

    again = new_run(db)
    media_worker(db, config, client, FakeExecutor(transcribed)).run(again, None)
    assert (again.media_done, again.failures) == (1, [])
    assert db.execute("SELECT state FROM media").fetchall() == [("indexed",)]
    assert lease_rows(db) == []


@pytest.mark.timeout(60)
def test_a_worker_that_never_answers_costs_the_item_one_attempt_after_max_hand_outs(
    db: Database, config: Config, client: httpx.Client, job: MediaJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcription, "LEASE_BASE_S", 0.05)
    monkeypatch.setattr(transcription, "LEASE_PER_AUDIO_S", 0.0)
    hung = FakeExecutor()
    report = new_run(db)
    media_worker(db, config, client, hung).run(report, None)
    assert len(hung.handles) == MAX_ATTEMPTS and all(handle.cancelled for handle in hung.handles)
    message = "no result in 3 leases of 0 s (a hung or missing worker?)"
    assert report.failures == [(f"item {job.item_id} (nonzero: Episode ep1)", message)]
    assert db.execute("SELECT state, attempts, last_error FROM media").fetchall() == [("downloaded", 1, message)]
    assert lease_rows(db) == []


def test_a_lease_left_by_a_killed_run_goes_when_the_item_is_indexed_from_its_sidecar(
    db: Database, config: Config, client: httpx.Client, job: MediaJob
) -> None:
    media_worker(db, config, client, FakeExecutor(transcribed)).run(new_run(db), None)
    # as a run killed between storing the sidecar and indexing leaves it
    with write(db):
        db.execute("UPDATE media SET state = 'transcribed' WHERE item_id = ?", [job.item_id])
        leases.acquire(db, job.item_id, "tiny.en", "sync-killed", 600)
    executor = FakeExecutor(transcribed)
    report = new_run(db)
    media_worker(db, config, client, executor).run(report, None)
    assert (report.media_done, executor.handles) == (1, [])  # indexed from the sidecar
    assert lease_rows(db) == []
    media_worker(db, config, client, executor).run(new_run(db), None)
    assert executor.handles == []  # before: Whispered again, as if `catalog retranscribe` had asked


def test_a_retranscription_whose_media_is_gone_keeps_the_item_indexed_and_is_dropped_after_max_attempts(
    db: Database, config: Config, client: httpx.Client, job: MediaJob, site: Path
) -> None:
    media_worker(db, config, client, FakeExecutor(transcribed)).run(new_run(db), None)
    before = db.execute("SELECT state, attempts, path, last_error FROM media").fetchall()
    assert before[0][0] == "indexed"
    with write(db):
        assert leases.queue_retranscription(db, "small.en") == 1
    Path(before[0][2]).unlink()  # downloaded again to be transcribed again, and the server has it no more
    (site / "media" / "nonzero-ep1.mp3").unlink()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = new_run(db)
        media_worker(db, config, client, FakeExecutor(transcribed)).run(report, None)
        [(_what, message)] = report.failures
        assert "404" in message
        if attempt < MAX_ATTEMPTS:
            assert message.endswith("; tried again next sync")
            assert lease_rows(db) == [(job.item_id, "small.en", None, attempt)]
        else:
            assert message.endswith("; given up after 3 tries, old transcript kept")
            assert lease_rows(db) == []
        assert failures(db)[-1] == {
            "run_id": report.run_id,
            "item_id": job.item_id,
            "stage": "media",
            "message": message,
        }
        assert db.execute("SELECT state, attempts, path, last_error FROM media").fetchall() == before
    assert db.execute("SELECT model FROM transcripts").fetchall() == [("fake-1",)]


def test_queueing_again_leaves_a_lease_a_sync_holds_alone(
    db: Database, config: Config, client: httpx.Client, job: MediaJob
) -> None:
    media_worker(db, config, client, FakeExecutor(transcribed)).run(new_run(db), None)
    with write(db):
        assert leases.queue_retranscription(db, "small.en") == 1
        leases.acquire(db, job.item_id, "small.en", "sync-running", 600)
        assert leases.queue_retranscription(db, "medium.en") == 0
    assert lease_rows(db) == [(job.item_id, "small.en", "sync-running", 1)]


@pytest.mark.parametrize(
    ("model", "seconds"),
    [
        ("tiny.en", 300 + 0.5 * 3600),
        ("/models/tiny-copy", 300 + 0.5 * 3600),
        ("base", 300 + 0.5 * 3600),
        ("distil-small.en", 300 + 1.5 * 3600),
        ("large-v3-turbo", 300 + 5.0 * 3600),
        ("/models/my-model", 300 + 5.0 * 3600),
    ],
    ids=["tiny", "tiny-folder", "base", "small", "large", "unsized-folder"],
)
def test_a_lease_is_long_enough_for_the_model_size(model: str, seconds: float) -> None:
    assert lease_seconds(3600.0, model) == seconds
