"""Shared primitives of the fast path: feedparser's naming tables and its text clean-up, reproduced.

See catalog/fastfeed.py for why the fast path exists; catalog/fastfeed_entry.py walks the items with these.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.util import FeedParserDict


class Decline(Exception):
    """The document holds something the fast path does not reproduce exactly; feedparser must parse it."""


# feedparser's namespace table (lower-cased URI -> its prefix; "" for the core RSS/Atom vocabularies).
KNOWN = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}


def canonical_prefix(uri: str) -> str | None:
    """feedparser's prefix for a namespace URI: "" for RSS/Atom themselves, None when it does not know it."""
    lowered = uri.lower()
    if "backend.userland.com/rss" in lowered:
        return ""
    return KNOWN.get(lowered)


# Every element name feedparser has a _start_/_end_ handler for; any other name is stored generically.
_FP_HANDLERS = {m.split("_", 2)[2] for m in dir(StrictFeedParser) if m.startswith(("_start_", "_end_"))}
_KEYMAP: dict[str, Any] = FeedParserDict.keymap
AMP_REF = re.compile("&([A-Za-z0-9_]+);")
_C1 = re.compile("[\x80-\x9f]")
# Keys feedparser's handlers keep structured data under: a handler-less element stored under one of them turns a
# list or dict into a string, and later handlers then misbehave or raise.
STRUCTURED_KEYS = {
    "authors", "author_detail", "publisher_detail", "contributors", "tags", "links", "image", "textinput", "content",
    "media_content", "media_thumbnail", "media_credit", "media_rating", "media_restriction", "media_license",
    "media_player", "psc_chapters", "cloud", "generator_detail", "source", "enclosures", "license", "where",
}  # fmt: skip
# Harmless elements accepted only without child elements: feedparser reads the first ones with push_content(),
# which renders children as markup instead of dispatching them, and int()s width/height, which raises if a
# child disturbed its element stack.
LEAF_ONLY = {"subtitle", "tagline", "rights", "copyright", "dc_rights", "info", "feedburner_browserfriendly",
             "itunes_subtitle", "width", "height"}  # fmt: skip
looks_like_html = _FeedParserMixin.looks_like_html
map_content_type = _FeedParserMixin.map_content_type


def leaf_text(element: ET.Element) -> str:
    """An element's text; one with child elements would have them dispatched as elements too, so decline."""
    if len(element):
        raise Decline(f"markup inside <{element.tag}>")
    return element.text or ""


def fix_text(text: str) -> str:
    """The end of feedparser's pop(): undo UTF-8 that was read as Latin-1, then map C1 controls to cp1252."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    if _C1.search(text):
        text = text.translate(_cp1252)
    return text


def pop_text(element: ET.Element) -> str:
    """What feedparser's pop() returns for a plain text element (not a link, not content)."""
    return fix_text(leaf_text(element).strip())


def fp_attrs(element: ET.Element) -> dict[str, str]:
    """Attributes as feedparser's handlers see them (strict.py startElementNS + _normalize_attributes).

    Names are lower-cased; a namespaced attribute is filed as `prefix:local` when feedparser knows the
    namespace, else under its bare local name, where a plain attribute of that name still wins; rel and
    type values are lower-cased.
    """
    out: dict[str, str] = {}
    for key, value in element.attrib.items():
        if key[0] == "{":
            uri, _, local = key[1:].partition("}")
            canonical = canonical_prefix(uri)
            key = canonical + ":" + local if canonical else local
        out[key.lower()] = value
    for key, value in element.attrib.items():
        if key[0] != "{":
            out[key.lower()] = value
    for key in ("rel", "type"):
        if out.get(key):
            out[key] = out[key].lower()
    return out


def generic_key(name: str) -> str | None:
    """The dict key feedparser stores a handler-less element under; None when it has a handler."""
    if name in _FP_HANDLERS:
        return None
    key = _KEYMAP.get(name, name)
    return key[0] if isinstance(key, list) else key  # type: ignore[no-any-return]


def enforce_href(attrs: dict[str, str]) -> None:
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href


def check_psc(element: ET.Element, name: str) -> None:
    # feedparser crashes (TypeError) on a Podlove chapter without a start time; leave that to it.
    if name == "psc_chapter" and not any(key.lower() == "start" for key in element.attrib):
        raise Decline("psc:chapter without start")


