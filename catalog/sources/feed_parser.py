"""Parsing feed documents into normalised entries (feedparser, through its public `parse()` only).

feedparser never raises on a broken feed; it sets `bozo`. We keep whatever parsed, pass the
warning on for `catalog status`, and only call a document a failure when nothing in it was a feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

import feedparser

from catalog.errors import FeedParseError
from catalog.mediatypes import is_media, is_video
from catalog.models import Entry, ParsedFeed, shared_guid
from catalog.sources.encoding import decode_feed
from catalog.sources.feed_dates import feedparser_handler, utc_iso
from catalog.sources.schemes import is_fetchable
from catalog.sources.text import entry_body, title_text
from catalog.sources.youtube import youtube_id_from

# feedparser flags these as bozo, but the document parsed fine.
_BENIGN = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
# Dates as feeds write them (catalog.sources.feed_dates), tried before feedparser's own handlers. Global to
# feedparser, so registered once, at import: the forked parser workers inherit it.
feedparser.registerDateHandler(feedparser_handler)


def parse_feed(body: bytes, *, url: str, headers: dict[str, str] | None = None, kind: str | None = None) -> ParsedFeed:
    """Parse a feed document with feedparser's public `parse()`: the bytes plus the response headers.

    Raises FeedParseError only when nothing usable is in it; a malformed but readable feed gives its
    entries and a `warning`.
    """
    return _parse_with_feedparser(body, url, _headers_for(url, headers), kind)


def _parse_with_feedparser(body: bytes, url: str, response_headers: dict[str, str], kind: str | None) -> ParsedFeed:
    # No sanitising or URI rewriting inside content HTML: we only ever reduce it to plain text
    # (html_to_text drops scripts and styles) and resolve links ourselves. It makes parsing ~4x faster.
    decoded = decode_feed(body, response_headers.get("content-type"))
    if decoded.content_type is not None:  # read in the detected encoding, handed over as UTF-8
        response_headers = {**response_headers, "content-type": decoded.content_type}
    try:
        parsed = feedparser.parse(
            decoded.body, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as failure:  # feedparser's own bugs on hostile input (KeyError, surrogates)
        raise FeedParseError(f"{url}: the feed parser failed on it ({type(failure).__name__}: {failure})") from failure
    warning = decoded.warning
    exc = parsed.get("bozo_exception")
    loose = bool(parsed.get("bozo")) and not isinstance(exc, _BENIGN)  # not well-formed: the loose parser read it
    if loose and warning is None:
        warning = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not parsed.entries and not parsed.get("version"):
        if not body.strip():
            raise FeedParseError(f"{url}: empty document, not a feed")
        raise FeedParseError(f"{url}: not a feed ({warning or 'no RSS/Atom root element'})")
    meta = parsed.feed
    language = _clean(meta.get("language"))
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw, url, kind, language, loose=loose)
        if entry is not None:
            entries.append(entry)
    feed = _finish_feed(meta.get("title"), meta.get("link"), language, entries, warning)
    feed.next_page, feed.new_url, feed.new_url_from = feed_addresses(meta, url)
    return feed


def feed_addresses(meta: Any, url: str) -> tuple[str | None, str | None, str | None]:
    """(the next page, the new address, the tag that gave it) that a feed document's head declares.

    The next page is RFC 5005 paging, `<atom:link rel="next">`; the new address `<itunes:new-feed-url>`,
    else `<redirect><newLocation>`. Both resolved against `url`; whether to follow them is not decided here.
    """
    next_page = next(
        (
            joined
            for link in meta.get("links") or []
            if link.get("rel") == "next" and (href := _clean(link.get("href"))) and (joined := _join(url, href))
        ),
        None,
    )
    for key, tag in (("itunes_new-feed-url", "itunes:new-feed-url"), ("newlocation", "newLocation")):
        new_url = _clean(meta.get(key))
        if new_url:
            joined = _join(url, new_url)
            if joined:
                return next_page, joined, tag
    return next_page, None, None


def _finish_feed(
    title: Any, link: Any, language: str | None, entries: list[Entry], warning: str | None = None
) -> ParsedFeed:
    """Clean the feed fields and give entries that share a GUID identities of their own."""
    return ParsedFeed(
        title=_clean(title), link=_clean(link), language=language, entries=distinct_guids(entries), warning=warning
    )


def distinct_guids(entries: list[Entry]) -> list[Entry]:
    """Each entry with an identity of its own. A GUID repeated for the same entry (same date, title
    and media) is one entry, its first copy kept. A GUID given to different entries is kept for
    each, as `shared_guid(guid, mark)`: stable across syncs while the entries stay as they are (the
    store also matches them to an item saved under the bare GUID, see catalog.storage.items)."""
    marks: dict[str, set[str]] = {}
    for entry in entries:
        marks.setdefault(entry.guid, set()).add(entry.mark)
    out: dict[str, Entry] = {}
    for entry in entries:
        if len(marks[entry.guid]) > 1:
            entry = replace(entry, guid=shared_guid(entry.guid, entry.mark))
        out.setdefault(entry.guid, entry)
    return list(out.values())


def _headers_for(url: str, headers: dict[str, str] | None) -> dict[str, str]:
    # No Content-Location/base: feedparser would resolve GUIDs against it, and an item's identity
    # must not change when its feed moves. Links and enclosures are resolved by _entry instead.
    return {
        key.lower(): value
        for key, value in (headers or {}).items()
        if key.lower() not in ("content-location", "content-base")
    }


def _entry(
    raw: Any, feed_url: str, feed_kind: str | None, language: str | None, *, loose: bool = False
) -> Entry | None:
    """`loose`: the document was not well-formed XML, so feedparser's loose parser read it, and it
    writes every `&` in an id as `&amp;`: undone, so an item keeps its GUID when its feed breaks."""
    candidates = list(raw.get("enclosures") or []) + list(raw.get("media_content") or [])
    published = raw.get("published_parsed")
    return _build_entry(
        feed_url=feed_url,
        feed_kind=feed_kind,
        language=language,
        guid=str(raw["id"]).replace("&amp;", "&") if loose and raw.get("id") else raw.get("id"),
        link=raw.get("link"),
        title=raw.get("title"),
        author=raw.get("author"),
        published=published if utc_iso(published) else raw.get("updated_parsed"),  # unreadable: the updated date
        body=entry_body(raw),
        enclosures=[(e.get("href") or e.get("url"), e.get("type"), e.get("length")) for e in candidates],
        youtube_id=raw.get("yt_videoid"),
        duration=raw.get("itunes_duration"),
        simple_chapters=(raw.get("psc_chapters") or {}).get("chapters"),
    )


def _build_entry(
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
    simple_chapters: Any = None,
) -> Entry | None:
    """An Entry from the raw values a parser stored for one item .

    `guid`, `link`, `title`, ... are what feedparser would hold under id/link/title/...; `published` is a
    9-tuple (published_parsed, else updated_parsed); `enclosures` are (href, type, length) candidates in
    feedparser's order: enclosures first, then media:content. Returns None for an item with no identity at all.
    """
    enclosure_url, enclosure_type, enclosure_length = _enclosure(enclosures, feed_url, feed_kind)
    link = _clean(link)
    if link:
        link = _join(feed_url, link)
    guid = _clean(guid)
    youtube_id = _clean(youtube_id) or youtube_id_from(guid, link)
    guid = guid or link or enclosure_url
    title = title_text(title)
    if not guid:
        if not title:
            return None
        guid = "title:" + hashlib.sha1(title.encode()).hexdigest()
    kind = infer_kind(feed_kind, enclosure_url, enclosure_type, youtube_id)
    extra: dict[str, Any] = {}
    duration = _clean(duration)
    if duration:
        extra["itunes_duration"] = duration
    chapters = [
        {"start": _clean(chapter.get("start")), "title": _clean(chapter.get("title"))}
        for chapter in simple_chapters or []
        if _clean(chapter.get("start")) and _clean(chapter.get("title"))
    ]
    if chapters:  # Podlove Simple Chapters as written (catalog.transcripts.chapters reads their times)
        extra["psc_chapters"] = chapters
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


def infer_kind(
    feed_kind: str | None, enclosure_url: str | None, enclosure_type: str | None, youtube_id: str | None
) -> str:
    """article/podcast/video. A feed declared `kind:` in feeds.yaml gets that kind for its items that
    carry media (an article feed's items stay articles, their enclosures kept but not transcribed).
    Otherwise an item with no media is an article; one with media is what its MIME type says
    (audio/webm is a podcast episode), else video for a YouTube id or a video extension, else podcast."""
    if feed_kind == "article" or not (enclosure_url or youtube_id):
        return "article"
    if feed_kind in ("podcast", "video"):
        return feed_kind
    if youtube_id:
        return "video"
    return "video" if is_video(enclosure_url, enclosure_type) else "podcast"


def _enclosure(
    candidates: Iterable[tuple[Any, Any, Any]], feed_url: str, feed_kind: str | None = None
) -> tuple[str | None, str | None, int | None]:
    """The first audio/video candidate, resolved against the feed URL. In a feed declared podcast or
    video, a page (text/html) is taken when there is no media file: yt-dlp gets the media from it."""
    page: tuple[str | None, str | None, int | None] = (None, None, None)
    for href, media_type, length in candidates:
        url = _join(feed_url, str(href or "").strip())
        if not url or not is_fetchable(url):
            continue  # rtsp://, mms://, data:... nothing we can download
        media_type = (media_type or "").lower() or None
        if not is_media(href, media_type):
            if media_type == "text/html" and feed_kind in ("podcast", "video") and page[0] is None:
                page = (url, media_type, None)
            continue
        length = str(length or "").strip()
        return url, media_type, int(length) if length.isdecimal() else None
    return page


def _iso_date(parsed: Any) -> str | None:
    return utc_iso(parsed)


def _join(base: str, href: str) -> str | None:
    """`href` resolved against `base`; None for an address that is not one ("http://[::1")."""
    if not href:
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
