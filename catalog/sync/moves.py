"""Recording that a feed moved, in the sync's write transaction: which address, told how, or why not."""

from __future__ import annotations

from sqlite_utils import Database

from catalog.config import Config
from catalog.models import ParsedFeed
from catalog.sources.http import FeedResponse
from catalog.sources.moves import WEB_SCHEMES, move_refusal, same_address
from catalog.sources.network_policy import policy_for
from catalog.storage import feeds as feed_store
from catalog.storage import runs
from catalog.sync.events import SyncEvents
from catalog.sync.report import SyncReport


def follow_move(
    db: Database,
    config: Config,
    name: str,
    feed_id: int,
    url: str,
    response: FeedResponse,
    parsed: ParsedFeed | None,
    *,
    report: SyncReport,
    events: SyncEvents,
) -> str | None:
    """Record where the feed fetched from `url` moved to, if it did; returns the new address.

    Called for a fetch that succeeded. A move is the new address named by a document that parsed as a
    feed (`itunes:new-feed-url`, `<newLocation>`; not one naming the address it came from), else the
    target of permanent redirects (301/308) whose document was a feed, or the one stored before (304, same
    bytes). A move `catalog.sources.moves.move_refusal` refuses is a warning. Local files never move.
    """
    if url.split(":", 1)[0].lower() not in WEB_SCHEMES:
        return None
    candidates = []
    named = parsed.new_url if parsed is not None and parsed.new_url_from else None
    if named and not any(same_address(named, here, scheme=False) for here in (url, response.url)):
        assert parsed is not None and parsed.new_url_from is not None
        candidates.append((named, parsed.new_url_from, False))
    if response.moved_to and not same_address(response.moved_to, url):
        candidates.append((response.moved_to, f"HTTP {response.moved_status}", True))
    for target, how, redirected in candidates:
        refusal = move_refusal(url, target, feed_store.move_trail(db, feed_id), policy_for(config, name))
        if refusal:
            message = f"not following its move ({how}): {refusal}"
            runs.record_failure(db, report.run_id, "fetch", f"warning: {message}", feed_id=feed_id)
            report.warnings.append((f"feed {name}", message))
            continue
        feed_store.feed_moved(db, feed_id, from_url=url, to_url=target, how=how, same_document=redirected)
        report.notices.append(
            (
                f"feed {name}",
                f"moved to {target} ({how}); fetched from there from now on. "
                f"`catalog feeds update-moved {name}` writes the new address into feeds.yaml",
            )
        )
        events.feed_moved(name, target, how)
        return target
    return None
