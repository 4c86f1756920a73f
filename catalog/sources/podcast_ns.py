"""The Podcasting 2.0 namespace (`podcast:transcript`, `podcast:chapters`, `podcast:person`), read
from the raw feed XML.

feedparser keeps only one `podcast:transcript` per item and drops the text of other `podcast:`
tags, so we read the namespace ourselves: with ElementTree when the document is well-formed,
else with a tag scanner that survives the broken feeds real publishers serve.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urljoin

from catalog.models import Entry

# Publishers declare it as https://podcastindex.org/namespace/1.0 or by its GitHub docs URL.
NAMESPACE_HINT = "podcastindex"


def annotate(entries: list[Entry], body: bytes, feed_url: str, feed_kind: str | None = None) -> None:
    """Add `transcripts`, `chapters` and `persons` from the podcast namespace to entries' `extra`.

    An item with a `podcast:transcript` and no media is a podcast episode whose transcript is all
    there is to index (unless its feed is declared `kind: article`): its kind becomes podcast, and
    the media stage fetches the transcript (see `Entry.media_url`)."""
    if not any(tag in body for tag in (b":transcript", b":chapters", b":person")):
        return
    channel_persons, items = _read(body)
    by_key: dict[str, dict[str, Any]] = {}
    for item in items:
        for key in item.pop("keys"):
            by_key.setdefault(key, item)
            by_key.setdefault(urljoin(feed_url, key), item)  # entries carry links made absolute
    for entry in entries:
        found = next(
            (by_key[key] for key in (entry.guid, entry.link, entry.enclosure_url) if key and key in by_key), None
        )
        persons = (found or {}).get("persons", []) or channel_persons
        if persons:
            entry.extra["persons"] = persons
        if not found:
            continue
        transcripts = [{**t, "url": urljoin(feed_url, t["url"])} for t in found.get("transcripts", []) if t.get("url")]
        if transcripts:  # in document order; catalog.transcripts.publisher ranks them
            entry.extra["transcripts"] = transcripts
            if entry.kind == "article" and feed_kind != "article" and not entry.media_url:
                entry.kind = "podcast"
        chapters = found.get("chapters")
        if chapters and chapters.get("url"):
            entry.extra["chapters"] = {**chapters, "url": urljoin(feed_url, chapters["url"])}


def _read(body: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return _scan(body.decode("utf-8", errors="replace"))
    channel = root.find("channel")
    if channel is None:
        return [], []
    channel_persons = [_text(p) for p in channel if _is_podcast(p.tag, "person") and _text(p)]
    items = []
    for item in channel.iter("item"):
        info: dict[str, Any] = {"keys": [], "transcripts": [], "persons": []}
        for child in item:
            tag = child.tag
            if tag in ("guid", "link") and _text(child):
                info["keys"].append(_text(child))
            elif tag == "enclosure" and child.get("url"):
                info["keys"].append(child.get("url", "").strip())
            elif _is_podcast(tag, "transcript"):
                info["transcripts"].append(dict(child.attrib))
            elif _is_podcast(tag, "chapters"):
                info["chapters"] = dict(child.attrib)
            elif _is_podcast(tag, "person") and _text(child):
                info["persons"].append(_text(child))
        items.append(info)
    return channel_persons, items


def _is_podcast(tag: str, name: str) -> bool:
    return tag.endswith("}" + name) and NAMESPACE_HINT in tag.lower()


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


# --- the scanner for documents ElementTree refuses ----------------------------------------------

_ATTR = re.compile(r'([\w:-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _scan(text: str) -> tuple[list[str], list[dict[str, Any]]]:
    prefix = _prefix(text)
    item_re = re.compile(r"<item[\s>].*?</item>", re.S)
    first_item = item_re.search(text)
    head = text[: first_item.start()] if first_item else text
    channel_persons = _persons(head, prefix)
    items = []
    for match in item_re.finditer(text):
        block = match.group(0)
        info: dict[str, Any] = {"keys": [], "transcripts": [], "persons": _persons(block, prefix)}
        for tag in ("guid", "link"):
            found = re.search(rf"<{tag}[^>]*>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</{tag}>", block, re.S)
            if found and found.group(1).strip():
                info["keys"].append(html.unescape(found.group(1).strip()))
        enclosure = re.search(r"<enclosure\b([^>]*)>", block)
        if enclosure and (url := _attrs(enclosure.group(1)).get("url")):
            info["keys"].append(url.strip())
        for found_tag in re.finditer(rf"<{prefix}:transcript\b([^>]*)>", block):
            info["transcripts"].append(_attrs(found_tag.group(1)))
        chapters = re.search(rf"<{prefix}:chapters\b([^>]*)>", block)
        if chapters:
            info["chapters"] = _attrs(chapters.group(1))
        items.append(info)
    return channel_persons, items


def _prefix(text: str) -> str:
    declared = re.search(rf'xmlns:(\w+)\s*=\s*["\'][^"\']*{NAMESPACE_HINT}', text, re.I)
    return declared.group(1) if declared else "podcast"


def _persons(block: str, prefix: str) -> list[str]:
    return [
        html.unescape(name.strip())
        for name in re.findall(rf"<{prefix}:person\b[^>]*>([^<]*)</{prefix}:person>", block)
        if name.strip()
    ]


def _attrs(text: str) -> dict[str, str]:
    return {name: html.unescape(a if a else b) for name, a, b in _ATTR.findall(text)}
