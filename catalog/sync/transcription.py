"""Transcriptions in flight: each one leased in the database, handed to the executor, and collected.

The coordinator (the calling thread of the media stage) is the only writer. A task is leased before it
is submitted (`leases.acquire`); a lease that runs out while the task has not come back (a hung worker)
is taken again and the task submitted once more, and whichever result comes first is used: the caller
completes the lease in the transaction that stores the transcript, which succeeds once, and the other
attempt is cancelled. A failed attempt while another is still out is ignored: the other may succeed.

An item is handed out at most MAX_ATTEMPTS times (a lease taken over from a killed run counts); when
the last lease runs out too, the item comes back as a failure. Out of time (`stop_handing_out`), nothing
is handed out again: a task whose lease runs out is given up (`abandoned`), its lease left to the next run.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from catalog.asr.task import Progress, TranscriptionResult, TranscriptionTask
from catalog.models import MediaJob
from catalog.storage import leases
from catalog.storage.database import write
from catalog.sync.executor import Executor

# A lease lasts LEASE_BASE_S plus, per second of audio, what the model's size needs on a slow worker, with
# room: a lease too short costs a second transcription of the item, one too long only delays noticing a hung
# worker (and, out of time, how long the run waits for it).
LEASE_BASE_S = 300.0
LEASE_PER_AUDIO_S = 0.5  # tiny, base: tiny.en on 2 cores does 50x real time
LEASE_PER_AUDIO_S_SMALL = 1.5  # small: about 2x real time on 2 CPU cores (int8)
LEASE_PER_AUDIO_S_LARGE = 5.0  # medium, large, turbo, a folder not named for a size: large-v2 int8 on 2 cores ~0.35x
MAX_ATTEMPTS = 3  # hand-outs of one item before it counts as failed (and a re-transcription is dropped)


@dataclass
class Running:
    job: MediaJob
    task: TranscriptionTask
    lease_seconds: float
    retranscribe: bool = False
    context: Any = None  # what the caller needs to finish the item (its publisher chapters)
    handles: list[Any] = field(default_factory=list)
    expires: float = 0.0  # time.monotonic() when the lease runs out
    attempt: int = 0


class Transcriptions:
    def __init__(self, db: Database, executor: Executor, owner: str | None = None) -> None:
        self.db = db
        self.executor = executor
        self.owner = owner or f"sync-{uuid.uuid4().hex[:12]}"
        self.running: dict[int, Running] = {}
        self.stopping = False  # out of time: hand nothing out again
        self.abandoned: list[Running] = []  # given up out of time; their leases wait for the next run

    def __len__(self) -> int:
        return len(self.running)

    def has_room(self) -> bool:
        return len(self.running) < self.executor.slots

    def submit(self, run: Running, progress: Progress | None = None) -> None:
        self.running[run.job.item_id] = run
        self._hand_out(run, progress)

    def _hand_out(self, run: Running, progress: Progress | None = None) -> None:
        with write(self.db):
            run.attempt = leases.acquire(self.db, run.job.item_id, run.task.model, self.owner, run.lease_seconds)
        run.expires = time.monotonic() + run.lease_seconds
        run.handles.append(self.executor.submit(run.task, progress if self.executor.in_process else None))

    def stop_handing_out(self) -> None:
        """Out of time: the tasks out get the rest of their leases, then are given up (see `collect`)."""
        self.stopping = True

    def collect(self, timeout: float) -> list[tuple[Running, TranscriptionResult]]:
        """Results that came back (waiting up to `timeout` s for one). A lease that ran out is handed out
        again; after MAX_ATTEMPTS it comes back as a failure; after `stop_handing_out` it is abandoned."""
        owners = {id(handle): run for run in self.running.values() for handle in run.handles}
        came_back = []
        for handle in self.executor.finished([h for run in self.running.values() for h in run.handles], timeout):
            run = owners[id(handle)]
            if self.running.get(run.job.item_id) is not run:
                continue  # another attempt of the item came back in this batch and is used
            result = self.executor.result(handle)
            result.item_id, result.model = run.job.item_id, run.task.model
            run.handles.remove(handle)
            if result.error is not None and run.handles:
                continue  # another attempt is still out
            self._drop(run)
            came_back.append((run, result))
        now = time.monotonic()
        for run in [run for run in self.running.values() if run.expires <= now]:
            if self.stopping:
                self._drop(run)
                self.abandoned.append(run)
            elif run.attempt >= MAX_ATTEMPTS:
                self._drop(run)
                error = f"no result in {run.attempt} leases of {run.lease_seconds:.0f} s (a hung or missing worker?)"
                came_back.append((run, TranscriptionResult(run.job.item_id, run.task.model, error=error)))
            else:
                self._hand_out(run)
        return came_back

    def _drop(self, run: Running) -> None:
        for handle in run.handles:
            self.executor.cancel(handle)
        run.handles.clear()
        self.running.pop(run.job.item_id, None)

    def complete(self, run: Running) -> bool:
        """In the caller's write transaction: True once per item, for the result to use."""
        return leases.complete(self.db, run.job.item_id, run.task.model, self.owner)

    def release(self, run: Running) -> bool:
        """In the caller's write transaction: the work failed. True: a re-transcription waits for the next
        run; False: its lease is gone (a queue item's, or a re-transcription's last attempt)."""
        keep_waiting = run.retranscribe and run.attempt < MAX_ATTEMPTS
        leases.release(self.db, run.job.item_id, self.owner, keep_waiting=keep_waiting)
        return keep_waiting

    def close(self) -> None:
        for run in list(self.running.values()):
            self._drop(run)


def lease_seconds(duration: float | None, model: str) -> float:
    """How long one hand-out of `duration` seconds of audio may take with `model` (a name, or a folder
    whose name says its size: tiny-copy, faster-whisper-small) before it is handed out again."""
    name = Path(model).name.lower()
    if "tiny" in name or "base" in name:
        per_second = LEASE_PER_AUDIO_S
    elif "small" in name:
        per_second = LEASE_PER_AUDIO_S_SMALL
    else:
        per_second = LEASE_PER_AUDIO_S_LARGE
    return LEASE_BASE_S + per_second * (duration or 3600.0)
