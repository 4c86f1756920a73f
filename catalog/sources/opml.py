"""OPML subscription lists in and out: what AntennaPod, Pocket Casts, Overcast, Apple Podcasts, Miniflux
and FreshRSS export, and what they import.

Reading is listparser's (nested category outlines, the `category` attribute, `text`/`title`); an import
adds the feeds to feeds.yaml through `subscribe.add_feeds`, the code `catalog feeds add` uses, and fetches
nothing. Writing builds the document with ElementTree, which escapes the attribute values.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import listparser

from catalog.config import FeedSource, load_config, url_key
from catalog.errors import ConfigError, OpmlError
from catalog.sources.subscribe import add_feeds, name_for, unused, url_keys
from catalog.sources.youtube import feed_url_for


def read_opml(path: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """([{title, url}] of the feeds in the file, [{title, url, reason}] of the outlines that are not feeds)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OpmlError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    parsed = listparser.parse(data)
    if not parsed.get("version"):
        raise OpmlError(f"{path}: not an OPML file (no <opml> document in it)", hint="export the list as OPML")
    found = [{"title": str(f.get("title") or ""), "url": str(f.get("url") or "").strip()} for f in parsed.feeds]
    invalid = [dict(entry, reason="no xmlUrl") for entry in _outlines_without_xml_url(data)]
    feeds = []
    for entry in found:
        problem = _address_problem(entry["url"])
        if problem:
            invalid.append(dict(entry, reason=problem))
        else:
            feeds.append(entry)
    return feeds, invalid


def _outlines_without_xml_url(data: bytes) -> list[dict[str, str]]:
    """Outlines marked as feeds (`type="rss"`/`atom`) that have no xmlUrl: listparser passes over them."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return []
    return [
        {"title": outline.get("title") or outline.get("text") or "", "url": ""}
        for outline in root.iter("outline")
        if (outline.get("type") or "").lower() in ("rss", "atom") and not (outline.get("xmlUrl") or "").strip()
    ]


def _address_problem(url: str) -> str | None:
    try:
        parsed = urlparse(url)
    except ValueError:
        return "not a valid URL"
    if parsed.scheme.lower() not in ("http", "https"):
        return "not an http(s) URL"
    return None if parsed.hostname else "no host name"


def import_opml(config_path: Path, opml_path: Path, *, dry_run: bool = False) -> dict[str, Any]:
    """Add the feeds of an OPML file to feeds.yaml (none when `dry_run`); the report of what happened.

    A feed whose URL (compared as `url_key` does, YouTube pages as their feeds) is listed already, or
    came earlier in the same file, is `already_present`. Names are made from the titles.
    """
    feeds, invalid = read_opml(opml_path)
    listed = load_config(config_path, must_exist=False).feeds
    known: dict[str, str] = {key: feed.name for feed in listed for key in url_keys(feed.url)}
    taken = {feed.name for feed in listed}
    added: list[dict[str, Any]] = []
    present: list[dict[str, str]] = []
    for entry in feeds:
        try:
            url, kind = feed_url_for(entry["url"])
        except ConfigError as exc:
            invalid.append(dict(entry, reason=str(exc)))
            continue
        keys = url_keys(url) | {url_key(entry["url"])}
        match = next((known[key] for key in keys if key in known), None)
        if match is not None:
            present.append(dict(entry, listed_as=match))
            continue
        name = unused(name_from_title(entry["title"], url), taken)
        taken.add(name)
        known.update(dict.fromkeys(keys, name))
        added.append({"name": name, "title": entry["title"], "url": url, "kind": kind})
    if added and not dry_run:
        add_feeds(config_path, [(row["name"], row["url"], row["kind"]) for row in added])
    return {"file": str(opml_path), "dry_run": dry_run, "added": added, "already_present": present, "invalid": invalid}


def name_from_title(title: str, url: str) -> str:
    """`Robert Wright's Nonzero` → `robert-wright-s-nonzero`; without a title, as `feeds add` names it."""
    slug = re.sub(r"[^\w]+", "-", title.lower(), flags=re.ASCII).strip("-_")[:40].strip("-_")
    return slug or name_for(url)


def exportable(feeds: list[FeedSource]) -> tuple[list[FeedSource], list[FeedSource]]:
    """(the feeds with an http(s) address, the local files and file: URLs an OPML reader could not use)."""
    web = [feed for feed in feeds if urlparse(feed.url).scheme.lower() in ("http", "https")]
    return web, [feed for feed in feeds if feed not in web]


def write_opml(feeds: list[FeedSource], title: str = "catalog feeds") -> str:
    """An OPML 2.0 document, one `<outline type="rss">` per feed (text and title: its name)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", text=feed.name, title=feed.name, type="rss", xmlUrl=feed.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
