"""The transcript formats catalog reads and writes, best first, and the functions that pick one.

Adding a format is one module with a `FORMAT` and one line in `FORMATS`.
"""

from __future__ import annotations

import re

from catalog.errors import TranscriptFormatError
from catalog.models import Transcript
from catalog.transcripts import html_page, plain_text, podcast_json, srt, vtt
from catalog.transcripts.format import TranscriptFormat

FORMATS: tuple[TranscriptFormat, ...] = tuple(
    sorted((podcast_json.FORMAT, vtt.FORMAT, srt.FORMAT, html_page.FORMAT, plain_text.FORMAT), key=lambda f: f.rank)
)
BY_NAME = {fmt.name: fmt for fmt in FORMATS}
EXPORTS = {fmt.export_name: fmt for fmt in FORMATS if fmt.export_name and fmt.write}
EXPORT_NAMES: tuple[str, ...] = tuple(EXPORTS)


def format_for(media_type: str | None, url: str = "") -> TranscriptFormat:
    """The format a `podcast:transcript` declares by MIME type, else by the URL's extension; text if neither."""
    kind = (media_type or "").lower().split(";")[0].strip()
    path = url.lower().split("?")[0].split("#")[0]
    for fmt in FORMATS:
        if kind in fmt.mime_types:
            return fmt
    for fmt in FORMATS:  # loose MIME spellings: text/x-vtt, application/x-subrip...
        if kind and fmt.name in kind.replace("subrip", "srt"):
            return fmt
    for fmt in FORMATS:
        if path.endswith(fmt.extensions):
            return fmt
    return plain_text.FORMAT


def sniff(text: str) -> TranscriptFormat:
    """The format a document's first bytes show (for files served as text/plain)."""
    head = text.lstrip()[:200]
    if head.startswith("WEBVTT"):
        return vtt.FORMAT
    if head.startswith(("{", "[")):
        return podcast_json.FORMAT
    if re.search(r"\d+:\d\d:\d\d,\d+\s*-->", head):
        return srt.FORMAT
    if head.startswith("<"):
        return html_page.FORMAT
    return plain_text.FORMAT


def parse_transcript(data: bytes, fmt: str, *, source: str = "publisher") -> Transcript:
    """Read a transcript file whose format (json, vtt, srt, html, text) is known; `text` is sniffed first."""
    text = data.decode("utf-8-sig", errors="replace")
    chosen = sniff(text) if fmt == "text" else BY_NAME.get(fmt)
    if chosen is None:
        raise TranscriptFormatError(f"unknown transcript format {fmt!r}")
    try:
        segments = chosen.read(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TranscriptFormatError(f"cannot read {chosen.name} transcript: {exc}") from exc
    if not segments:
        raise TranscriptFormatError(f"the {chosen.name} transcript has no text")
    duration = max((s.end for s in segments), default=None)
    return Transcript(segments=segments, source=source, model=None, duration=duration, format=chosen.name)


def export(transcript: Transcript, name: str) -> str:
    """The transcript written in an export format (`vtt`, `srt`, `json`, `txt`)."""
    fmt = EXPORTS.get(name)
    if fmt is None or fmt.write is None:
        raise TranscriptFormatError(f"cannot export as {name!r}", hint=f"choose one of {', '.join(EXPORT_NAMES)}")
    return fmt.write(transcript)
