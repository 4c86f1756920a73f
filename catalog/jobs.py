"""`sync`: fetch every feed, then work the media queue (download, transcribe, index).

Concurrency, and why it is shaped this way:
- Feeds are fetched and parsed on a thread pool (at most `PER_HOST` at once per host).
- Media downloads run on a small pool one step ahead of transcription, so the next episode
  arrives while Whisper (which releases the GIL) works on the current one.
- Only the calling thread writes SQLite, each step in one `BEGIN IMMEDIATE` transaction.
  Workers return values; they never touch the database.
Every failure is caught per feed or per item, recorded (see `catalog status`), and the run goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlite_utils import Database

from catalog import store
from catalog.config import Config, FeedSource
from catalog.db import write
from catalog.errors import CatalogError, HTTPStatusError
from catalog.feeds import ParsedFeed, parse_feed
from catalog.fetch import FeedResponse, fetch_feed
from catalog.mediawork import MediaWorker
from catalog.podcast_ns import annotate
from catalog.store import MediaJob
from catalog.transcribe import Transcriber

PER_HOST = 4
FEED_WORKERS = 16


class SyncEvents:
    """Progress hooks; the CLI subclasses this to draw progress on a terminal. All no-ops here."""

    def feeds_started(self, total: int) -> None: ...
    def feed_done(self, name: str, result: str, detail: str | None) -> None: ...
    def media_started(self, total: int) -> None: ...
    def item_started(self, job: MediaJob, stage: str) -> None: ...
    def item_progress(self, job: MediaJob, fraction: float) -> None: ...
    def item_done(self, job: MediaJob, result: str, detail: str | None) -> None: ...


@dataclass
class SyncOptions:
    max_items: int | None = None
    max_minutes: float | None = None
    media: bool = True
    feeds: list[str] | None = None
    force: bool = False


@dataclass
class SyncReport:
    run_id: int
    feeds_checked: int = 0
    feeds_unchanged: int = 0
    items_new: int = 0
    items_updated: int = 0
    media_done: int = 0
    audio_seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    stopped_early: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "feeds_checked": self.feeds_checked,
            "feeds_unchanged": self.feeds_unchanged,
            "items_new": self.items_new,
            "items_updated": self.items_updated,
            "media_done": self.media_done,
            "media_failed": sum(1 for what, _ in self.failures if what.startswith("item")),
            "audio_seconds": round(self.audio_seconds, 1),
            "seconds": round(self.seconds, 2),
            "stopped_early": self.stopped_early,
            "failures": [{"what": what, "error": message} for what, message in self.failures],
            "warnings": [{"what": what, "warning": message} for what, message in self.warnings],
        }


@dataclass
class _Fetched:
    source: FeedSource
    feed_id: int
    failures: int = 0
    response: FeedResponse | None = None
    parsed: ParsedFeed | None = None
    error: CatalogError | None = None

    @property
    def needs_parsing(self) -> bool:
        return (
            self.error is None and self.parsed is None and self.response is not None and self.response.body is not None
        )


def parse_fetched(fetched: _Fetched) -> _Fetched:
    """Parse a fetched document (in this process or a parser process): entries plus Podcasting 2.0 tags."""
    response = fetched.response
    assert response is not None and response.body is not None
    try:
        fetched.parsed = parse_feed(response.body, url=response.url, headers=response.headers, kind=fetched.source.kind)
        annotate(fetched.parsed.entries, response.body, response.url)
    except CatalogError as exc:
        fetched.error = exc
    except Exception as exc:  # a bug or a library surprise must not end the whole run
        fetched.error = CatalogError(f"{response.url}: unexpected {type(exc).__name__}: {exc}")
    fetched.response = FeedResponse(response.url, response.status, b"", {}, response.etag, response.last_modified)
    return fetched


class ParserPool:
    """Feed parsing is CPU-bound Python: on the writer thread it competes for the GIL, so with
    enough changed feeds to pay for it, it runs in parser processes (one per core but the
    writer's) while the writer thread stores what is ready.

    Linux only, with `fork`, and the workers are forked before any fetch thread starts (a fork
    with threads running can inherit a held lock). Elsewhere, or if the pool breaks, feeds are
    parsed on the writer thread as before.
    """

    MIN_FEEDS = 40

    def __init__(self, feeds: int) -> None:
        cores = os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        if feeds >= self.MIN_FEEDS and cores > 1 and sys.platform.startswith("linux"):
            workers = max(1, min(cores - 1, 4))
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            for started in [self._pool.submit(_warm_up) for _ in range(workers)]:
                started.result()  # every worker exists before the first fetch thread does

    @property
    def active(self) -> bool:
        return self._pool is not None

    def parse(self, fetched: _Fetched) -> Future[_Fetched]:
        assert self._pool is not None
        return self._pool.submit(parse_fetched, fetched)

    def broken(self) -> None:
        """Stop using processes (the writer thread parses from now on)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _warm_up() -> None:
    """Runs once in each parser process as it starts."""


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
    ) -> None:
        self.db = db
        self.config = config
        self.settings = config.settings
        self.client = client
        self.transcriber_factory = transcriber_factory
        self._transcriber: Transcriber | None = None
        self.options = options or SyncOptions()
        self.events = events or SyncEvents()
        self._host_slots: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(PER_HOST))
        self._host_lock = threading.Lock()
        self._started = time.monotonic()
        max_minutes = self.options.max_minutes or self.settings.max_minutes
        self._deadline = self._started + max_minutes * 60 if max_minutes else None

    def run(self) -> SyncReport:
        with write(self.db):
            run_id = store.start_run(self.db, os.getpid())
        report = SyncReport(run_id=run_id)
        status = "interrupted"
        try:
            self._sync_feeds(report)
            if self.options.media:
                worker = MediaWorker(
                    self.db,
                    self.config,
                    client=self.client,
                    transcriber=self._get_transcriber,
                    events=self.events,
                    out_of_time=self._out_of_time,
                )
                worker.run(report, self.options.max_items or self.settings.max_items)
            status = "ok" if report.ok else "partial"
        finally:
            report.seconds = time.monotonic() - self._started
            counts = {
                "feeds_checked": report.feeds_checked,
                "feeds_unchanged": report.feeds_unchanged,
                "items_new": report.items_new,
                "items_updated": report.items_updated,
                "media_done": report.media_done,
                "audio_seconds": report.audio_seconds,
                "media_failed": report.as_dict()["media_failed"],
            }
            with write(self.db):
                store.finish_run(self.db, run_id, status, counts, report.stopped_early)
        return report

    def _get_transcriber(self) -> Transcriber:
        if self._transcriber is None:  # loaded on first use: a run with no new audio never loads a model
            self._transcriber = self.transcriber_factory()
        return self._transcriber

    def _out_of_time(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    # --- feeds ------------------------------------------------------------------------------------

    def _due_feeds(self) -> list[tuple[FeedSource, dict[str, Any]]]:
        wanted = set(self.options.feeds or [])
        unknown = wanted - {feed.name for feed in self.config.feeds}
        if unknown:
            raise CatalogError(f"no feed named {', '.join(sorted(unknown))} in {self.config.path}")
        now = store.iso(store.utcnow())
        due = []
        with write(self.db):
            for source in self.config.feeds:
                if not source.enabled or (wanted and source.name not in wanted):
                    continue
                row = store.ensure_feed(self.db, source.name, self.config.feed_url(source), source.kind)
                waiting = row["disabled_reason"] or (row["next_fetch_at"] and row["next_fetch_at"] > now)
                if waiting and not self.options.force:
                    continue
                due.append((source, row))
        return due

    def _sync_feeds(self, report: SyncReport) -> None:
        due = self._due_feeds()
        self.events.feeds_started(len(due))
        if not due:
            return
        parsers = ParserPool(len(due))  # first: its processes fork before any thread exists
        with parsers, ThreadPoolExecutor(max_workers=min(FEED_WORKERS, len(due))) as fetchers:
            pending: set[Future[_Fetched]] = {fetchers.submit(self._fetch_one, source, row) for source, row in due}
            sent: dict[Future[_Fetched], _Fetched] = {}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        fetched = future.result()
                    except BrokenProcessPool:
                        parsers.broken()
                        fetched = sent[future]
                    if fetched.needs_parsing and parsers.active:
                        parsing = parsers.parse(fetched)  # on another core, while this thread writes
                        sent[parsing] = fetched
                        pending.add(parsing)
                        continue
                    self._store_fetched(self._parse(fetched), report)

    def _store_fetched(self, fetched: _Fetched, report: SyncReport) -> None:
        report.feeds_checked += 1
        unchanged = fetched.error is None and fetched.parsed is None and not fetched.failures
        if unchanged:  # the common cron case: no transaction at all
            report.feeds_unchanged += 1
            self.events.feed_done(fetched.source.name, "not modified", None)
            return
        with write(self.db):
            self._save_feed(fetched, report)

    def _fetch_one(self, source: FeedSource, row: dict[str, Any]) -> _Fetched:
        """Worker thread: network only. Parsing is CPU-bound Python, so it runs on the writer thread:
        parser threads holding the GIL would stall every row the writer steps through SQLite."""
        fetched = _Fetched(source, row["id"], row["failures"])
        url = row["url"]
        host = urlparse(url).hostname or ""
        with self._host_lock:
            slot = self._host_slots[host]
        try:
            with slot:
                fetched.response = fetch_feed(
                    self.client,
                    url,
                    etag=row["etag"],
                    last_modified=row["last_modified"],
                    max_bytes=self.settings.feed_max_bytes,
                )
        except CatalogError as exc:
            fetched.error = exc
        except Exception as exc:  # a bug or a library surprise must not end the whole run
            fetched.error = CatalogError(f"{url}: unexpected {type(exc).__name__}: {exc}")
        return fetched

    def _parse(self, fetched: _Fetched) -> _Fetched:
        return parse_fetched(fetched) if fetched.needs_parsing else fetched

    def _save_feed(self, fetched: _Fetched, report: SyncReport) -> None:
        name, feed_id = fetched.source.name, fetched.feed_id
        if fetched.error is not None:
            status = fetched.error.status if isinstance(fetched.error, HTTPStatusError) else None
            retry_after = fetched.error.retry_after if isinstance(fetched.error, HTTPStatusError) else None
            message = str(fetched.error)
            result = store.feed_failed(
                self.db,
                feed_id,
                message,
                http_status=status,
                retry_after=retry_after,
                max_attempts=self.settings.max_attempts,
                gone=status == 410,
            )
            store.record_failure(self.db, report.run_id, "fetch", message, feed_id=feed_id)
            report.failures.append((f"feed {name}", message))
            self.events.feed_done(name, result, message)
            return
        response = fetched.response
        assert response is not None
        if response.not_modified or fetched.parsed is None:
            # A 304 costs one request and no write; the run's row counts it. Only a feed that
            # was failing has state to clear.
            if fetched.failures:
                store.feed_recovered(self.db, feed_id, http_status=response.status)
            report.feeds_unchanged += 1
            self.events.feed_done(name, "not modified", None)
            return
        parsed = fetched.parsed
        counts = store.save_entries(self.db, feed_id, parsed.entries)
        store.feed_fetched(
            self.db,
            feed_id,
            result="ok" if not parsed.warning else "ok, with warnings",
            etag=response.etag,
            last_modified=response.last_modified,
            http_status=response.status,
            title=parsed.title,
            language=parsed.language,
            warning=parsed.warning,
        )
        if parsed.warning:
            store.record_failure(self.db, report.run_id, "parse", f"warning: {parsed.warning}", feed_id=feed_id)
            report.warnings.append((f"feed {name}", parsed.warning))
        report.items_new += counts["new"]
        report.items_updated += counts["updated"]
        self.events.feed_done(name, "ok", f"{counts['new']} new, {counts['updated']} updated")
