"""Where a feed may send catalog: a permanent move (HTTP 301/308, `itunes:new-feed-url`, `<newLocation>`)
or the next page of a paged feed (RFC 5005). Decisions only; the sync stage stores and follows them.

Addresses found inside a feed (and a redirect's Location) are the publisher's word, fetched unattended
from cron, so:
- both must be http(s), and a move never leaves https for http;
- a next page must be on the host the feed is on (same host and port; http may become https):
  paging is for the back catalogue of one feed, never a reason to visit another server; and its
  fetch is made under the feed's network policy too (a redirect to a private address is refused);
- a move may go to another host (publishers change hosts: that is what moves are), if the feed's
  network policy lets an address found in it be fetched (`catalog.sources.network_policy`: no
  loopback, private or link-local address but on the host of the feed's feeds.yaml URL), and the
  fetches from the new address are made under that policy;
- a move back to an address the feed already moved away from is a loop: it is refused, and the feed
  stays where it is instead of moving back and forth on every sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from catalog.errors import RefusedAddressError
from catalog.sources.network_policy import FeedPolicy

WEB_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


def address_key(url: str, *, scheme: bool = True) -> str:
    """A URL as compared for "the same address": host lower-case, default port dropped, no trailing '/'.

    `scheme=False` also ignores http vs https (a feed's own tags often still name its http address)."""
    parts = urlsplit(url.strip())
    query = f"?{parts.query}" if parts.query else ""
    key = f"{host_key(url)}{parts.path.rstrip('/')}{query}"
    return f"{parts.scheme.lower()}://{key}" if scheme else key


def host_key(url: str) -> str:
    """`host` or `host:port` of a URL, lower-case, without the scheme's default port."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    return host if port in (None, DEFAULT_PORTS.get(parts.scheme.lower())) else f"{host}:{port}"


def same_address(first: str, second: str, *, scheme: bool = True) -> bool:
    return address_key(first, scheme=scheme) == address_key(second, scheme=scheme)


def move_refusal(current: str, target: str, trail: Iterable[str], policy: FeedPolicy) -> str | None:
    """Why the feed at `current` must not move to `target` (None: it may).

    `trail`: the addresses this feed was at before (its feeds.yaml URL and earlier moves); `policy`: the
    feed's network policy, which the new address must pass like any other address found in a feed."""
    scheme = urlsplit(target).scheme.lower()
    if scheme not in WEB_SCHEMES:
        return f"{target} is not an http(s) address"
    if urlsplit(current).scheme.lower() == "https" and scheme == "http":
        return f"{target} would leave https for plain http"
    if any(same_address(target, earlier) for earlier in trail):
        return f"{target} is where it moved away from (a loop); staying at {current}"
    try:
        policy.vet(target, strict=False)
    except RefusedAddressError as exc:
        return str(exc)
    return None


def next_page_refusal(current: str, target: str, seen: Iterable[str]) -> str | None:
    """Why the page after `current` must not be read from `target` (None: it may).

    `seen`: the pages of this feed read in this run (a next link back to one of them is a loop)."""
    here, there = urlsplit(current), urlsplit(target)
    if there.scheme.lower() not in WEB_SCHEMES:
        return f"next page {target} is not an http(s) address"
    if here.scheme.lower() == "https" and there.scheme.lower() == "http":
        return f"next page {target} would leave https for plain http"
    if host_key(current) != host_key(target):
        return f"next page {target} is on another host than the feed (only same-host pages are read)"
    if any(same_address(target, page, scheme=False) for page in seen):
        return f"next page {target} was read already (a loop)"
    return None
