"""Where Whisper runs: an executor takes `TranscriptionTask`s and gives back `TranscriptionResult`s.

There is one code path (`catalog.sync.media_stage`) and two executors with the same small interface:

- `LocalExecutor`: in this process, one task at a time, the model loaded once (the default);
- `catalog.sync.cluster.DaskExecutor`: on the workers of a Dask distributed cluster (`sync --cluster`,
  `cluster:` in feeds.yaml), imported only then, so the core install does not need Dask.

Handles are opaque to the caller (a `concurrent.futures.Future` here, a `distributed.Future` there).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol
from urllib.parse import urlsplit

from catalog.asr.task import (
    Progress,
    TranscriberCache,
    TranscriberSettings,
    TranscriptionResult,
    TranscriptionTask,
    run_transcription,
)
from catalog.asr.transcriber import Transcriber
from catalog.config import Config
from catalog.errors import ClusterError


class Executor(Protocol):
    in_process: bool  # True: tasks carry the media's path, and progress is reported

    @property
    def slots(self) -> int:
        """How many tasks to keep running at once."""
        ...

    def submit(self, task: TranscriptionTask, progress: Progress | None = None) -> Any: ...

    def finished(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        """The handles that are done, waiting up to `timeout` seconds for the first one."""
        ...

    def result(self, handle: Any) -> TranscriptionResult:
        """A finished task's result; a task the executor lost (its worker died too often) is an error result."""
        ...

    def cancel(self, handle: Any) -> None: ...

    def close(self) -> None: ...


def transcriber_settings(config: Config, model: str | None = None) -> TranscriberSettings:
    """The settings a task is run with: feeds.yaml's, with `model` (a re-transcription's) instead of its own."""
    settings = config.settings
    chosen = config.model_path_or_name() if model is None else model
    return TranscriberSettings(
        chosen,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        beam_size=settings.beam_size,
        device=settings.device,
    )


class LocalExecutor:
    """Runs each task in the calling thread when it is submitted: the same work, no second implementation.
    `default` is built by `factory` (the sync's transcriber, loaded on first use); other models (a
    re-transcription's) are loaded once each."""

    in_process = True
    slots = 1

    def __init__(self, default: TranscriberSettings, factory: Callable[[], Transcriber]) -> None:
        self.default = default
        self.factory = factory
        self.transcribers = TranscriberCache()
        self._have_default = False

    def submit(self, task: TranscriptionTask, progress: Progress | None = None) -> Future[TranscriptionResult]:
        if task.settings == self.default and not self._have_default:
            self.transcribers.put(self.default, self.factory())
            self._have_default = True
        future: Future[TranscriptionResult] = Future()
        future.set_result(run_transcription(task, self.transcribers, progress))
        return future

    def finished(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        return [handle for handle in handles if handle.done()]

    def result(self, handle: Any) -> TranscriptionResult:
        result: TranscriptionResult = handle.result()
        return result

    def cancel(self, handle: Any) -> None:
        handle.cancel()

    def close(self) -> None:
        pass


SCHEDULER_HINT = (
    "start one with `dask scheduler` (and workers with `dask worker tcp://HOST:8786`), "
    "or leave out --cluster (and `cluster:`) to transcribe here"
)


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """ClusterError at once, before Dask is asked (it waits 20 s and then raises a ValueError), when
    `address` is not tcp://HOST:PORT (or tls://) or nothing listens there."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
        raise ClusterError(
            f"the cluster address {address!r} is not a Dask scheduler address",
            hint="give it as tcp://HOST:PORT, e.g. --cluster tcp://10.0.0.5:8786",
        )
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}", hint=SCHEDULER_HINT
        ) from exc


def open_executor(config: Config, cluster: str | None, factory: Callable[[], Transcriber]) -> Executor:
    """The cluster's executor when an address is given (`--cluster`, else `cluster:`), else the local one."""
    default = transcriber_settings(config)
    address = cluster or config.settings.cluster
    if not address:
        return LocalExecutor(default, factory)
    check_scheduler(address)
    try:
        from catalog.sync.cluster import DaskExecutor
    except ImportError as exc:
        raise ClusterError(
            f"--cluster needs Dask, which is not installed here ({exc})",
            hint="pip install 'catalog[cluster]' (on the coordinator and on every worker)",
        ) from exc
    return DaskExecutor(address, resources=config.settings.cluster_resources, preload=default)
