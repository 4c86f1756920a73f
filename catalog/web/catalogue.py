"""The catalogue as the web app reads it: read-only connections, lent one request at a time.

Every page calls into `catalog.storage` (the only place with SQL), as the CLI does. Connections are
opened read-only (`open_read_only`) and kept in a pool: a search at a million segments is a few
milliseconds, and opening a connection with its memory map and cache each time would cost as much.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

from catalog.storage import driver, reports
from catalog.storage.modes import find_items, resolve_mode
from catalog.storage.playback import MediaSource, media_sources
from catalog.storage.reader import open_read_only
from catalog.storage.search import ItemHits


@dataclass
class SearchForm:
    """A search as the page's form gives it, with the same filters as `catalog search`."""

    q: str = ""
    kind: str | None = None
    feed: str | None = None
    since: date | None = None
    until: date | None = None
    sort: str = "relevance"
    mode: str = "auto"
    limit: int = 20


class Catalogue:
    def __init__(self, db_path: Path, media_dir: Path | None = None) -> None:
        self.db_path = db_path
        self.media_dir = media_dir.resolve() if media_dir else None
        self._idle: SimpleQueue[driver.Connection] = SimpleQueue()

    @contextmanager
    def connection(self) -> Iterator[driver.Connection]:
        try:
            conn = self._idle.get_nowait()
        except Empty:
            conn = open_read_only(self.db_path)
        try:
            yield conn
        finally:
            self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except Empty:
                return

    def search(self, form: SearchForm) -> tuple[list[ItemHits], dict[int, MediaSource], str | None]:
        """The items for the form's query, the media of those that have any, and a warning (or None)."""
        with self.connection() as db:
            mode, warning = resolve_mode(db, form.mode)
            items = find_items(
                db,
                form.q,
                mode=mode,
                kind=form.kind,
                feed=form.feed,
                since=form.since,
                until=form.until,
                limit=form.limit,
                sort=form.sort,
            )
            return items, media_sources(db, [item.item_id for item in items]), warning

    def item(self, item_id: int) -> tuple[dict[str, Any], MediaSource | None]:
        """One item in full (NotFoundError when there is none) and its media, if any."""
        with self.connection() as db:
            item = reports.item_detail(db, item_id)
            return item, media_sources(db, [item_id]).get(item_id)

    def status(self, runs: int = 5) -> dict[str, Any]:
        with self.connection() as db:
            return reports.status(db, runs=runs)

    def media_file(self, item_id: int) -> tuple[Path, str | None] | None:
        """The kept media file of an item and its content type, when there is one (see `kept_file`)."""
        with self.connection() as db:
            source = media_sources(db, [item_id]).get(item_id)
        path = self.kept_file(source)
        return (path, source.content_type) if path and source else None

    def kept_file(self, source: MediaSource | None) -> Path | None:
        """The media file catalog kept for `source`, when it is there and inside the media folder (the
        catalogue names its files itself; a path anywhere else is not served)."""
        if source is None or not source.path:
            return None
        path = Path(source.path).resolve()
        if self.media_dir is not None and not path.is_relative_to(self.media_dir):
            return None
        return path if path.is_file() else None
