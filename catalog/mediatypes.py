"""What counts as audio or video: file extensions and MIME types, in one place for every stage."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlparse

AUDIO_EXTENSIONS = frozenset({".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mpga"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi"})
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
# The extension a downloaded file gets when its URL has none we know.
SUFFIX_FOR_TYPE = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/flac": ".flac",
    "video/mp4": ".mp4",
    "video/x-m4v": ".m4v",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "video/x-matroska": ".mkv",
}


def url_suffix(url: str | None) -> str:
    """The lower-cased extension of a URL's path ('' when none), query and fragment ignored."""
    return PurePosixPath(urlparse(url or "").path).suffix.lower()


def is_media(url: str | None, media_type: str | None) -> bool:
    """Audio or video, by MIME type or else by the URL's extension."""
    kind = (media_type or "").lower()
    return kind.startswith(("audio/", "video/")) or url_suffix(url) in MEDIA_EXTENSIONS


def is_video(url: str | None, media_type: str | None) -> bool:
    """Video, by MIME type when there is one (audio/webm is audio), else by the URL's extension."""
    kind = (media_type or "").lower()
    if kind.startswith(("audio/", "video/")):
        return kind.startswith("video/")
    return url_suffix(url) in VIDEO_EXTENSIONS


def media_filename(item_id: int, url: str, media_type: str | None) -> str:
    """A file name we make ourselves: the item id plus an extension we recognise, never the feed's name."""
    suffix = url_suffix(url)
    if suffix not in MEDIA_EXTENSIONS:
        suffix = SUFFIX_FOR_TYPE.get((media_type or "").lower(), ".media")
    return f"{item_id}{suffix}"
