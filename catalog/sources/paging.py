"""The back catalogue of a paged feed: RFC 5005 paging, `<atom:link rel="next">` from page to page.

Read on a feed's first sync only, up to `max_pages` pages (feeds.yaml); later syncs read the first
page, where new items appear. Next pages must be on the feed's own host and never one read already
(see `catalog.sources.moves.next_page_refusal`). A page that fails ends the paging, not the feed:
the items of the pages read are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalog.errors import CatalogError
from catalog.models import Entry, ParsedFeed
from catalog.sources.http import FeedResponse
from catalog.sources.moves import host_key, next_page_refusal


@dataclass
class Pages:
    """The entries of every page read, the first page's first, each GUID once (the first page's copy kept)."""

    entries: list[Entry]
    read: int = 1
    stopped: str | None = None  # the page limit was reached, with pages left
    problem: str | None = None  # a next page refused or failed: a warning


def read_pages(
    first: ParsedFeed,
    first_url: str,
    *,
    fetch: Callable[[str], FeedResponse],
    parse: Callable[[FeedResponse], ParsedFeed],
    max_pages: int,
) -> Pages:
    """Follow `first.next_page` and its successors; `first_url` is where the first page came from."""
    pages = Pages(list(first.entries))
    guids = {entry.guid for entry in pages.entries}
    seen = [first_url]
    page, url = first, first_url
    while page.next_page:
        target = page.next_page
        if pages.read >= max_pages:
            pages.stopped = f"read {pages.read} pages (max_pages); {target} and the pages after it were not read"
            break
        pages.problem = next_page_refusal(url, target, seen)
        if pages.problem:
            break
        try:
            response = fetch(target)
            if host_key(response.url) != host_key(first_url):
                pages.problem = f"next page {target} redirected to another host ({response.url}); not read"
                break
            page = parse(response)
        except CatalogError as exc:
            pages.problem = f"page {pages.read + 1} not read: {exc}"
            break
        pages.read += 1
        url = response.url
        seen += [target, url]
        for entry in page.entries:
            if entry.guid not in guids:
                guids.add(entry.guid)
                pages.entries.append(entry)
    return pages
