"""One `sync`: fetch every feed, then work the media queue (download, transcribe, index).

Concurrency, and why it is shaped this way:
- Feeds are fetched on a thread pool and parsed in worker processes (`catalog.sync.feed_stage`).
- Media downloads run on a small pool one step ahead of transcription, so the next episode
  arrives while Whisper (which releases the GIL) works on the current one (`catalog.sync.media_stage`).
- Whisper runs on an executor: in this process, or on a Dask cluster (`--cluster`); either way tasks
  are leased in the database and their results come back to the calling thread (`catalog.sync.executor`).
- Only the calling thread writes SQLite, each step in one `BEGIN IMMEDIATE` transaction.
  Workers return values; they never touch the database.
Every failure is caught per feed or per item, recorded (see `catalog status`), and the run goes on.

The selection (`--feed`, `enabled: false`) applies to every stage: a feed that is not synced has
none of its media downloaded or transcribed either.

With the `semantic` extra installed, the passages stored by the run (and any others still without
vectors) are embedded at its end (`embed_new`), committed in groups: a few seconds per hour of audio.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import httpx
from sqlite_utils import Database

from catalog.asr.transcriber import Transcriber
from catalog.config import Config, FeedSource
from catalog.errors import ConfigError
from catalog.storage import runs
from catalog.storage.database import write
from catalog.sync.events import SyncEvents
from catalog.sync.executor import Executor, open_executor
from catalog.sync.feed_stage import FeedStage
from catalog.sync.media_stage import MediaWorker
from catalog.sync.report import SyncOptions, SyncReport

log = logging.getLogger(__name__)


def select_sources(config: Config, names: list[str] | None) -> list[FeedSource]:
    """The enabled feeds, or those named (which must exist; naming a disabled one is an error that says so)."""
    if not names:
        return [source for source in config.feeds if source.enabled]
    by_name = {source.name: source for source in config.feeds}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise ConfigError(
            f"no feed named {', '.join(unknown)} in {config.path or 'feeds.yaml'}",
            hint=f"the feeds are: {known} (`catalog feeds list`)",
        )
    disabled = [name for name in names if not by_name[name].enabled]
    if disabled:
        raise ConfigError(
            f"feed {', '.join(disabled)} is disabled (enabled: false in {config.path or 'feeds.yaml'})",
            hint="set `enabled: true` for it in feeds.yaml, or remove that line",
        )
    return [by_name[name] for name in dict.fromkeys(names)]


class Syncer:
    """One sync run. Construct with everything it needs; `run()` does the work."""

    def __init__(
        self,
        db: Database,
        config: Config,
        *,
        client: httpx.Client,
        transcriber_factory: Callable[[], Transcriber],
        options: SyncOptions | None = None,
        events: SyncEvents | None = None,
        english_only: bool = False,
    ) -> None:
        self.db = db
        self.config = config
        self.settings = config.settings
        self.client = client
        self.transcriber_factory = transcriber_factory
        self._transcriber: Transcriber | None = None
        self.options = options or SyncOptions()
        self.events = events or SyncEvents()
        self.english_only = english_only
        self._started = time.monotonic()
        max_minutes = self.options.max_minutes or self.settings.max_minutes
        self._deadline = self._started + max_minutes * 60 if max_minutes else None
        self.sources = select_sources(config, self.options.feeds)

    def run(self) -> SyncReport:
        # the cluster first: a scheduler that cannot be reached is a configuration error before any work
        executor = (
            open_executor(self.config, self.options.cluster, self._get_transcriber) if self.options.media else None
        )
        try:
            return self._run(executor)
        finally:
            if executor is not None:
                executor.close()

    def _run(self, executor: Executor | None) -> SyncReport:
        with write(self.db):
            run_id = runs.start_run(self.db, os.getpid())
        report = SyncReport(run_id=run_id)
        status = "interrupted"
        try:
            feeds = FeedStage(
                self.db,
                self.config,
                client=self.client,
                options=self.options,
                events=self.events,
                sources=self.sources,
            )
            if self.options.items is None:
                feeds.run(report)
            report.parsed_in_workers = feeds.parsed_in_workers
            if executor is not None:
                worker = MediaWorker(
                    self.db,
                    self.config,
                    client=self.client,
                    transcriber=self._get_transcriber,
                    events=self.events,
                    out_of_time=self._out_of_time,
                    feeds=[source.name for source in self.sources] if self.options.items is None else None,
                    english_only=self.english_only,
                    item_ids=self.options.items,
                    executor=executor,
                )
                chosen = self.options.items is not None  # asked for by id: every one, whatever max_items says
                worker.run(report, None if chosen else self.options.max_items or self.settings.max_items)
            embed_new(self.db, self._deadline)
            status = "ok" if report.ok else "partial"
        finally:
            report.seconds = time.monotonic() - self._started
            with write(self.db):
                runs.finish_run(self.db, run_id, status, report.counts(), report.stopped_early)
            log.info("run %d %s in %.1f s", run_id, status, report.seconds)
        return report

    def _get_transcriber(self) -> Transcriber:
        if self._transcriber is None:  # loaded on first use: a run with no new audio never loads a model
            self._transcriber = self.transcriber_factory()
        return self._transcriber

    def _out_of_time(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline


def embed_new(db: Database, deadline: float | None = None) -> int:
    """Vectors for the passages that have none, when the `semantic` extra is installed; how many windows.
    Committed in groups and stopped at `deadline` (the run's --max-minutes): the rest waits for the next
    run. A catalogue whose vectors came from another model gets none (`catalog reindex --semantic` says so)."""
    from catalog.embedding import available, load_embedder

    if not available():
        return 0
    from catalog.storage import vectors

    started = time.monotonic()
    count = vectors.fill(db, load_embedder(), deadline=deadline)
    if count:
        log.info("embedded %d windows in %.1f s", count, time.monotonic() - started)
    return count
