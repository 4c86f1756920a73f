"""Parsing feed documents into normalised entries.

feedparser never raises on a broken feed; it sets `bozo`. We keep whatever parsed, pass the
warning on for `catalog status`, and only call a document a failure when nothing in it was a feed.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlparse

import feedparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from catalog.errors import FeedParseError

# feedparser flags these as bozo, but the document parsed fine.
_BENIGN = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
AUDIO_EXTENSIONS = {".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mpga"}
VIDEO_EXTENSIONS = {".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi"}


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
        """What to download for transcription: the enclosure, else a YouTube watch page."""
        if self.enclosure_url:
            return self.enclosure_url
        if self.youtube_id:
            return f"https://www.youtube.com/watch?v={self.youtube_id}"
        return None

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


def parse_feed(body: bytes, *, url: str, headers: dict[str, str] | None = None, kind: str | None = None) -> ParsedFeed:
    """Parse a feed document. Raises FeedParseError only when nothing usable is in it.

    Ordinary, well-formed RSS 2.0 and Atom 1.0 go through `catalog.fastfeed` (same results, ~3x faster);
    anything it is not certain to reproduce exactly, it declines, and feedparser parses the document.
    """
    from catalog.fastfeed import parse_fast  # imports this module: bound late to avoid the cycle

    fast = parse_fast(body, url=url, headers=headers, kind=kind)
    if fast is not None:
        return fast
    return _parse_with_feedparser(body, url, _headers_for(url, headers), kind)


def parse_feed_with_feedparser(
    body: bytes, *, url: str, headers: dict[str, str] | None = None, kind: str | None = None
) -> ParsedFeed:
    """The reference path, feedparser only: what the fast path must match (tests compare the two)."""
    return _parse_with_feedparser(body, url, _headers_for(url, headers), kind)


def _parse_with_feedparser(body: bytes, url: str, response_headers: dict[str, str], kind: str | None) -> ParsedFeed:
    # No sanitising or URI rewriting inside content HTML: we only ever reduce it to plain text
    # (html_to_text drops scripts and styles) and resolve links ourselves. It makes parsing ~4x faster.
    parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False)
    warning = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        if not isinstance(exc, _BENIGN):
            warning = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not parsed.entries and not parsed.get("version"):
        if not body.strip():
            raise FeedParseError(f"{url}: empty document, not a feed")
        raise FeedParseError(f"{url}: not a feed ({warning or 'no RSS/Atom root element'})")
    meta = parsed.feed
    language = _clean(meta.get("language"))
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw, url, kind, language)
        if entry is not None:
            entries.append(entry)
    return finish_feed(meta.get("title"), meta.get("link"), language, entries, warning)


def finish_feed(
    title: Any, link: Any, language: str | None, entries: list[Entry], warning: str | None = None
) -> ParsedFeed:
    """Shared tail of both parsers: clean the feed fields and drop repeated GUIDs."""
    # A feed may repeat a GUID; the later copy would overwrite the earlier one anyway.
    unique = {entry.guid: entry for entry in reversed(entries)}
    return ParsedFeed(
        title=_clean(title),
        link=_clean(link),
        language=language,
        entries=list(reversed(unique.values())),
        warning=warning,
    )


def _headers_for(url: str, headers: dict[str, str] | None) -> dict[str, str]:
    # No Content-Location/base: feedparser would resolve GUIDs against it, and an item's identity
    # must not change when its feed moves. Links and enclosures are resolved by _entry instead.
    return {
        key.lower(): value
        for key, value in (headers or {}).items()
        if key.lower() not in ("content-location", "content-base")
    }


def _entry(raw: Any, feed_url: str, feed_kind: str | None, language: str | None) -> Entry | None:
    candidates = list(raw.get("enclosures") or []) + list(raw.get("media_content") or [])
    return build_entry(
        feed_url=feed_url,
        feed_kind=feed_kind,
        language=language,
        guid=raw.get("id"),
        link=raw.get("link"),
        title=raw.get("title"),
        author=raw.get("author"),
        published=raw.get("published_parsed") or raw.get("updated_parsed"),
        body=_body_text(raw),
        enclosures=[(e.get("href") or e.get("url"), e.get("type"), e.get("length")) for e in candidates],
        youtube_id=raw.get("yt_videoid"),
        duration=raw.get("itunes_duration"),
    )


def build_entry(
    *,
    feed_url: str,
    feed_kind: str | None,
    language: str | None,
    guid: Any,
    link: Any,
    title: Any,
    author: Any,
    published: Any,
    body: str,
    enclosures: Iterable[tuple[Any, Any, Any]],
    youtube_id: Any,
    duration: Any,
) -> Entry | None:
    """An Entry from the raw values a parser stored for one item (both parsers call this, so they cannot drift).

    `guid`, `link`, `title`, ... are what feedparser would hold under id/link/title/...; `published` is a
    9-tuple (published_parsed, else updated_parsed); `enclosures` are (href, type, length) candidates in
    feedparser's order: enclosures first, then media:content. Returns None for an item with no identity at all.
    """
    enclosure_url, enclosure_type, enclosure_length = _enclosure(enclosures, feed_url, feed_kind)
    link = _clean(link)
    if link:
        link = urljoin(feed_url, link)
    guid = _clean(guid)
    youtube_id = _clean(youtube_id) or youtube_id_from(guid, link)
    guid = guid or link or enclosure_url
    title = _clean(html.unescape(title or ""))
    if not guid:
        if not title:
            return None
        guid = "title:" + hashlib.sha1(title.encode()).hexdigest()
    kind = infer_kind(feed_kind, enclosure_url, enclosure_type, youtube_id)
    if kind == "article":
        enclosure_url = enclosure_type = None
        enclosure_length = None
    extra: dict[str, Any] = {}
    duration = _clean(duration)
    if duration:
        extra["itunes_duration"] = duration
    return Entry(
        guid=guid,
        kind=kind,
        title=title or None,
        author=_clean(author),
        published=_iso_date(published),
        link=link,
        body=body,
        enclosure_url=enclosure_url,
        enclosure_type=enclosure_type,
        enclosure_length=enclosure_length,
        youtube_id=youtube_id,
        language=language,
        extra=extra,
    )


_YOUTUBE_WATCH = re.compile(
    r"^https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:.*&)?v=|shorts/)|youtu\.be/)([\w-]{11})"
)


def youtube_id_from(guid: str | None, link: str | None) -> str | None:
    """A YouTube video id from a `yt:video:ID` guid or a watch/short link."""
    if guid and guid.startswith("yt:video:"):
        return guid.removeprefix("yt:video:")
    match = _YOUTUBE_WATCH.match(link or "")
    return match.group(1) if match else None


def infer_kind(
    feed_kind: str | None, enclosure_url: str | None, enclosure_type: str | None, youtube_id: str | None
) -> str:
    """article/podcast/video: the feed's declared kind wins for items that carry media."""
    if feed_kind == "article":
        return "article"
    has_media = bool(enclosure_url or youtube_id)
    if not has_media:
        return "article"
    if feed_kind in ("podcast", "video"):
        return feed_kind
    if youtube_id:
        return "video"
    media_type = (enclosure_type or "").lower()
    suffix = PurePosixPath(urlparse(enclosure_url or "").path).suffix.lower()
    if media_type.startswith("video/") or suffix in VIDEO_EXTENSIONS:
        return "video"
    return "podcast"


