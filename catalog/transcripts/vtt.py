"""WebVTT: read with `webvtt-py`, speakers from `<v Name>` voice spans; written with voice spans."""

from __future__ import annotations

import html
import re

import webvtt

from catalog.models import Transcript, TranscriptSegment
from catalog.transcripts.cards import cues
from catalog.transcripts.format import TranscriptFormat, carry_speakers
from catalog.transcripts.timing import clock

_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>]+>")


def _seconds(stamp: webvtt.models.Timestamp) -> float:
    return stamp.hours * 3600 + stamp.minutes * 60 + stamp.seconds + stamp.milliseconds / 1000


def read(text: str) -> list[TranscriptSegment]:
    try:
        document = webvtt.from_string(text)
    except webvtt.errors.MalformedFileError as exc:
        raise ValueError(f"not WebVTT: {exc}") from exc
    segments = []
    for caption in document.captions:
        body = " ".join(caption.raw_text.split("\n"))
        voice = _VOICE.search(body)
        speaker = voice.group(1).strip() if voice else None
        clean = " ".join(html.unescape(_TAGS.sub("", body)).split())
        if clean:
            segments.append(TranscriptSegment(_seconds(caption.start_time), _seconds(caption.end_time), clean, speaker))
    return carry_speakers(segments)


def write(transcript: Transcript) -> str:
    blocks = ["WEBVTT"]
    for cue in cues(transcript, prefix_speaker=False):
        voice = f"<v {cue.speaker}>" if cue.speaker else ""
        text = "\n".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in cue.lines)
        blocks.append(f"{clock(cue.start, '.')} --> {clock(max(cue.end, cue.start), '.')}\n{voice}{text}")
    return "\n\n".join(blocks) + "\n"


FORMAT = TranscriptFormat(
    name="vtt",
    rank=1,
    mime_types=("text/vtt",),
    extensions=(".vtt",),
    read=read,
    write=write,
    export_name="vtt",
)
