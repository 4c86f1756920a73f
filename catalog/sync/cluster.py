"""Transcription on a Dask distributed cluster (`catalog sync --cluster tcp://HOST:8786`, or `cluster:`).

Imported only when a cluster is asked for: Dask comes with the `cluster` extra, not the core install.
Public Dask APIs only: `Client`, `Client.submit`, `Client.register_plugin`, `Client.nthreads`,
`Future.done`, `WorkerPlugin`, `get_worker`, and the `distributed.admin.large-graph-warning-threshold` setting.

- A worker is any machine running `dask worker tcp://HOST:8786` with catalog installed. `TranscriberPlugin`
  loads the model when the worker joins (and keeps it, for later syncs too): tasks never load it again;
  a model a task asks for that is not loaded yet (a re-transcription's) is loaded once, then kept.
- A task (`transcribe_on_worker`) carries the media's bytes: workers share no disk with the coordinator
  and never see the database. The bytes travel inside the task, not as scattered data, so when a worker
  dies mid-task the scheduler still holds them and runs the task on another worker (Dask retries a task
  whose worker died up to `distributed.scheduler.allowed-failures` times, 3 by default).
- A worker started with `CATALOG_CONFIG=worker.yaml` takes `device`, `compute_type` and `cpu_threads` from
  that file (a GPU worker: `device: cuda`, `compute_type: float16`); the model is the coordinator's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import dask
from distributed import Client, WorkerPlugin, get_worker

from catalog.asr.task import (
    Progress,
    TranscriberCache,
    TranscriberSettings,
    TranscriptionResult,
    TranscriptionTask,
    run_transcription,
)
from catalog.config import load_config
from catalog.errors import CatalogError, ClusterError

PLUGIN = "catalog-transcriber"
CONNECT_TIMEOUT = "10s"
POLL_S = 0.02  # how often the coordinator looks for finished tasks while it waits
WORKER_SETTINGS = ("device", "compute_type", "cpu_threads")


def worker_overrides() -> dict[str, object]:
    """This worker's own settings, from the feeds.yaml its CATALOG_CONFIG names (only keys written there)."""
    path = os.environ.get("CATALOG_CONFIG")
    if not path or not Path(path).is_file():
        return {}
    settings = load_config(path).settings
    return {key: getattr(settings, key) for key in WORKER_SETTINGS if key in settings.model_fields_set}


class TranscriberPlugin(WorkerPlugin):
    """Gives each worker one `TranscriberCache`, with the coordinator's model loaded as the worker starts."""

    name = PLUGIN
    idempotent = True  # registered once per cluster: a later sync keeps the loaded model (the cache is per settings)

    def __init__(self, preload: TranscriberSettings | None = None) -> None:
        self.preload = preload
        self.transcribers = TranscriberCache()

    def setup(self, worker: Any) -> None:
        self.transcribers = TranscriberCache(worker_overrides())
        if self.preload is not None:
            # a model not on this worker: each task says so (a ModelError, which ends the sync)
            with suppress(CatalogError):
                self.transcribers.get(self.preload)


def transcribe_on_worker(task: TranscriptionTask) -> TranscriptionResult:
    """The task function the workers run (they import it from here)."""
    plugin = get_worker().plugins[PLUGIN]
    assert isinstance(plugin, TranscriberPlugin)
    return run_transcription(task, plugin.transcribers)


class DaskExecutor:
    in_process = False

    def __init__(
        self,
        address: str,
        *,
        resources: dict[str, float] | None = None,
        preload: TranscriberSettings | None = None,
        client: Client | None = None,
    ) -> None:
        self.resources = resources or None
        self._owns_client = client is None
        try:
            self.client = client or Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                hint="start one with `dask scheduler` (and workers with `dask worker tcp://HOST:8786`), "
                "or leave out --cluster to transcribe here",
            ) from exc
        self.client.register_plugin(TranscriberPlugin(preload), name=PLUGIN)

    @property
    def slots(self) -> int:
        """A task for each worker thread, and one waiting on each worker: while the coordinator stores a
        result and sends the next 10 MB, the worker is already transcribing (measured: without the waiting
        task, 1 worker took 23 % longer than in-process for an hour of audio, ~1 s idle per task)."""
        threads = self.client.nthreads()
        return max(1, int(sum(threads.values())) + len(threads))

    def submit(self, task: TranscriptionTask, progress: Progress | None = None) -> Any:
        # the media travels inside the task on purpose (see the module docstring): no warning about it
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GB"}):
            return self.client.submit(transcribe_on_worker, task, pure=False, resources=self.resources)

    def finished(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        # polled: `distributed.wait` wants a default client, and this one is deliberately not the default
        deadline = time.monotonic() + timeout
        while True:
            done = [handle for handle in handles if handle.done()]
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(POLL_S)

    def result(self, handle: Any) -> TranscriptionResult:
        try:
            result: TranscriptionResult = handle.result()
            return result
        except Exception as exc:  # KilledWorker (its workers kept dying), a cancelled task, a lost scheduler
            return TranscriptionResult(-1, "", error=f"the cluster lost the task: {type(exc).__name__}: {exc}")

    def cancel(self, handle: Any) -> None:
        handle.cancel()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
