"""The feed stage of a sync: fetch every due feed, parse what changed, store new and changed items.

- Feeds are fetched on a thread pool, at most `PER_HOST` at once per host. Fetch threads do network
  only; the calling thread is the only one that writes SQLite.
- A 304, or a 200 whose body is byte for byte the last parsed one (many servers send no ETag), is
  not parsed and costs no write.
- Parsing (feedparser, CPU-bound Python) runs in worker processes when enough feeds changed to pay
  for them, so it does not hold the GIL while the writer thread steps rows through SQLite.
- A paged feed's later pages are read on its first sync only, by the writer thread just before it
  stores the feed (rare, and its next links are known only once page 1 is parsed).
- A feed that moved (HTTP 301/308, `itunes:new-feed-url`, `<newLocation>`) is fetched from its new
  address from then on, under the feed's network policy; `catalog.sources.moves` says which moves are taken.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import sys
import threading
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlite_utils import Database

from catalog.config import Config, FeedSource, Settings
from catalog.errors import CatalogError, HTTPStatusError
from catalog.models import ParsedFeed
from catalog.sources.feed_parser import parse_feed
from catalog.sources.http import FeedResponse, fetch_feed
from catalog.sources.locations import feed_url
from catalog.sources.network_policy import policy_for
from catalog.sources.paging import Pages, read_pages
from catalog.sources.podcast_ns import annotate
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage import media_queue, runs
from catalog.storage.clock import iso, utcnow
from catalog.storage.database import write
from catalog.sync.events import SyncEvents
from catalog.sync.moves import follow_move
from catalog.sync.report import SyncOptions, SyncReport

log = logging.getLogger(__name__)

PER_HOST = 4
FEED_WORKERS = 16


@dataclass
class Fetched:
    """One feed on its way through the stage: fetched, then parsed (in this process or a worker)."""

    source: FeedSource
    feed_id: int
    failures: int = 0
    url: str = ""  # where it was fetched from: feeds.yaml's URL, or where the feed moved to
    first_sync: bool = False  # never fetched successfully: a paged feed's back catalogue is read
    response: FeedResponse | None = None
    parsed: ParsedFeed | None = None
    error: CatalogError | None = None
    body_sha256: str | None = None
    same_body: bool = False  # a 200 with the bytes parsed last time
    new_validators: bool = False  # ... but with an ETag or Last-Modified to remember
    pages: Pages | None = None  # a paged feed on its first sync: the entries of every page read

    @property
    def needs_parsing(self) -> bool:
        response = self.response
        return self.error is None and self.parsed is None and not self.same_body and bool(response and response.body)


def parse_response(response: FeedResponse, kind: str | None) -> ParsedFeed:
    """A fetched document's entries plus their Podcasting 2.0 tags."""
    body = response.body or b""
    parsed = parse_feed(body, url=response.url, headers=response.headers, kind=kind)
    annotate(parsed.entries, body, response.url, kind)
    return parsed


def parse_fetched(fetched: Fetched) -> Fetched:
    """Parse a fetched document. Runs in a worker process or in-process."""
    response = fetched.response
    assert response is not None and response.body is not None
    try:
        fetched.parsed = parse_response(response, fetched.source.kind)
    except CatalogError as exc:
        fetched.error = exc
    except Exception as exc:  # a bug or a library surprise must not end the whole run
        fetched.error = CatalogError(f"{response.url}: unexpected {type(exc).__name__}: {exc}")
    # the body is not sent back from a worker process: it is large and no longer needed
    fetched.response = replace(response, body=b"", headers={})
    return fetched


class ParserPool:
    """Worker processes for parsing, one per core (up to 4), when at least `MIN_FEEDS` changed.

    One per core, not one per core but the writer's: the writer thread mostly waits on parsed feeds
    (bench/sync.py on 2 cores, 500 changed feeds: cold sync 6.6 s with one worker, 5.2 s with two).

    Linux only, with `fork`, and the workers are forked before any fetch thread starts (a fork with
    threads running can inherit a held lock). Elsewhere, or if the pool breaks (a worker killed), the
    writer thread parses, and no feed is lost.
    """

    MIN_FEEDS = 40

    def __init__(self, feeds: int) -> None:
        cores = os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self.used = False
        if feeds >= self.MIN_FEEDS and cores > 1 and sys.platform.startswith("linux"):
            workers = max(1, min(cores, 4))
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            for started in [self._pool.submit(os.getpid) for _ in range(workers)]:
                started.result()  # every worker exists before the first fetch thread does

    @property
    def active(self) -> bool:
        return self._pool is not None

    def parse(self, fetched: Fetched) -> Future[Fetched]:
        assert self._pool is not None
        self.used = True
        return self._pool.submit(parse_fetched, fetched)

    def broken(self) -> None:
        """Stop using processes (the writer thread parses from now on)."""
        if self._pool is not None:
            log.warning("a feed parser process died; parsing the rest in this process")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


