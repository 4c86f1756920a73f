"""The URL schemes catalog fetches: the web, and files (a local feed and what it names).

An rtsp://, mms:// or data: address in a feed is skipped where it is read, not queued to fail on
every sync.
"""

from __future__ import annotations

from urllib.parse import urlparse

FETCHABLE_SCHEMES = ("http", "https", "file")
WEB_SCHEMES = ("http", "https")  # what a page may link to or play: never file:, javascript: or data:


def is_fetchable(url: str) -> bool:
    try:
        return urlparse(url).scheme.lower() in FETCHABLE_SCHEMES
    except ValueError:  # "http://[::1": urlparse refuses a malformed IPv6 host
        return False


def is_web(url: str | None) -> bool:
    """An http(s) address with a host: the only kind of feed-given address a web page may link to."""
    if not url:
        return False
    try:
        parts = urlparse(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.netloc)
