"""Chapters: Podcasting 2.0 chapters JSON (`podcast:chapters`) and Podlove Simple Chapters
(`psc:chapters`, inline in the feed): start times and titles."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from catalog.errors import TranscriptFormatError
from catalog.models import Chapter
from catalog.transcripts.timing import parse_timestamp


def parse_chapters(data: bytes) -> list[Chapter]:
    """Podcasting 2.0 chapters JSON; entries with `toc: false` are not navigation points."""
    try:
        raw: Any = json.loads(data.decode("utf-8-sig"))
        entries = [c for c in raw["chapters"] if c.get("toc", True) is not False and c.get("title")]
        chapters = [Chapter(float(c["startTime"]), str(c["title"]).strip(), c.get("endTime")) for c in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TranscriptFormatError(f"cannot read chapters: {exc}") from exc
    return _in_order(chapters)


def simple_chapters(items: list[dict[str, Any]]) -> list[Chapter]:
    """Podlove Simple Chapters as the feed parser keeps them in an entry's extra (`psc_chapters`:
    start and title as written, see catalog.sources.feed_parser). Starts are Normal Play Time
    ("00:03:07.250", "1:02:42.345", "08:26", "187.25"); a chapter without a title or a readable
    start is skipped."""
    chapters = []
    for item in items:
        title = str(item.get("title") or "").strip()
        try:
            start = parse_timestamp(str(item.get("start") or ""))
        except ValueError:
            continue
        if title and math.isfinite(start) and start >= 0:
            chapters.append(Chapter(start, title))
    return _in_order(chapters)


def _in_order(chapters: list[Chapter]) -> list[Chapter]:
    """Sorted by start, each ending where the next begins unless it says otherwise."""
    chapters.sort(key=lambda c: c.start)
    for current, following in itertools.pairwise(chapters):
        if current.end is None:
            current.end = following.start
    return chapters
