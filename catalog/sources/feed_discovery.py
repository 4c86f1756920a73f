"""Finding the feed of a web page (`catalog feeds add https://example.org/`): the page's
`<link rel="alternate" type="application/rss+xml" href="...">` (or `application/atom+xml`).

The address the user typed is trusted, as a URL in feeds.yaml is; the feed addresses found in the page
are not, and are checked against the network policy of that page (its own host, else public addresses
only; `allow_private_networks` lifts that), as addresses found inside a feed are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser

from catalog.errors import ConfigError, FetchError, HTTPStatusError, RefusedAddressError
from catalog.sources.http import fetch_feed
from catalog.sources.network_policy import FeedPolicy, canonical_host

FEED_TYPES = ("application/rss+xml", "application/atom+xml")
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Discovery:
    """What `feeds add` should add: `url`, and how it was found."""

    url: str
    page: str | None = None  # the web page the feed was found on (None: `url` was given, not found)
    others: list[str] = field(default_factory=list)  # further feeds the page offers, not added
    refused: list[str] = field(default_factory=list)  # feed links the page may not point at (policy)
    unchecked: str | None = None  # why the address could not be fetched: it is added as given


def is_html(content_type: str, body: bytes) -> bool:
    """A web page rather than a feed: by its Content-Type, else by how the document starts."""
    declared = content_type.split(";")[0].strip().lower()
    if declared in HTML_TYPES:
        return True
    if "xml" in declared or "rss" in declared or "atom" in declared:
        return False
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html"))


def feed_links(html: bytes, page_url: str) -> list[str]:
    """The feed addresses a page links as alternates, in document order, resolved against the page
    (or its `<base href>`), each once."""
    tree = LexborHTMLParser(html)
    base = page_url
    base_tag = tree.css_first("base[href]")
    if base_tag is not None:
        base = urljoin(page_url, (base_tag.attributes.get("href") or "").strip())
    found: list[str] = []
    for link in tree.css("link[rel][href]"):
        attributes = link.attributes
        rels = (attributes.get("rel") or "").lower().split()
        kind = (attributes.get("type") or "").split(";")[0].strip().lower()
        href = (attributes.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_TYPES and href:
            url = urljoin(base, href)
            if urlsplit(url).scheme.lower() in ("http", "https") and url not in found:
                found.append(url)
    return found


def discover_feed(client: httpx.Client, url: str, *, max_bytes: int, allow_private: bool = False) -> Discovery:
    """The feed to add for `url`: the address itself when it serves a feed (or cannot be fetched now,
    then `unchecked` says why), else the first feed its page links to.

    A page with no feed link is a ConfigError naming the URL; an HTTP error status is raised as is.
    """
    try:
        response = fetch_feed(client, url, max_bytes=max_bytes)
    except HTTPStatusError:
        raise
    except FetchError as exc:
        return Discovery(url, unchecked=str(exc))
    body = response.body or b""
    if not is_html(response.headers.get("content-type", ""), body):
        return Discovery(url)
    hosts = {canonical_host(urlsplit(address).hostname or "") for address in (url, response.url)}
    policy = FeedPolicy(frozenset(hosts), None, allow_private)
    usable, refused = [], []
    for link in feed_links(body, response.url):
        try:
            policy.vet(link, strict=False)
        except RefusedAddressError:
            refused.append(link)
        else:
            usable.append(link)
    if not usable:
        also = f" (and refused {', '.join(refused)}: not a public address)" if refused else ""
        raise ConfigError(
            f"{url} is a web page that links no RSS or Atom feed{also}",
            hint='a page names its feed with <link rel="alternate" type="application/rss+xml" href="...">; '
            "give the feed's own address",
        )
    return Discovery(usable[0], page=response.url, others=usable[1:], refused=refused)
