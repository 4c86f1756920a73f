"""Podcasting 2.0 chapters JSON (`podcast:chapters`): start times and titles."""

from __future__ import annotations

import itertools
import json
from typing import Any

from catalog.errors import TranscriptFormatError
from catalog.models import Chapter


def parse_chapters(data: bytes) -> list[Chapter]:
    """Podcasting 2.0 chapters JSON; entries with `toc: false` are not navigation points."""
    try:
        raw: Any = json.loads(data.decode("utf-8-sig"))
        entries = [c for c in raw["chapters"] if c.get("toc", True) is not False and c.get("title")]
        chapters = [Chapter(float(c["startTime"]), str(c["title"]).strip(), c.get("endTime")) for c in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TranscriptFormatError(f"cannot read chapters: {exc}") from exc
    chapters.sort(key=lambda c: c.start)
    for current, following in itertools.pairwise(chapters):
        if current.end is None:
            current.end = following.start
    return chapters
