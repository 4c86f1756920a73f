"""Fast path for ordinary RSS 2.0 and Atom 1.0 documents: the same answers as feedparser, ~3x sooner.

parse_feed's feedparser path spends ~13 ms on a typical 50-item, 83 KB feed, most of it in feedparser's per-element
Python SAX callbacks; this path takes ~4 ms, of which ~2 ms is the HTML-to-text step both paths share. Here the
same bytes (decoded by feedparser's own `convert_to_utf8`) go through the same C parser, expat, via ElementTree, and
a small emulation reproduces what feedparser 6.0.x stores for the few fields `feeds.build_entry` reads: its element
naming (namespace prefixes, lower-casing), its text clean-up in `pop()`, and its order-dependent quirks (first title
wins, `<guid>` doubling as link, a second summary becoming content, author e-mail parsing...).

It is an emulation, so it is deliberately narrow. Anything whose feedparser handling is not reproduced here
(a DTD or entity declaration, xml:base, RSS 1.0/0.9x or Atom 0.3, unknown handler elements, embedded XHTML, base64
content, odd namespace prefixes, parse errors, unknown encodings...) makes it decline: `parse_fast` returns None
and the caller uses feedparser. A decline costs a few milliseconds; a different answer would flip an item's
content hash and count it as updated. Why ElementTree and not lxml: it is expat, as in feedparser, so both paths
accept and reject exactly the same documents; and measured on that feed, lxml parses no faster (0.34 vs 0.30 ms)
while walking its element proxies is ~4x slower.
Security: no DTD means no entity expansion at all (billion laughs, external entities), and expat fetches nothing.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8
from feedparser.urls import _urljoin

from catalog import feeds
from catalog.fastfeed_base import (
    AMP_REF,
    KNOWN,
    LEAF_ONLY,
    STRUCTURED_KEYS,
    Decline,
    canonical_prefix,
    check_psc,
    fix_text,
    fp_attrs,
    generic_key,
    leaf_text,
    pop_text,
)
from catalog.fastfeed_entry import EntryState, Walker

# What this reproduces is feedparser 6.0.x's behaviour, read from its source; another version may differ.
_FEEDPARSER_6_0 = feedparser.__version__.startswith("6.0.")
_ATOM = "http://www.w3.org/2005/Atom"
_ATOM_FEED = "{" + _ATOM + "}feed"
_CANONICAL_PREFIXES = {prefix.lower() for prefix in KNOWN.values() if prefix} | {"xml", "xmlns"}

# Feed-level elements that never touch the feed's title, link or language, nor parser state items depend on.
_FEED_HARMLESS = {
    "category", "keywords", "itunes_category", "itunes_keywords", "itunes_image", "itunes_explicit", "itunes_block",
    "itunes_subtitle", "subtitle", "tagline", "rights", "copyright", "dc_rights", "info", "feedburner_browserfriendly",
    "itunes_owner", "itunes_name", "itunes_email", "name", "email", "uri", "url", "homepage", "author", "dc_author",
    "dc_creator", "itunes_author", "managingeditor", "webmaster", "dc_publisher", "generator", "cloud", "pubdate",
    "published", "issued", "updated", "modified", "lastbuilddate", "dc_date", "dcterms_issued", "dcterms_modified",
    "created", "dcterms_created", "expirationdate", "dcterms_valid", "media_thumbnail", "media_rating",
    "media_credit", "media_restriction", "media_license", "media_player", "media_keywords", "media_category",
    "media_content", "media_group", "enclosure", "contributor", "dc_contributor", "cc_license", "newlocation",
    "width", "height", "psc_chapters", "psc_chapter", "tags",
}  # fmt: skip
_FEED_READ_KEYS = STRUCTURED_KEYS | {"title", "link", "language", "summary", "subtitle"}
_IMAGE_CHILDREN = {"title", "url", "link", "width", "height", "description"}
_TEXTINPUT_CHILDREN = {"title", "description", "name", "link"}


def parse_fast(
    body: bytes, *, url: str, headers: dict[str, str] | None = None, kind: str | None = None
) -> feeds.ParsedFeed | None:
    """The parsed feed, or None when the document needs feedparser. Never raises: declining is always safe."""
    try:
        return parse_or_decline(body, url=url, headers=headers, kind=kind)
    except Exception:  # a Decline, or a surprise in the emulation: feedparser gives the answer
        return None


def parse_or_decline(
    body: bytes, *, url: str, headers: dict[str, str] | None = None, kind: str | None = None
) -> feeds.ParsedFeed:
    """Like parse_fast, but raises Decline (with the reason) instead of returning None. For tests and tooling.

    `headers` are the HTTP response headers, as for feeds.parse_feed: Content-Type and Content-Language decide
    the character encoding and the base language, exactly as they do for feedparser.
    """
    if not _FEEDPARSER_6_0:
        raise Decline(f"feedparser {feedparser.__version__}: the emulation follows 6.0.x")
    if not body:
        raise Decline("empty document")
    headers = feeds._headers_for(url, headers)
    scratch: dict[str, Any] = {}
    data = convert_to_utf8(headers, body, scratch)
    if not scratch.get("encoding"):
        raise Decline("character encoding unknown")
    problem = scratch.get("bozo_exception")
    if problem is not None and not isinstance(problem, feeds._BENIGN):
        raise Decline(f"encoding: {type(problem).__name__}")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Decline("DTD or entity declaration")
    events = ET.iterparse(io.BytesIO(data), events=("start-ns",))
    try:
        declarations = [prefixed for _, prefixed in events]
    except (ET.ParseError, ValueError) as exc:  # ValueError: an encoding expat cannot read
        raise Decline(f"not well-formed: {exc}") from None
    root = events.root  # type: ignore[attr-defined]
    walker = Walker(_unknown_prefixes(declarations))
    language = _root_language(root, headers)
    if root.tag == "rss":
        if fp_attrs(root).get("version") != "2.0" or len(root) != 1 or root[0].tag != "channel":
            raise Decline("not an RSS 2.0 <rss><channel> document")
        channel, depth, atom = root[0], 3, False
    elif root.tag == _ATOM_FEED:
        channel, depth, atom = root, 2, True
    else:
        raise Decline(f"root element {root.tag!r}")
    walker.atom = atom
    walker.check_base(root)
    walker.check_base(channel)
    if not atom and {"lastmod", "href"} & fp_attrs(channel).keys():
        raise Decline("CDF attributes on <channel>")  # _cdf_common would set the feed's link
    return _FeedReader(walker, url, kind, language).read(channel, depth)


def _unknown_prefixes(declarations: list[tuple[str, str]]) -> dict[str, str]:
    """Check namespace declarations against feedparser's naming rules; return {unknown URI: its prefix}.

    feedparser names an element by its namespace's canonical prefix (media_content), or, for a namespace it does
    not know, by the document's own prefix (yt_videoid), found by looking the URI up in a prefix -> URI table
    that known namespaces also write to, under their canonical prefix. That is only unambiguous when each prefix
    means one URI, each unknown URI has one prefix, no document prefix impersonates a canonical one, and no
    unknown URI's prefix is the canonical prefix of a known namespace the document also declares (rssboard's
    MRSS as media: next to Yahoo's MRSS as mrss: would make feedparser read media:content as Atom content).
    """
    by_prefix: dict[str, str] = {}
    unknown: dict[str, str] = {}
    declared_canonical: set[str] = set()
    for prefix, uri in declarations:
        if not uri:
            continue
        if len(uri.split()) != 1 or "}" in uri:  # SAX splits names at spaces, ElementTree at "}"
            raise Decline("whitespace or } in a namespace URI")
        canonical = canonical_prefix(uri)
        if canonical == "" and uri.lower() != _ATOM.lower():
            raise Decline(f"namespace {uri} (RSS 1.0/0.9x, Atom 0.3 or Userland)")
        if canonical:
            declared_canonical.add(canonical.lower())
        if not prefix:
            if canonical is None:
                raise Decline(f"unknown default namespace {uri}")
            continue
        lowered = prefix.lower()
        if by_prefix.setdefault(lowered, uri) != uri:
            raise Decline(f"prefix {prefix} bound to two namespaces")
        if canonical is None:
            if unknown.setdefault(uri, prefix) != prefix:
                raise Decline(f"two prefixes for {uri}")
        elif lowered in _CANONICAL_PREFIXES and lowered != canonical.lower():
            raise Decline(f"prefix {prefix} names another namespace in feedparser")
    for uri, prefix in unknown.items():
        if prefix.lower() in declared_canonical:
            raise Decline(f"prefix {prefix} of {uri} is also a known namespace's prefix")
    return unknown


def _root_language(root: ET.Element, headers: dict[str, str]) -> str | None:
    """Language before any <language> element: Content-Language, overridden by the root's xml:lang/lang."""
    language = None
    header = headers.get("content-language")
    if header:
        language = header.replace("_", "-")
    attrs = fp_attrs(root)
    lang = attrs.get("xml:lang", attrs.get("lang"))
    if lang:
        language = lang.replace("_", "-")
    return language