def _enclosure(
    candidates: Iterable[tuple[Any, Any, Any]], feed_url: str, feed_kind: str | None = None
) -> tuple[str | None, str | None, int | None]:
    """The first audio/video candidate, resolved against the feed URL. In a feed declared podcast or
    video, a page (text/html) is taken when there is no media file: yt-dlp gets the media from it."""
    page: tuple[str | None, str | None, int | None] = (None, None, None)
    for href, media_type, length in candidates:
        if not href:
            continue
        media_type = (media_type or "").lower() or None
        suffix = PurePosixPath(urlparse(href).path).suffix.lower()
        is_media = (media_type or "").startswith(("audio/", "video/")) or suffix in (
            AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
        )
        if not is_media:
            if media_type == "text/html" and feed_kind in ("podcast", "video") and page[0] is None:
                page = (urljoin(feed_url, href.strip()), media_type, None)
            continue
        length = str(length or "").strip()
        return urljoin(feed_url, href.strip()), media_type, int(length) if length.isdigit() else None
    return page


def _body_text(raw: Any) -> str:
    contents = [(content.get("value"), content.get("type")) for content in raw.get("content") or []]
    detail = raw.get("summary_detail") or {}
    return body_text(contents, raw.get("summary"), detail.get("type", "text/html"))


def body_text(contents: Iterable[tuple[Any, Any]], summary: Any, summary_type: Any) -> str:
    """The fullest text the item carries: the longest content:encoded/Atom content, else the summary.

    `contents` are (value, type) pairs in document order; `summary_type` is the summary's declared type
    (text/html when there is no detail). HTML is reduced to text; plain text only loses its entities.
    """
    best: tuple[Any, Any] | None = None
    for value, content_type in contents:
        if value and (best is None or len(value) > len(best[0])):
            best = (value, content_type)
    if best is None:
        best = (summary or "", summary_type)
    value = best[0] or ""
    if "html" in (best[1] or "text/html"):
        return html_to_text(value)
    return html.unescape(value).strip()


_BLOCK_END = re.compile(r"(?i)<(br\s*/?|/p|/div|/li|/h[1-6]|/blockquote|/tr|/pre|/section|/article)>")
# Runs of spaces/tabs/NBSPs become one space. A lone " " is already that, so the pattern skips it: same output,
# but no per-word replacement (this was a third of the cost of html_to_text on article bodies).
_SPACES = re.compile(r"[ \t\r\f\v\xa0]{2,}|[\t\r\f\v\xa0]")


def html_to_text(markup: str) -> str:
    """HTML fragment to clean text: paragraphs kept as blank-line breaks, scripts and styles dropped."""
    if not markup or "<" not in markup:
        return html.unescape(markup or "").strip()
    tree = HTMLParser(_BLOCK_END.sub(_paragraph_break, markup))
    lowered = markup.lower()
    # Only markup naming one of these tags can hold an element to drop (the HTML parser lower-cases ASCII
    # tag names only); skipping the CSS query otherwise halves the cost for ordinary article bodies.
    if "script" in lowered or "style" in lowered or "iframe" in lowered:
        for node in tree.css("script, style, noscript, iframe"):
            node.decompose()
    root = tree.body or tree.root
    text = root.text(deep=True, separator="") if root is not None else ""
    # The run-of-spaces class excludes "\n", so collapsing before the split is the same as per line.
    if "  " in text or any(char in text for char in "\t\r\f\v\xa0"):
        text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _paragraph_break(match: re.Match[str]) -> str:
    return match.group(0) + "\n\n"


def _iso_date(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc).isoformat()
    except (OverflowError, ValueError, TypeError):
        return None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
