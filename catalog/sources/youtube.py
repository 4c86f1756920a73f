"""YouTube addresses: video ids in feed entries, and channel, user and playlist pages turned into their feeds."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from catalog.errors import ConfigError

YOUTUBE_FEED = "https://www.youtube.com/feeds/videos.xml"
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}


def feed_url_for(url: str) -> tuple[str, str | None]:
    """(feed URL, the kind it implies). YouTube channel and playlist pages become their Atom feeds.

    Raises ConfigError explaining the way to the feed when it cannot be worked out offline
    (an @handle or custom /c/ name needs the channel id, which only the channel page has).
    """
    parsed = urlparse(url.strip())
    host = (parsed.hostname or "").lower()
    if host not in YOUTUBE_HOSTS:
        return url.strip(), None
    query = parse_qs(parsed.query)
    path = parsed.path.rstrip("/")
    if path == "/feeds/videos.xml":
        return url.strip(), "video"
    if "list" in query:
        return f"{YOUTUBE_FEED}?playlist_id={query['list'][0]}", "video"
    channel = re.match(r"^/channel/(UC[\w-]{22})", path)
    if channel:
        return f"{YOUTUBE_FEED}?channel_id={channel.group(1)}", "video"
    user = re.match(r"^/user/([\w.-]+)", path)
    if user:
        return f"{YOUTUBE_FEED}?user={user.group(1)}", "video"
    if re.match(r"^/(@[\w.-]+|c/[\w.-]+)", path):
        raise ConfigError(
            f"{url} names a channel by its handle; its feed needs the channel id (UC…), which only "
            "the channel page knows",
            hint="open the channel page, choose Share channel > Copy channel ID (or View source and find "
            '"channelId"), then: catalog feeds add https://www.youtube.com/channel/UC…  '
            "With yt-dlp and a network: yt-dlp --print channel_id --playlist-items 1 URL",
        )
    if path == "/watch" or host == "youtu.be":
        raise ConfigError(
            f"{url} is a single video, not a channel or playlist",
            hint="add the channel (https://www.youtube.com/channel/UC…) or a playlist (…/playlist?list=…)",
        )
    raise ConfigError(f"{url}: not a YouTube channel or playlist address catalog knows")


_YOUTUBE_WATCH = re.compile(
    r"^https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:.*&)?v=|shorts/)|youtu\.be/)([\w-]{11})"
)


def youtube_id_from(guid: str | None, link: str | None) -> str | None:
    """A YouTube video id from a `yt:video:ID` guid or a watch/short link."""
    if guid and guid.startswith("yt:video:"):
        return guid.removeprefix("yt:video:")
    match = _YOUTUBE_WATCH.match(link or "")
    return match.group(1) if match else None