class FeedStage:
    def __init__(
        self,
        db: Database,
        config: Config,
        *,
        client: httpx.Client,
        options: SyncOptions,
        events: SyncEvents,
        sources: list[FeedSource],
    ) -> None:
        self.db = db
        self.config = config
        self.settings: Settings = config.settings
        self.client = client
        self.options = options
        self.events = events
        self.sources = sources
        self._host_slots: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(PER_HOST))
        self._host_lock = threading.Lock()
        #: how many feeds the last run() sent to parser processes (0: parsed in this process)
        self.parsed_in_workers = 0

    def due(self) -> list[tuple[FeedSource, dict[str, Any]]]:
        """The selected feeds that are not backing off or given up (all of them with --force)."""
        now = iso(utcnow())
        due = []
        if not self.options.feeds:
            for source in self.config.feeds:
                if not source.enabled:
                    self.events.feed_skipped(source.name, "disabled in feeds.yaml (enabled: false)")
        with write(self.db):
            feed_store.mark_listed(self.db, [source.name for source in self.config.feeds])
            for source in self.sources:
                row = feed_store.ensure_feed(self.db, source.name, feed_url(self.config, source), source.kind)
                reason = None
                if row["disabled_reason"]:
                    reason = f"given up: {row['disabled_reason']} (`catalog retry --feed {source.name}`)"
                elif row["next_fetch_at"] and row["next_fetch_at"] > now:
                    reason = f"backing off after {row['failures']} failure(s) until {row['next_fetch_at']}"
                if reason and not self.options.force:
                    self.events.feed_skipped(source.name, reason)
                    continue
                due.append((source, row))
        return due

    def run(self, report: SyncReport) -> None:
        due = self.due()
        self.events.feeds_started(len(due))
        if not due:
            return
        parsers = ParserPool(len(due))  # first: its processes fork before any thread exists
        # Results are stored in feeds.yaml order, whatever order they arrive in, so item ids do not depend on
        # thread timing (the same feeds.yaml gives the same ids on every machine).
        ready: dict[int, Fetched] = {}
        next_to_store = 0
        with parsers, ThreadPoolExecutor(max_workers=min(FEED_WORKERS, len(due))) as fetchers:
            order: dict[Future[Fetched], int] = {
                fetchers.submit(self._fetch_one, source, row): index for index, (source, row) in enumerate(due)
            }
            pending: set[Future[Fetched]] = set(order)
            sent: dict[Future[Fetched], Fetched] = {}
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
                        order[parsing] = order[future]
                        self.parsed_in_workers += 1
                        pending.add(parsing)
                        continue
                    ready[order[future]] = fetched
                while next_to_store in ready:
                    fetched = ready.pop(next_to_store)
                    next_to_store += 1
                    if fetched.needs_parsing:
                        fetched = parse_fetched(fetched)
                    self._store(fetched, report)

    def _fetch_one(self, source: FeedSource, row: dict[str, Any]) -> Fetched:
        """Worker thread: network only."""
        url = row["moved_to"] or row["url"]
        fetched = Fetched(source, row["id"], row["failures"], url=url, first_sync=row["last_success_at"] is None)
        # A moved feed's address came from inside a feed: it is fetched under the feed's network policy.
        policy: AbstractContextManager[Any] = nullcontext()
        if row["moved_to"]:
            policy = policy_for(self.config, source.name).applied()
        host = urlparse(url).hostname or ""
        with self._host_lock:
            slot = self._host_slots[host]
        try:
            with slot, policy:
                response = fetch_feed(
                    self.client,
                    url,
                    etag=row["etag"],
                    last_modified=row["last_modified"],
                    max_bytes=self.settings.feed_max_bytes,
                )
        except CatalogError as exc:
            fetched.error = exc
            return fetched
        except Exception as exc:  # a bug or a library surprise must not end the whole run
            fetched.error = CatalogError(f"{url}: unexpected {type(exc).__name__}: {exc}")
            return fetched
        fetched.response = response
        if response.body is not None:
            fetched.body_sha256 = hashlib.sha256(response.body).hexdigest()
            if fetched.body_sha256 == row["body_sha256"]:  # the very bytes parsed last time: nothing to parse
                fetched.same_body = True
                fetched.response = replace(response, body=None, headers={})
                fetched.new_validators = bool(response.etag and response.etag != row["etag"]) or bool(
                    response.last_modified and response.last_modified != row["last_modified"]
                )
        return fetched

    def _store(self, fetched: Fetched, report: SyncReport) -> None:
        report.feeds_checked += 1
        name = fetched.source.name
        redirected = fetched.response is not None and fetched.response.moved_to is not None
        quiet = not (fetched.failures or fetched.new_validators or redirected)
        if fetched.error is None and fetched.parsed is None and quiet:
            # the common cron case (304, or the very same bytes): no transaction at all
            report.feeds_unchanged += 1
            self.events.feed_done(name, "not modified", "same content" if fetched.same_body else None)
            return
        parsed = fetched.parsed
        if parsed is not None and parsed.next_page and fetched.first_sync and self.settings.max_pages > 1:
            self._read_pages(fetched, parsed)
        with write(self.db):
            self._save(fetched, report)
            if fetched.error is None and fetched.response is not None:
                follow_move(
                    self.db,
                    self.config,
                    fetched.source.name,
                    fetched.feed_id,
                    fetched.url,
                    fetched.response,
                    fetched.parsed,
                    report=report,
                    events=self.events,
                )

    def _read_pages(self, fetched: Fetched, first: ParsedFeed) -> None:
        """Network in the writer thread, on a feed's first sync only (see the module's docstring)."""
        assert fetched.response is not None
        kind = fetched.source.kind
        max_bytes = self.settings.feed_max_bytes
        with policy_for(self.config, fetched.source.name).applied():  # next links are addresses from a feed
            fetched.pages = read_pages(
                first,
                fetched.response.url,
                fetch=lambda url: fetch_feed(self.client, url, max_bytes=max_bytes),
                parse=lambda response: parse_response(response, kind),
                max_pages=self.settings.max_pages,
            )
        if fetched.pages.stopped:
            log.info("feed %s: %s", fetched.source.name, fetched.pages.stopped)

    def _save(self, fetched: Fetched, report: SyncReport) -> None:
        name, feed_id = fetched.source.name, fetched.feed_id
        if fetched.error is not None:
            status = fetched.error.status if isinstance(fetched.error, HTTPStatusError) else None
            retry_after = fetched.error.retry_after if isinstance(fetched.error, HTTPStatusError) else None
            message = str(fetched.error)
            result = feed_store.feed_failed(
                self.db,
                feed_id,
                message,
                http_status=status,
                retry_after=retry_after,
                max_attempts=self.settings.max_attempts,
                gone=status == 410,
            )
            runs.record_failure(self.db, report.run_id, "fetch", message, feed_id=feed_id)
            report.failures.append((f"feed {name}", message))
            self.events.feed_done(name, result, message)
            return
        response = fetched.response
        assert response is not None
        if fetched.parsed is None:
            # Unchanged: a feed that was failing has state to clear; new validators for the same bytes are kept.
            if fetched.failures:
                feed_store.feed_recovered(self.db, feed_id, http_status=response.status)
            if fetched.new_validators:
                feed_store.feed_validators(self.db, feed_id, etag=response.etag, last_modified=response.last_modified)
            report.feeds_unchanged += 1
            self.events.feed_done(name, "not modified", "same content" if fetched.same_body else None)
            return
        parsed = fetched.parsed
        pages = fetched.pages
        first = not item_store.has_items(self.db, feed_id)
        counts = item_store.save_entries(self.db, feed_id, pages.entries if pages else parsed.entries)
        backlog = fetched.source.backlog if fetched.source.backlog is not None else self.settings.backlog
        skipped = media_queue.skip_backlog(self.db, feed_id, backlog) if first and backlog is not None else 0
        feed_store.feed_fetched(
            self.db,
            feed_id,
            result="ok" if not parsed.warning else "ok, with warnings",
            etag=response.etag,
            last_modified=response.last_modified,
            http_status=response.status,
            title=parsed.title,
            language=parsed.language,
            warning=parsed.warning,
            body_sha256=fetched.body_sha256,
        )
        if parsed.warning:
            runs.record_failure(self.db, report.run_id, "parse", f"warning: {parsed.warning}", feed_id=feed_id)
            report.warnings.append((f"feed {name}", parsed.warning))
        if pages and pages.problem:
            runs.record_failure(self.db, report.run_id, "fetch", f"warning: {pages.problem}", feed_id=feed_id)
            report.warnings.append((f"feed {name}", pages.problem))
        report.items_new += counts["new"]
        report.items_updated += counts["updated"]
        paged = f", from {pages.read} pages" if pages else ""
        held = f", {skipped} older not fetched (backlog: {backlog})" if skipped else ""
        self.events.feed_done(name, "ok", f"{counts['new']} new, {counts['updated']} updated{paged}{held}")
