"""The URL schemes catalog fetches: the web, and files (a local feed and what it names).

An rtsp://, mms:// or data: address in a feed is skipped where it is read, not queued to fail on
every sync.
"""

from __future__ import annotations

from urllib.parse import urlparse

FETCHABLE_SCHEMES = ("http", "https", "file")


def is_fetchable(url: str) -> bool:
    try:
        return urlparse(url).scheme.lower() in FETCHABLE_SCHEMES
    except ValueError:  # "http://[::1": urlparse refuses a malformed IPv6 host
        return False