class _FeedReader:
    """Everything outside the items, as feedparser's feed-level context sees it.

    feedparser files feed-level elements into the feed dict at any depth, so <title>, <link> or <guid> inside
    an unknown container (podcast:liveItem) still count, subject to the same title-depth rule; they are
    dispatched recursively here for that reason.
    """

    def __init__(self, walker: Walker, url: str, kind: str | None, language: str | None) -> None:
        self.walker = walker
        self.url = url
        self.kind = kind
        self.title: str | None = None
        self.link: str | None = None
        self.has_link = False
        self.language = language
        self.has_summary = False  # 'summary' in feedparser's feed dict
        self.states: list[EntryState] = []

    def read(self, channel: ET.Element, depth: int) -> feeds.ParsedFeed:
        self._children(channel, depth, top=True)
        language = feeds._clean(self.language)
        entries = []
        for state in self.states:
            entry = state.build(self.url, self.kind, language)
            if entry is not None:
                entries.append(entry)
        return feeds.finish_feed(self.title, self.link, language, entries)

    def _children(self, parent: ET.Element, depth: int, top: bool) -> None:
        walker = self.walker
        names = walker.names
        for element in parent:
            name = names.get(element.tag) or walker.name(element)
            if element.attrib:
                walker.check_base(element)
            if name in ("item", "entry") and top:
                self.states.append(walker.entry(element, depth))
            elif name in ("title", "dc_title", "media_title"):
                value = walker.title_text(element)
                if not -1 < walker.title_depth <= depth:
                    self.title = value
                if value and name != "media_title":  # _end_media_title restores title_depth
                    walker.title_depth = depth
            elif name == "link":
                self._link(element, depth)
            elif name in ("language", "dc_language"):
                self.language = pop_text(element)
            elif name in ("description", "dc_description", "media_description", "summary", "itunes_summary"):
                walker.content_type(element, "text/plain")  # declines base64 and XHTML, as for items
                leaf_text(element)
                if self.has_summary and not walker.has_content:  # filed as content; items inherit the flag
                    walker.has_content = True
                elif name in ("summary", "itunes_summary"):
                    self.has_summary = True
            elif name in ("content", "content_encoded"):
                walker.content_type(element, "text/plain")
                leaf_text(element)
                walker.has_content = self.has_summary = True  # _end_content copies it into the summary
            elif name in ("id", "guid"):
                value = walker.guid_value(element)
                if walker.guid_is_link and not self.has_link:
                    self.link, self.has_link = value, True
            elif name in ("image", "textinput") and top:
                self._box(element, depth, _IMAGE_CHILDREN if name == "image" else _TEXTINPUT_CHILDREN)
            elif name in _FEED_HARMLESS or _generic_ok(generic_key(name)):
                check_psc(element, name)
                if name in LEAF_ONLY:
                    leaf_text(element)
                else:
                    self._children(element, depth + 1, top=False)
            else:
                raise Decline(f"feed-level <{name}> inside <{parent.tag}>")

    def _link(self, element: ET.Element, depth: int) -> None:
        """_start_link at feed level: an alternate HTML href, or <link> text with the `&b;=2` repair."""
        attrs, href = self.walker.link_attrs(element)
        if href is not None:
            if self.walker.is_alternate(attrs):
                self.link, self.has_link = href, True
            self._children(element, depth + 1, top=False)
            return
        text = leaf_text(element).strip()
        value = fix_text(_urljoin("", text) if text else text)
        self.link, self.has_link = AMP_REF.sub(r"&\g<1>", value), True

    def _box(self, element: ET.Element, depth: int, allowed: set[str]) -> None:
        """<image>/<textinput>: their titles and links land in their own dicts but still move title_depth."""
        walker = self.walker
        walker.title_depth = -1
        for child in element:
            name = walker.name(child)
            walker.check_base(child)
            if child.tag != name or name not in allowed:
                raise Decline(f"<{name}> inside <{element.tag}>")
            if name == "title":
                if walker.title_text(child):
                    walker.title_depth = depth + 1
            elif name == "description":
                walker.content_type(child, "text/html")
            leaf_text(child)


def _generic_ok(key: str | None) -> bool:
    return key is not None and key not in _FEED_READ_KEYS
