"""SubRip (.srt): read with the `srt` library; "Name: " in front of a cue names its speaker."""

from __future__ import annotations

import html
import re

import srt as srt_lib

from catalog.models import Transcript, TranscriptSegment
from catalog.transcripts.cards import cues
from catalog.transcripts.format import TranscriptFormat, carry_speakers, split_speaker
from catalog.transcripts.timing import clock

_TAGS = re.compile(r"</?[^>]+>")


def read(text: str) -> list[TranscriptSegment]:
    segments = []
    try:
        for cue in srt_lib.parse(text):
            body = html.unescape(_TAGS.sub("", " ".join(line.strip() for line in cue.content.splitlines()))).strip()
            speaker, body = split_speaker(body)
            if body:
                segments.append(TranscriptSegment(cue.start.total_seconds(), cue.end.total_seconds(), body, speaker))
    except srt_lib.SRTParseError as exc:
        raise ValueError(f"not SubRip: {exc}") from exc
    return carry_speakers(segments)


def write(transcript: Transcript) -> str:
    blocks = []
    for number, cue in enumerate(cues(transcript, prefix_speaker=True), 1):
        times = f"{clock(cue.start, ',')} --> {clock(max(cue.end, cue.start), ',')}"
        blocks.append(f"{number}\n{times}\n" + "\n".join(cue.lines))
    return "\n\n".join(blocks) + "\n"


FORMAT = TranscriptFormat(
    name="srt",
    rank=2,
    mime_types=("application/x-subrip", "application/srt", "text/srt"),
    extensions=(".srt",),
    read=read,
    write=write,
    export_name="srt",
)
