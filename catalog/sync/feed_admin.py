"""Removing a feed (`catalog feeds remove [--purge]`), and the state each feed is in (active, disabled, inactive).

A feed removed from feeds.yaml is kept in the catalogue as *inactive*: its items stay searchable, it is
no longer fetched nor reported as failing. `--purge` deletes it and everything stored for it instead:
the rows in one transaction (under the sync lock, so no sync is writing that feed meanwhile), then,
after the commit, its files (media, transcript sidecars, and its media folder when left empty).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from catalog.config import Config
from catalog.errors import ConfigError
from catalog.files import safe_name
from catalog.sources.feed_entries import remove_entry
from catalog.storage import database
from catalog.storage import feeds as feed_store
from catalog.storage.purge import purge_feed
from catalog.sync.lock import AGAIN, SyncLock
from catalog.transcripts.sidecar import sidecar_path

log = logging.getLogger(__name__)


def remove_feed(config: Config, db_path: Path, name: str, *, purge: bool = False) -> dict[str, Any]:
    """Take the feed `name` out of feeds.yaml; mark it inactive in the catalogue, or with `purge` delete it.

    A feed that is in the catalogue but no longer in feeds.yaml can still be purged. Anything else that
    is not in feeds.yaml is a ConfigError listing the feeds there are.
    """
    if config.path is None:
        raise ConfigError("no feeds.yaml to remove a feed from", hint="pass --config PATH")
    listed = any(feed.name == name for feed in config.feeds)
    stored = _stored_feed_id(db_path, name)
    if not listed and not (purge and stored is not None):
        names = ", ".join(feed.name for feed in config.feeds) or "none"
        hint = f"the feeds are: {names}" + ("" if stored is None else f"; {name!r} is in the catalogue: add --purge")
        raise ConfigError(f"no feed named {name!r} in {config.path}", hint=hint)
    report: dict[str, Any] = {"feed": name, "removed_from_config": listed, "purged": purge, "items": 0}
    if not purge:
        if listed:
            remove_entry(config.path, name)
        if stored is not None:
            db = database.connect(db_path)
            try:
                with database.write(db):
                    feed_store.mark_inactive(db, name)
                report["items"] = (feed_store.find_feed(db, name) or {"items": 0})["items"]
            finally:
                db.close()
        report["inactive"] = stored is not None
        return report
    with SyncLock(db_path, AGAIN):  # no sync writes this feed while it is deleted
        counts: dict[str, Any] = {"items": 0, "transcripts": 0, "passages": 0, "watch_matches": 0, "media_paths": []}
        if stored is not None:
            db = database.connect(db_path)
            try:
                with database.write(db):
                    counts = purge_feed(db, stored)
            finally:
                db.close()
        if listed:  # after the commit: a purge that fails leaves feeds.yaml as it was, to try again
            remove_entry(config.path, name)
    paths = [Path(path) for path in counts.pop("media_paths")]
    report.update(counts)
    report["files"] = [str(path) for path in _delete_files(paths, config.media_dir / safe_name(name))]
    return report


def _stored_feed_id(db_path: Path, name: str) -> int | None:
    if not db_path.is_file():
        return None
    db = database.connect(db_path)
    try:
        row = feed_store.find_feed(db, name)
    finally:
        db.close()
    return int(row["id"]) if row else None


def _delete_files(media: list[Path], folder: Path) -> list[Path]:
    """Delete each media file and its transcript sidecar; then the feed's media folder if it is empty.
    Returns the files deleted. A file that cannot be deleted is logged, not fatal: the rows are gone."""
    deleted = []
    for path in media:
        for file in (path, sidecar_path(path)):
            try:
                file.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("could not delete %s: %s", file, exc)
                continue
            deleted.append(file)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty
    return deleted


def feed_states(config: Config, stored: dict[str, str | None]) -> dict[str, str]:
    """Every feed by name, in feeds.yaml then the catalogue: `active`, `disabled` (enabled: false) or
    `inactive` (in the catalogue, no longer in feeds.yaml). `stored`: name -> inactive_since."""
    states = {feed.name: "active" if feed.enabled else "disabled" for feed in config.feeds}
    for name, inactive_since in stored.items():
        if name not in states:  # without a feeds.yaml to compare, only what the catalogue recorded
            states[name] = "inactive" if inactive_since or config.path is not None else "active"
    return states
