"""The library API: `Catalog` ties a config, a database and an HTTP client together.

The CLI is a thin layer over this class; tests and other programs can use it directly::

    from catalog.app import Catalog
    with Catalog.open("feeds.yaml") as cat:
        report = cat.sync()
        for hit in cat.search("European peacekeepers"):
            print(hit.title, hit.start, hit.link)
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from sqlite_utils import Database

from catalog.asr.model_store import is_english_only, resolve_model
from catalog.asr.transcriber import Transcriber, WhisperTranscriber
from catalog.config import Config, load_config
from catalog.errors import ConfigError
from catalog.models import Transcript
from catalog.sources.feed_discovery import Discovery, discover_feed
from catalog.sources.feed_entries import set_enabled
from catalog.sources.http import make_client
from catalog.sources.locations import feed_url
from catalog.storage import database, leases, media_queue, reports, watches
from catalog.storage import feeds as feed_store
from catalog.storage import transcripts as transcript_store
from catalog.storage.browse import list_items
from catalog.storage.modes import find_hits, find_items, resolve_mode
from catalog.storage.search import Hit, ItemHits
from catalog.sync.events import SyncEvents
from catalog.sync.feed_admin import feed_states, remove_feed
from catalog.sync.lock import AGAIN, SyncLock
from catalog.sync.report import SyncOptions, SyncReport
from catalog.sync.run import Syncer, select_sources
from catalog.sync.watches import WatchRun, check_watches


class Catalog:
    def __init__(self, config: Config, db_path: Path, *, client: httpx.Client | None = None) -> None:
        self.config = config
        self.db_path = db_path
        self._client = client
        self._owns_client = client is None
        self._db: Database | None = None

    @classmethod
    def open(
        cls,
        config_path: Path | str = "feeds.yaml",
        db_path: Path | str | None = None,
        *,
        client: httpx.Client | None = None,
        config_must_exist: bool = True,
    ) -> Catalog:
        config = load_config(config_path, must_exist=config_must_exist)
        path = Path(db_path) if db_path else config.database_path
        return cls(config, path, client=client)

    @property
    def db(self) -> Database:
        """The catalogue for reading; a missing file is an error (reading must not create one)."""
        if self._db is None:
            self._db = database.open_existing(self.db_path)
        return self._db

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            settings = self.config.settings
            self._client = make_client(timeout=settings.timeout_seconds, user_agent=settings.user_agent)
        return self._client

    def transcriber(self) -> Transcriber:
        settings = self.config.settings
        return WhisperTranscriber(
            self.config.model_path_or_name(),
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            beam_size=settings.beam_size,
        )

    def sync(
        self,
        options: SyncOptions | None = None,
        *,
        events: SyncEvents | None = None,
        transcriber_factory: Callable[[], Transcriber] | None = None,
        lock_held: bool = False,
    ) -> SyncReport:
        """Fetch all feeds and work the media queue. Raises SyncLockedError if a sync is running.

        `lock_held=True` when the caller already holds this catalogue's `SyncLock`. The Whisper model
        is checked first (ModelError, a configuration error, when it is not here), unless the run does
        no media work, a `transcriber_factory` is given, or Whisper runs on a cluster (then a worker
        without the model returns the ModelError, which ends the run the same way).

        Then the saved searches are matched against the passages this run indexed: `report.matches`
        holds every match not yet reported; deliver them, then call `watch_reported(report.matches)`.
        """
        options = options or SyncOptions()
        select_sources(self.config, options.feeds)  # a wrong --feed is an error before anything is done
        english_only = is_english_only(self.config.settings.model)
        on_cluster = bool(options.cluster or self.config.settings.cluster)  # the model is the workers' business
        if options.media and transcriber_factory is None and not on_cluster:
            folder, _name = resolve_model(self.config.model_path_or_name())
            english_only = is_english_only(self.config.settings.model, folder)
        with nullcontext() if lock_held else SyncLock(self.db_path):
            if self._db is None:
                self._db = database.connect(self.db_path)
            syncer = Syncer(
                self._db,
                self.config,
                client=self.client,
                transcriber_factory=transcriber_factory or self.transcriber,
                options=options,
                events=events,
                english_only=english_only,
            )
            report = syncer.run()
            run = check_watches(self._db, self.client)
            report.matches = run.matches
            report.notices += run.failures
            return report

    def fetch(
        self,
        item_ids: list[int],
        *,
        events: SyncEvents | None = None,
        transcriber_factory: Callable[[], Transcriber] | None = None,
        lock_held: bool = False,
    ) -> tuple[list[dict[str, Any]], SyncReport]:
        """Download and transcribe these items now (`catalog fetch`): backlog items ('skipped') and given-up
        ones are queued again first. Runs as a sync of just these items, under the sync lock
        (SyncLockedError while a sync runs). NotFoundError for an unknown id or an item without media.

        Returns, per item, its media state `before` and now (`state`, `error`), and the run's report."""
        wanted = list(dict.fromkeys(item_ids))
        with nullcontext() if lock_held else SyncLock(self.db_path, AGAIN):
            with database.write(self.db):
                before = media_queue.queue_items(self.db, wanted)
            report = self.sync(
                SyncOptions(items=wanted), events=events, transcriber_factory=transcriber_factory, lock_held=True
            )
            after = media_queue.media_states(self.db, wanted)
        items = [
            {"item_id": item_id, "before": before[item_id], "state": after[item_id][0], "error": after[item_id][1]}
            for item_id in wanted
        ]
        return items, report

    def search(
        self,
        query: str,
        *,
        kind: str | None = None,
        feed: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 20,
        raw: bool = False,
        sort: str = "relevance",
        mode: str = "lexical",
    ) -> list[Hit]:
        """The best passages (articles, transcript moments, chapters) for `query`, best first.
        mode: lexical (bm25), semantic (by meaning), hybrid (both, fused) or auto (hybrid when the
        `semantic` extra is installed and the vectors are current, else lexical)."""
        run, _warning = resolve_mode(self.db, mode, raw=raw)
        return find_hits(
            self.db, query, mode=run, raw=raw, kind=kind, feed=feed, since=since, until=until, limit=limit, sort=sort
        )

    def search_items(
        self,
        query: str,
        *,
        kind: str | None = None,
        feed: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 20,
        raw: bool = False,
        sort: str = "relevance",
    ) -> list[ItemHits]:
        """The best items for `query`, each with its best moments (up to three)."""
        return find_items(
            self.db, query, raw=raw, kind=kind, feed=feed, since=since, until=until, limit=limit, sort=sort
        )

    def reindex_semantic(self) -> tuple[int, bool]:
        """Vectors for every passage without one, or for all again when the embedding model changed
        (then True): how many windows were embedded. Needs the `semantic` extra."""
        from catalog.embedding import load_embedder
        from catalog.storage import vectors

        embedder = load_embedder()
        with SyncLock(self.db_path, AGAIN):  # a sync embeds too: the same windows twice would double their hits
            return vectors.refresh(self.db, embedder)  # committed in groups: an interruption keeps what was done

    def items(
        self,
        *,
        kind: str | None = None,
        feed: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Items newest first, with the same filters as search."""
        return list_items(self.db, kind=kind, feed=feed, since=since, until=until, limit=limit, offset=offset)

    def item(self, item_id: int) -> dict[str, Any]:
        return reports.item_detail(self.db, item_id)

    def transcript(self, item_id: int) -> Transcript:
        return transcript_store.load_transcript(self.db, item_id)

    def status(self, *, runs: int = 5) -> dict[str, Any]:
        """Feeds (each with its `state`: active, disabled or inactive), the media queue, the last runs;
        `disabled`: the feeds feeds.yaml turns off (not fetched)."""
        report = reports.status(self.db, runs=runs)
        states = feed_states(self.config, {feed["name"]: feed["inactive_since"] for feed in report["feeds"]})
        for feed in report["feeds"]:
            feed["state"] = states[feed["name"]]
        report["disabled"] = [name for name, state in states.items() if state == "disabled"]
        return report

    def feeds(self) -> list[dict[str, Any]]:
        """The feeds of feeds.yaml (name, url fetched, kind, state: active or disabled), then those the
        catalogue has that feeds.yaml no longer lists (state inactive)."""
        config = self.config
        rows = [
            {"name": f.name, "url": feed_url(config, f), "kind": f.kind, "state": "active" if f.enabled else "disabled"}
            for f in config.feeds
        ]
        if self.db_path.is_file():
            listed = {row["name"] for row in rows}
            stored = feed_store.feed_states(self.db)
            for name, state in feed_states(self.config, stored).items():
                if name not in listed:
                    row = feed_store.find_feed(self.db, name) or {}
                    rows.append({"name": name, "url": row.get("url"), "kind": row.get("kind"), "state": state})
        return rows

    def discover_feed(self, url: str) -> Discovery:
        """The feed to add for `url`: itself when it serves a feed, else the first feed its web page links
        (<link rel="alternate">). Fetched with this catalogue's client and limits; see `feed_discovery`."""
        settings = self.config.settings
        return discover_feed(
            self.client, url, max_bytes=settings.feed_max_bytes, allow_private=settings.allow_private_networks
        )

    def remove_feed(self, name: str, *, purge: bool = False) -> dict[str, Any]:
        """Take a feed out of feeds.yaml; its items stay searchable (the feed is inactive), or with `purge`
        everything stored for it is deleted (one transaction, files after the commit). Returns what was done.
        Raises SyncLockedError (purge) while a sync runs, ConfigError for a feed that is in neither."""
        self.close_db()
        return remove_feed(self.config, self.db_path, name, purge=purge)

    def set_feed_enabled(self, name: str, enabled: bool) -> bool:
        """Set `enabled:` of a feed in feeds.yaml (comments kept); False when it was already so."""
        if self.config.path is None:
            raise ConfigError("no feeds.yaml to change", hint="pass --config PATH")
        return set_enabled(self.config.path, name, enabled)

    def retry(self, *, feed: str | None = None, item_ids: list[int] | None = None) -> tuple[int, int]:
        """Forget failures so the next sync tries again: (feeds, items) reset.

        Raises NotFoundError for a feed name or item id the catalogue does not have.
        """
        with database.write(self.db):
            return media_queue.reset_failures(self.db, feed=feed, item_ids=item_ids)

    def retranscribe(
        self,
        model: str,
        *,
        where_model: str | None = None,
        feed: str | None = None,
        since: date | None = None,
    ) -> int:
        """Queue items whose transcript Whisper made (with `where_model`, else with any model but `model`)
        to be transcribed again with `model` by the next sync, here or on its cluster; returns how many.
        Each keeps its old transcript, searchable, until the new one replaces it in one transaction.
        NotFoundError for a feed the catalogue does not have; SyncLockedError while a sync runs (its
        leases are its own)."""
        with SyncLock(self.db_path, AGAIN), database.write(self.db):
            return leases.queue_retranscription(self.db, model, where_model=where_model, feed=feed, since=since)

    def cancel_retranscription(self, *, model: str | None = None, feed: str | None = None) -> int:
        """Forget the re-transcriptions `retranscribe` queued (of `model`, of `feed`) that no sync has
        begun; their items keep their transcripts. How many. Under the sync lock, as queueing is."""
        with SyncLock(self.db_path, AGAIN), database.write(self.db):
            return leases.cancel_retranscription(self.db, model=model, feed=feed)

    def watch_add(
        self,
        query: str,
        *,
        name: str | None = None,
        feed: str | None = None,
        kind: str | None = None,
        semantic: bool = False,
        webhook: str | None = None,
    ) -> watches.Watch:
        """Save a search (named `name`, else its query); each sync reports the items it newly matches."""
        with database.write(self.db):
            return watches.add_watch(
                self.db, name or query, query, feed=feed, kind=kind, semantic=semantic, webhook=webhook
            )

    def watch_list(self) -> list[watches.Watch]:
        return watches.list_watches(self.db)

    def watch_remove(self, name: str) -> None:
        """Forget a saved search and its matches; NotFoundError when there is none of that name."""
        with database.write(self.db):
            watches.remove_watch(self.db, name)

    def watch_run(self) -> WatchRun:
        """Match the saved searches against the passages indexed since they were last checked (no sync).

        Returns the matches not yet reported (new ones, and any a crash left unreported): print them,
        then call `watch_reported`. Until then they are returned again (delivery is at-least-once).
        Webhooks are POSTed here; one that fails is tried again on the next run.
        """
        return check_watches(self.db, self.client)

    def watch_reported(self, matches: list[watches.WatchMatch]) -> None:
        """Record that `matches` (from `watch_run`, or `sync()`'s `report.matches`) were delivered."""
        with database.write(self.db):
            watches.mark_reported(self.db, [match.id for match in matches])

    def close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def close(self) -> None:
        self.close_db()
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
