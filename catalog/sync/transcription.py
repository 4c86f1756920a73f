"""Transcriptions in flight: each one leased in the database, handed to the executor, and collected.

The coordinator (the calling thread of the media stage) is the only writer. A task is leased before it
is submitted (`leases.acquire`); a lease that runs out while the task has not come back (a hung worker)
is taken again and the task submitted once more, and whichever result comes first is used: the caller
completes the lease in the transaction that stores the transcript, which succeeds once, and the other
attempt is cancelled. A failed attempt while another is still out is ignored: the other may succeed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from catalog.asr.task import Progress, TranscriptionResult, TranscriptionTask
from catalog.models import MediaJob
from catalog.storage import leases
from catalog.storage.database import write
from catalog.sync.executor import Executor

LEASE_BASE_S = 300.0  # a lease lasts this long, plus
LEASE_PER_AUDIO_S = 0.5  # this much per second of audio: 2x real time, where tiny.en on 2 cores does 50x


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

    def collect(self, timeout: float) -> list[tuple[Running, TranscriptionResult]]:
        """Results that came back (waiting up to `timeout` s for one); leases that ran out are handed out again."""
        owners = {id(handle): run for run in self.running.values() for handle in run.handles}
        came_back = []
        for handle in self.executor.finished([h for run in self.running.values() for h in run.handles], timeout):
            run = owners[id(handle)]
            result = self.executor.result(handle)
            result.item_id, result.model = run.job.item_id, run.task.model
            run.handles.remove(handle)
            if result.error is not None and run.handles:
                continue  # another attempt is still out
            for other in run.handles:
                self.executor.cancel(other)
            run.handles.clear()
            self.running.pop(run.job.item_id, None)
            came_back.append((run, result))
        now = time.monotonic()
        for run in self.running.values():
            if run.expires <= now:
                self._hand_out(run)
        return came_back

    def complete(self, run: Running) -> bool:
        """In the caller's write transaction: True once per item, for the result to use."""
        return leases.complete(self.db, run.job.item_id, run.task.model, self.owner)

    def release(self, run: Running) -> None:
        """In the caller's write transaction: the work failed."""
        leases.release(self.db, run.job.item_id, self.owner, keep_waiting=run.retranscribe)

    def close(self) -> None:
        for run in self.running.values():
            for handle in run.handles:
                self.executor.cancel(handle)
        self.running.clear()


def lease_seconds(duration: float | None) -> float:
    return LEASE_BASE_S + LEASE_PER_AUDIO_S * (duration or 3600.0)
