"""Plain text transcripts: paragraphs, "Name: " in front when the speaker is known; no times."""

from __future__ import annotations

import re

from catalog.models import Transcript, TranscriptSegment
from catalog.transcripts.format import TranscriptFormat, split_speaker


def read(text: str) -> list[TranscriptSegment]:
    """Plain text has no times: one segment per paragraph, all at 0 (found, but not placed)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    segments = []
    for paragraph in paragraphs:
        speaker, body = split_speaker(paragraph)
        segments.append(TranscriptSegment(0.0, 0.0, body, speaker))
    return segments


def write(transcript: Transcript) -> str:
    """Paragraphs by speaker turn, "Name: " in front when the speaker is known."""
    paragraphs: list[str] = []
    previous: object = object()
    for segment in transcript.segments:
        text = segment.text.strip()
        if not text:
            continue
        if segment.speaker != previous or not paragraphs:
            paragraphs.append(f"{segment.speaker}: {text}" if segment.speaker else text)
            previous = segment.speaker
        else:
            paragraphs[-1] += " " + text
    return "\n\n".join(paragraphs) + "\n"


FORMAT = TranscriptFormat(
    name="text",
    rank=4,
    mime_types=("text/plain",),
    extensions=(".txt",),
    read=read,
    write=write,
    export_name="txt",
)
