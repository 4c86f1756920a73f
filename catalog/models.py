"""Plain data passed between the pipeline stages: feed entries, downloads, queue jobs, transcripts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

KINDS: tuple[str, ...] = ("article", "podcast", "video")  # what an item is


@dataclass
class Word:
    start: float
    end: float
    word: str


@dataclass
class TranscriptSegment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)


@dataclass
class Chapter:
    start: float
    title: str
    end: float | None = None


@dataclass
class Transcript:
    """A timed transcript of one item, whatever made it.

    `source` is `whisper` (with `model` naming the model), `publisher` (a transcript the feed links
    to) or `captions` (subtitles that came with a video).
    """

    segments: list[TranscriptSegment]
    source: str = "whisper"
    model: str | None = None
    language: str | None = None
    duration: float | None = None
    chapters: list[Chapter] = field(default_factory=list)
    format: str | None = None  # publisher transcripts: json, vtt, srt, html or text
    url: str | None = None  # publisher transcripts: where it came from

    @property
    def text(self) -> str:
        return " ".join(segment.text.strip() for segment in self.segments).strip()


SHARED_GUID = "#dup-"  # joins a GUID that a feed gave several different entries to each one's mark


def entry_mark(published: str | None, title: str | None, enclosure_url: str | None) -> str:
    """A short digest of the fields that tell apart the entries a feed gave one GUID (Scripting News
    reuses a post's GUID for its later versions, Taverncast an episode's for its extended cut):
    their date, title and media."""
    key = "\n".join(value or "" for value in (published, title, enclosure_url))
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def shared_guid(guid: str, mark: str) -> str:
    """The identity of one of several different entries with the same GUID in one feed document."""
    return f"{guid}{SHARED_GUID}{mark}"


@dataclass
class Entry:
    """One feed item, normalised. `guid` is unique within its feed."""

    guid: str
    kind: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    link: str | None = None
    body: str = ""
    enclosure_url: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    youtube_id: str | None = None
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def media_url(self) -> str | None:
        """What the media stage works from: the enclosure, else a YouTube watch page, else (an episode
        published as a transcript only) its first `podcast:transcript`."""
        if self.enclosure_url:
            return self.enclosure_url
        if self.youtube_id:
            return f"https://www.youtube.com/watch?v={self.youtube_id}"
        if self.kind != "article" and self.extra.get("transcripts"):
            return str(self.extra["transcripts"][0]["url"])
        return None

    @property
    def mark(self) -> str:
        """What tells this entry from another the feed gave the same GUID (see `shared_guid`)."""
        return entry_mark(self.published, self.title, self.enclosure_url)

    def content_hash(self) -> str:
        """sha256 of the JSON of every field: a changed hash marks the item as updated, so it must stay stable.

        Same bytes as hashing `asdict(self)`, without its recursive deep copy (a tenth of a cold sync's
        main-thread time); asdict is still used if `extra` ever holds anything but plain scalars.
        """
        data = {name: getattr(self, name) for name in _ENTRY_FIELDS}
        if all(isinstance(value, _PLAIN) for value in self.extra.values()):
            data["extra"] = dict(self.extra)
        else:
            data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_ENTRY_FIELDS = tuple(entry_field.name for entry_field in fields(Entry))
_PLAIN = (str, int, float, bool, type(None))


@dataclass
class ParsedFeed:
    title: str | None
    link: str | None
    language: str | None
    entries: list[Entry]
    warning: str | None = None
    next_page: str | None = None  # RFC 5005 `<atom:link rel="next">`, resolved against the feed URL
    new_url: str | None = None  # where the document says the feed moved to, resolved against the feed URL
    new_url_from: str | None = None  # which tag said so: `itunes:new-feed-url` or `newLocation`


@dataclass
class Download:
    """A media file on disk, complete (its size matched what the server promised)."""

    path: Path
    bytes: int
    sha256: str
    content_type: str
    resumed: bool = False


@dataclass
class MediaJob:
    """One item of the media queue, with what the media stage needs to work on it."""

    item_id: int
    url: str
    state: str
    kind: str
    title: str | None
    feed: str
    path: str | None
    attempts: int
    youtube_id: str | None
    language: str | None
    enclosure_type: str | None
    extra: dict[str, Any]  # the item's feed extras (transcripts, chapters, persons), parsed
    feed_title: str | None
    held_reason: str | None = None

    @property
    def transcript_only(self) -> bool:
        """An episode published as a transcript with no audio or video: its `url` is the transcript."""
        return any(t.get("url") == self.url for t in self.extra.get("transcripts") or [])
