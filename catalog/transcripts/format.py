"""What every transcript format module declares: its name, rank, MIME types and extensions, reader and writer.

Each format lives in a module of its own (`vtt`, `srt`, `podcast_json`, `html_page`, `plain_text`) and ends with
a `FORMAT = TranscriptFormat(...)`; `catalog.transcripts.registry` lists them, best first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from catalog.models import Transcript, TranscriptSegment

# "Name: text" at the start of a cue or paragraph: up to four capitalised words, then a colon.
SPEAKER_PREFIX = re.compile(r"^([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3})\s?:\s+(.*)$", re.S)


@dataclass(frozen=True)
class TranscriptFormat:
    """`name` is what the catalogue records; `rank` orders a publisher's candidates (0 is best: it has the
    finest timing); `export_name` is the `catalog export --format` value (None: not written)."""

    name: str
    rank: int
    mime_types: tuple[str, ...]
    extensions: tuple[str, ...]
    read: Callable[[str], list[TranscriptSegment]]
    write: Callable[[Transcript], str] | None = None
    export_name: str | None = None


def split_speaker(text: str) -> tuple[str | None, str]:
    """("Name", "text") for "Name: text", else (None, text)."""
    named = SPEAKER_PREFIX.match(text)
    return (named.group(1), named.group(2).strip()) if named else (None, text)


def carry_speakers(segments: list[TranscriptSegment]) -> list[TranscriptSegment]:
    """A named speaker goes on speaking in the cues that follow until another is named."""
    current = None
    for segment in segments:
        if segment.speaker:
            current = segment.speaker
        else:
            segment.speaker = current
    return segments
