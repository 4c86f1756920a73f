"""The Podcasting 2.0 HTML transcript: `<cite>Speaker:</cite> <time>m:ss</time> <p>text</p>`."""

from __future__ import annotations

import contextlib
import html
import itertools
import re

from catalog.models import TranscriptSegment
from catalog.transcripts.format import TranscriptFormat
from catalog.transcripts.timing import parse_timestamp

_TAGS = re.compile(r"</?[^>]+>")


def read(text: str) -> list[TranscriptSegment]:
    """The Podcasting 2.0 HTML format: <cite>Speaker:</cite> <time>m:ss</time> <p>text</p>."""
    segments: list[TranscriptSegment] = []
    speaker: str | None = None
    start = 0.0
    for tag, body in re.findall(r"<(cite|time|p)\b[^>]*>(.*?)</\1>", text, re.S | re.I):
        value = html.unescape(_TAGS.sub("", body)).strip()
        tag = tag.lower()
        if tag == "cite":
            speaker = value.rstrip(":").strip() or None
        elif tag == "time":
            with contextlib.suppress(ValueError):
                start = parse_timestamp(value)
        elif value:
            segments.append(TranscriptSegment(start, start, " ".join(value.split()), speaker))
    for current, following in itertools.pairwise(segments):
        current.end = max(current.start, following.start)
    return segments


FORMAT = TranscriptFormat(
    name="html",
    rank=3,
    mime_types=("text/html", "application/xhtml+xml"),
    extensions=(".html", ".htm"),
    read=read,
)
