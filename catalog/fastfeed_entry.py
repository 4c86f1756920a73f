"""Element-level emulation of feedparser 6.0.x for the fast path (see catalog/fastfeed.py for the why).

Every element is named the way feedparser names it, then either reproduced (the fields feeds.build_entry reads),
walked through as harmless (feedparser handles it, but never in a way that reaches those fields), or, when
feedparser has a handler we do not reproduce, the whole document is declined. Names in comments (pop,
_start_link, _sync_author_detail...) are feedparser's, in feedparser/mixin.py and namespaces/_base.py, whose
order-dependent rules this follows step by step.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.urls import _urljoin

from catalog import feeds
from catalog.fastfeed_base import (
    AMP_REF,
    LEAF_ONLY,
    STRUCTURED_KEYS,
    Decline,
    canonical_prefix,
    check_psc,
    enforce_href,
    fix_text,
    fp_attrs,
    generic_key,
    leaf_text,
    looks_like_html,
    map_content_type,
    pop_text,
)

_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_TEXT_TYPES = {"text/plain", "text/html"}
# Keys feeds.build_entry reads from an entry (and keymap aliases of them): a generic element must not write them.
_ENTRY_READ_KEYS = STRUCTURED_KEYS | {
    "id", "guid", "link", "title", "author", "published_parsed", "updated_parsed", "issued_parsed",
    "modified_parsed", "date_parsed", "summary", "description", "summary_detail", "description_detail",
    "yt_videoid", "itunes_duration",
}  # fmt: skip
# Handler elements that never reach those keys nor the state (title depth, summary/content, author) they depend on.
_ENTRY_HARMLESS = {
    "category", "keywords", "itunes_category", "itunes_keywords", "media_category", "media_keywords", "dc_subject",
    "itunes_image", "itunes_link", "itunes_explicit", "itunes_block", "itunes_subtitle", "subtitle", "tagline",
    "rights", "copyright", "dc_rights", "info", "feedburner_browserfriendly", "media_thumbnail", "media_rating",
    "media_credit", "media_restriction", "media_license", "media_player", "psc_chapters", "psc_chapter",
    "dc_publisher", "webmaster", "language", "dc_language", "generator", "created", "dcterms_created",
    "expirationdate", "dcterms_valid", "contributor", "dc_contributor", "cc_license", "width", "height", "newlocation",
}  # fmt: skip
_ITEM_IMAGE_CHILDREN = {"url", "title", "link", "width", "height"}
_AUTHOR_PARTS = {"name": "name", "itunes_name": "name", "email": "email", "itunes_email": "email", "uri": "href",
                 "url": "href", "homepage": "href"}  # fmt: skip
_PUBLISHED = {"pubdate", "published", "issued", "dcterms_issued"}
_SUMMARIES = ("description", "dc_description", "media_description", "summary", "itunes_summary")
_UPDATED = {"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"}
_AUTHORS = {"author", "dc_author", "dc_creator", "itunes_author", "managingeditor"}


class EntryState:
    """What feedparser would hold in one entry dict, for the keys build_entry reads."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}  # pop()-stored keys: title, id, summary, author, yt_videoid, ...
        self.depths: dict[str, int] = {}  # feedparser's property_depth_map: a deeper element never overwrites
        self.link: str | None = None
        self.link_set = False
        self.published: Any = None
        self.updated: Any = None
        self.contents: list[tuple[str, str]] = []
        self.summary_type: str | None = None
        self.links: list[dict[str, str]] = []
        self.media: list[dict[str, str]] = []
        self.authors: list[dict[str, str]] = []

    def store(self, key: str, value: str, depth: int) -> None:
        old = self.depths.get(key)
        if old is None or depth <= old:
            self.depths[key] = depth
            self.values[key] = value

    def set_link(self, value: str) -> None:
        self.link, self.link_set = value, True

    def sync_author(self) -> None:
        """feedparser's _sync_author_detail(): the entry's `author` from the latest author's parts."""
        detail = self.authors[-1] if self.authors else {}
        if detail:
            name, email = detail.get("name"), detail.get("email")
            if name and email:
                self.values["author"] = f"{name} ({email})"
            elif name:
                self.values["author"] = name
            elif email:
                self.values["author"] = email
            return
        author, address = self.values.get("author"), None
        if not author:
            return
        match = _EMAIL.search(author)
        if match:
            address = match.group(0)
            author = author.replace(address, "").replace("()", "").replace("<>", "").replace("&lt;&gt;", "").strip()
            if author and author[0] == "(":
                author = author[1:]
            if author and author[-1] == ")":
                author = author[:-1]
            author = author.strip()
        if author:
            detail["name"] = author
        if address:
            detail["email"] = address

    def build(self, feed_url: str, feed_kind: str | None, language: str | None) -> feeds.Entry | None:
        candidates = [link for link in self.links if link["rel"] == "enclosure"] + self.media
        return feeds.build_entry(
            feed_url=feed_url,
            feed_kind=feed_kind,
            language=language,
            guid=self.values.get("id"),
            link=self.link,
            title=self.values.get("title"),
            author=self.values.get("author"),
            published=self.published or self.updated,
            body=feeds.body_text(self.contents, self.values.get("summary"), self.summary_type or "text/html"),
            enclosures=[(c.get("href") or c.get("url"), c.get("type"), c.get("length")) for c in candidates],
            youtube_id=self.values.get("yt_videoid"),
            duration=self.values.get("itunes_duration"),
        )


