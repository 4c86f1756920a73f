"""One transcription as a task any executor can run: plain values in, plain values out.

The coordinator of a sync (the only process that writes SQLite) builds a `TranscriptionTask` for each item
Whisper must hear and hands it to an executor: in this process (`catalog.sync.executor.LocalExecutor`), or
on a Dask worker on another machine (`catalog.sync.cluster`). A worker shares no disk with the coordinator,
so the task carries the media's bytes (fetched by the coordinator with the feed's network policy, size cap
and duration limit); in-process it carries the path. `run_transcription` returns a `TranscriptionResult`
(segments and words, or the error as text) and never touches the database.

The model is loaded once per process and kept (`TranscriberCache`), not per task: loading tiny.en costs
about as much as transcribing a minute of audio.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from catalog.asr.transcriber import Transcriber, WhisperTranscriber
from catalog.errors import CatalogError, ModelError
from catalog.models import Transcript

Progress = Callable[[float], None]


@dataclass(frozen=True)
class TranscriberSettings:
    """What makes a Whisper transcriber; hashable, so one loaded model serves every task that wants it."""

    model: str  # a model name, or a folder path as the coordinator resolved it
    compute_type: str = "int8"
    cpu_threads: int = 0
    beam_size: int = 2
    device: str = "cpu"

    def build(self) -> WhisperTranscriber:
        return WhisperTranscriber(
            self.model,
            compute_type=self.compute_type,
            cpu_threads=self.cpu_threads,
            beam_size=self.beam_size,
            device=self.device,
        )


@dataclass(frozen=True)
class TranscriptionTask:
    item_id: int
    model: str  # the model asked for, as the lease names it
    settings: TranscriberSettings
    suffix: str  # the media file's extension: decoders look at it
    language: str | None = None
    vocabulary: tuple[str, ...] = ()
    path: str | None = None  # in-process: the downloaded file
    data: bytes | None = None  # on a cluster: the file's bytes

    def __repr__(self) -> str:  # shown in Dask's logs and dashboard: never the bytes
        return f"TranscriptionTask(item {self.item_id}, {self.model}, {len(self.data or b'')} bytes)"


@dataclass
class TranscriptionResult:
    item_id: int
    model: str
    transcript: Transcript | None = None
    error: str | None = None
    model_error: bool = False  # the model could not be loaded: configuration, not this item
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    seconds: float = 0.0  # wall time of the task on its worker, model load excluded when cached


class TranscriberCache:
    """Transcribers by settings, loaded on first use and kept for the life of the process (or worker)."""

    def __init__(self, overrides: dict[str, object] | None = None) -> None:
        self.overrides = overrides or {}  # a worker's own settings (device, compute_type, cpu_threads)
        self._loaded: dict[TranscriberSettings, Transcriber] = {}

    def get(self, settings: TranscriberSettings) -> Transcriber:
        settings = replace(settings, **self.overrides)  # type: ignore[arg-type]
        if settings not in self._loaded:
            transcriber = settings.build()
            transcriber.load()
            self._loaded[settings] = transcriber
        return self._loaded[settings]

    def put(self, settings: TranscriberSettings, transcriber: Transcriber) -> None:
        """Use `transcriber` for `settings` (a caller's own, already loaded)."""
        self._loaded[replace(settings, **self.overrides)] = transcriber  # type: ignore[arg-type]


def run_transcription(
    task: TranscriptionTask,
    transcribers: TranscriberCache,
    progress: Progress | None = None,
) -> TranscriptionResult:
    """Transcribe the task's media; every failure comes back in the result, never as an exception."""
    started = time.monotonic()
    result = TranscriptionResult(task.item_id, task.model)
    try:
        transcriber = transcribers.get(task.settings)
        if task.data is not None:
            with tempfile.TemporaryDirectory(prefix="catalog-task-") as folder:
                media = Path(folder) / f"item{task.item_id}{task.suffix}"
                media.write_bytes(task.data)
                result.transcript = _transcribe(transcriber, media, task, progress)
        else:
            result.transcript = _transcribe(transcriber, Path(task.path or ""), task, progress)
    except ModelError as exc:
        result.error, result.model_error = str(exc), True
    except CatalogError as exc:
        result.error = str(exc)
    except Exception as exc:  # a bug or a library surprise must not lose the worker's other tasks
        result.error = f"item {task.item_id}: unexpected {type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result


def _transcribe(
    transcriber: Transcriber, media: Path, task: TranscriptionTask, progress: Progress | None
) -> Transcript:
    return transcriber.transcribe(
        media, language=task.language, progress=progress, vocabulary=list(task.vocabulary) or None
    )
