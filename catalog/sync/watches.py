"""After a sync (or `catalog watch run`): match the saved searches, and POST new matches to their webhooks.

A webhook's address is the user's own configuration, so it is trusted: the feed address policy
(`catalog.sources.network_policy`), which applies only while a feed's items are fetched, is not in
effect here. A webhook that fails (no answer, a non-2xx status) keeps its matches pending; they are
POSTed again on the next run. The body names each match's `id`: a receiver that must not act twice
on one match (a webhook answered but the run died before recording it) can tell.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx
from sqlite_utils import Database

from catalog import embedding
from catalog.storage import watches
from catalog.storage.database import write

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 10.0


@dataclass
class WatchRun:
    matches: list[watches.WatchMatch] = field(default_factory=list)  # every match not yet printed, oldest first
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, message) per webhook that failed


def check_watches(db: Database, client: httpx.Client) -> WatchRun:
    """Record the saved searches' new matches, POST the webhooks theirs, and return what is still to print.

    The caller prints `matches` and then marks them reported (`catalog.storage.watches.mark_reported`).
    """
    embedder = None
    if any(watch.semantic for watch in watches.list_watches(db)) and embedding.available():
        embedder = embedding.load_embedder()  # a saved search by meaning: its query is embedded
    with write(db):
        found = watches.check(db, embedder)
    if found:
        log.info("saved searches: %d new matches", found)
    failures = post_webhooks(db, client)
    return WatchRun(watches.unreported(db), failures)


def post_webhooks(db: Database, client: httpx.Client) -> list[tuple[str, str]]:
    """POST each saved search's pending matches to its webhook, as one JSON document; (what, message) per failure."""
    problems = []
    for watch, matches in watches.unsent(db):
        assert watch.webhook is not None
        body = {"watch": watch.name, "query": watch.query, "matches": [match.as_dict() for match in matches]}
        try:
            response = client.post(watch.webhook, json=body, timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            kept = f"{len(matches)} match{'es' if len(matches) != 1 else ''}"
            message = f"webhook {watch.webhook} failed ({exc}); {kept} kept for the next run"
            problems.append((f"saved search {watch.name}", message))
            continue
        with write(db):
            watches.mark_sent(db, [match.id for match in matches])
    return problems