class Walker:
    """Document-wide naming and parser state (title depth, the sticky hasContent flag) plus element handlers."""

    def __init__(self, unknown_prefixes: dict[str, str]) -> None:
        self.unknown_prefixes = unknown_prefixes
        self.names: dict[str, str] = {}
        self.atom = False
        self.title_depth = -1
        self.has_content = False
        self.guid_is_link = False

    # -- naming and attributes ---------------------------------------------------------------------------------

    def name(self, element: ET.Element) -> str:
        """feedparser's element name: media_content, content_encoded, yt_videoid, pubdate, link (atom:link)..."""
        tag = element.tag
        name = self.names.get(tag)
        if name is None:
            if not isinstance(tag, str):
                raise Decline("comment or processing instruction node")
            if tag[0] != "{":
                name = tag.lower()
            else:
                uri, _, local = tag[1:].partition("}")
                canonical = canonical_prefix(uri)
                if canonical is None:
                    canonical = self.unknown_prefixes.get(uri)
                    if canonical is None:
                        raise Decline(f"element in unknown default namespace {uri}")
                name = (canonical.lower() + "_" if canonical else "") + local.lower()
            self.names[tag] = name
        return name

    @staticmethod
    def check_base(element: ET.Element) -> None:
        """xml:base (or a bare `base`, which feedparser honours too) would re-root relative links: decline."""
        for key in element.attrib:
            lowered = key.lower()
            if lowered == "base" or lowered.endswith("}base"):
                raise Decline("xml:base")

    def content_type(self, element: ET.Element, default: str) -> str:
        """push_content()'s type; only plain text and HTML (no base64 modes, no inline XHTML) are reproduced."""
        attrs = fp_attrs(element) if element.attrib else {}
        content_type: str = map_content_type(attrs.get("type", default))
        if "mode" in attrs or content_type not in _TEXT_TYPES:
            raise Decline(f"<{element.tag}> of type {content_type!r}")
        return content_type

    def title_text(self, element: ET.Element) -> str:
        self.content_type(element, "text/plain")
        return pop_text(element)

    def guid_value(self, element: ET.Element) -> str:
        self.guid_is_link = fp_attrs(element).get("ispermalink", "true") == "true"
        text = leaf_text(element).strip()
        if text and self.guid_is_link:
            text = _urljoin("", text)
        return fix_text(text)

    def link_attrs(self, element: ET.Element) -> tuple[dict[str, str], str | None]:
        """_start_link(): defaults for rel/type, url/uri folded into href, href resolved (against no base)."""
        attrs = fp_attrs(element)
        rel = attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
        enforce_href(attrs)
        if "href" not in attrs:
            return attrs, None
        attrs["href"] = _urljoin("", attrs["href"])
        return attrs, attrs["href"]

    def is_alternate(self, attrs: dict[str, str]) -> bool:
        return attrs["rel"] == "alternate" and map_content_type(attrs["type"]) in _HTML_TYPES

    # -- walking -----------------------------------------------------------------------------------------------

    def entry(self, element: ET.Element, depth: int) -> EntryState:
        """One <item>/<entry> (at `depth`), following _start_item/_end_item."""
        for key in element.attrib:
            # rdf:about and the CDF attributes set fields; xml:lang only feeds content metadata
            if (key[0] == "{" or key.lower() in ("lastmod", "href")) and key != _XML_LANG:
                raise Decline(f"attribute {key} on an item")
        state = EntryState()
        self.title_depth = -1
        self.guid_is_link = False
        self._walk(element, depth + 1, state)
        self.has_content = False
        return state

    def _walk(self, parent: ET.Element, depth: int, state: EntryState) -> None:
        """The children of `parent`, at `depth`. feedparser's entry handlers file into the entry whatever the
        nesting (a <dc:title> inside a <link> still competes for the title), so nesting only matters for depth."""
        names = self.names
        for element in parent:
            name = names.get(element.tag) or self.name(element)
            if element.attrib:
                self.check_base(element)
            handler = _FIELDS.get(name)
            if handler is not None:
                handler(self, element, name, depth, state)
            elif name in _ENTRY_HARMLESS:
                check_psc(element, name)
                if name in LEAF_ONLY:
                    leaf_text(element)
                else:
                    self._walk(element, depth + 1, state)
            else:
                key = generic_key(name)
                if key is None or key in _ENTRY_READ_KEYS:
                    raise Decline(f"<{name}> inside <{parent.tag}>")
                self._walk(element, depth + 1, state)

    # -- one handler per element that feeds an Entry field (see _FIELDS) ----------------------------------------

    def _title(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        value = self.title_text(element)
        if not -1 < self.title_depth <= depth:
            state.store("title", value, depth)
        if value and name != "media_title":  # _end_media_title restores title_depth
            self.title_depth = depth

    def _summary(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        """_start_description/_start_summary: a second summary is filed as content (until content is seen)."""
        if "summary" in state.values and not self.has_content:
            self._content(element, name, depth, state, "text/plain")
            return
        content_type = self.content_type(element, "text/html" if name.endswith("description") else "text/plain")
        value, state.summary_type = self._content_value(element, content_type)
        state.store("summary", value, depth)

    def _content(self, element: ET.Element, name: str, depth: int, state: EntryState, default: str = "") -> None:
        """_start_content/_end_content: append to the content list, copy into summary if it has none."""
        self.has_content = True
        default = default or ("text/html" if name == "content_encoded" else "text/plain")
        value, content_type = self._content_value(element, self.content_type(element, default))
        state.contents.append((value, content_type))
        state.values.setdefault("summary", value)  # _save(): no depth recorded

    def _link(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        attrs, href = self.link_attrs(element)
        state.links.append(attrs)
        if href is not None:
            if self.is_alternate(attrs):
                state.set_link(href)
            self._walk(element, depth + 1, state)
            return
        text = leaf_text(element).strip()
        value = fix_text(_urljoin("", text) if text else text).replace("&amp;", "&")
        state.set_link(AMP_REF.sub(r"&\g<1>", value))
        if state.link:
            attrs["href"] = state.link

    def _guid(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        value = self.guid_value(element)
        state.store("id", value, depth)
        if self.guid_is_link and not state.link_set:  # _end_guid: _save("link", ...)
            state.set_link(value)

    def _published(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        state.published = _parse_date(pop_text(element))

    def _updated(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        state.updated = _parse_date(pop_text(element))

    def _enclosure(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        attrs = fp_attrs(element)
        enforce_href(attrs)
        attrs["rel"] = "enclosure"
        state.links.append(attrs)
        self._walk(element, depth + 1, state)

    def _media_content(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        state.media.append(fp_attrs(element))
        self._walk(element, depth + 1, state)

    def _container(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        self._walk(element, depth + 1, state)  # media:group: "don't do anything, but don't break the enclosed tags"

    def _stored(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        if element.attrib:  # a handler-less element with attributes is stored as the attribute dict
            raise Decline(f"<{name}> with attributes")
        state.store(name, pop_text(element), depth)

    def _source(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        leaf_text(element)
        self.title_depth = -1

    def _parts(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        leaf_text(element)  # a name/email/uri outside an author: saved into a contributor, if anywhere

    def _image(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        """An item's own <image>: feedparser drops its links, but its <title> competes for the item title."""
        self.title_depth = -1
        for child in element:
            name = self.name(child)
            self.check_base(child)
            if child.tag != name or name not in _ITEM_IMAGE_CHILDREN or (name == "link" and child.attrib):
                raise Decline(f"<{child.tag}> inside an item's <image>")  # its links could reach the entry
            if name == "title":
                value = self.title_text(child)
                if not -1 < self.title_depth <= depth + 1:
                    state.store("title", value, depth + 1)
                if value:
                    self.title_depth = depth + 1
            leaf_text(child)

    def _content_value(self, element: ET.Element, content_type: str) -> tuple[str, str]:
        value = leaf_text(element).strip()
        if not self.atom and content_type == "text/plain" and looks_like_html(value):
            content_type = "text/html"  # RSS: feedparser guesses HTML in nominally plain text
        return fix_text(value), content_type

    def _author(self, element: ET.Element, name: str, depth: int, state: EntryState) -> None:
        """_start_author/_end_author, with Atom's name/email/uri parts saved as they come (_save_author)."""
        state.authors.append({})
        own = [element.text or ""]
        for child in element:
            part = _AUTHOR_PARTS.get(self.name(child))
            self.check_base(child)
            if part is None:
                raise Decline(f"<{child.tag}> inside an author")
            value = leaf_text(child).strip()
            if part == "href":
                value = fix_text(_urljoin("", value) if value else value)
            state.sync_author()
            state.authors[-1][part] = value
            own.append(child.tail or "")
        state.store("author", fix_text("".join(own).strip()), depth)
        state.sync_author()


_Handler = Callable[[Walker, ET.Element, str, int, EntryState], None]
_FIELDS: dict[str, _Handler] = {
    **dict.fromkeys(("title", "dc_title", "media_title"), Walker._title),
    **dict.fromkeys(_SUMMARIES, Walker._summary),
    **dict.fromkeys(("content", "content_encoded"), Walker._content),
    "link": Walker._link,
    **dict.fromkeys(("guid", "id"), Walker._guid),
    **dict.fromkeys(_PUBLISHED, Walker._published),
    **dict.fromkeys(_UPDATED, Walker._updated),
    **dict.fromkeys(_AUTHORS, Walker._author),
    **dict.fromkeys(_AUTHOR_PARTS, Walker._parts),
    "enclosure": Walker._enclosure,
    "media_content": Walker._media_content,
    "media_group": Walker._container,
    **dict.fromkeys(("yt_videoid", "itunes_duration"), Walker._stored),
    "source": Walker._source,
    "image": Walker._image,
}
