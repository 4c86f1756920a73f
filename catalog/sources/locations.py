"""Where a feed is fetched from: an http(s) URL, a local file (as a file: URL), or a YouTube page's feed."""

from __future__ import annotations

from urllib.parse import urlparse

from catalog.config import Config, FeedSource
from catalog.sources.schemes import FETCHABLE_SCHEMES
from catalog.sources.youtube import YOUTUBE_HOSTS, feed_url_for


def feed_url(config: Config, source: FeedSource) -> str:
    """The URL to fetch: local paths become absolute file: URLs (relative to feeds.yaml), and YouTube
    channel or playlist pages their feeds (an @handle raises ConfigError explaining how to find the id)."""
    parsed = urlparse(source.url)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https") and (parsed.hostname or "").lower() in YOUTUBE_HOSTS:
        return feed_url_for(source.url)[0]
    if scheme in FETCHABLE_SCHEMES:
        return source.url
    return config.resolve(source.url).resolve().as_uri()
