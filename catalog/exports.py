"""Writing a transcript as WebVTT, SRT, JSON or plain text, following the Podcasting 2.0
transcript recommendations: SRT cards of at most 2 lines of 32 characters, a new card when the
speaker changes with "Name: " in front; WebVTT voice spans `<v Name>`; JSON `{version, segments:
[{speaker, startTime, endTime, body}]}` (word by word when word times are known).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from catalog.models import Transcript, TranscriptSegment, Word

FORMATS = ("vtt", "srt", "json", "txt")
LINE_CHARS = 32
CARD_LINES = 2


@dataclass
class Cue:
    start: float
    end: float
    speaker: str | None
    lines: list[str]


def export(transcript: Transcript, fmt: str) -> str:
    writers = {"vtt": to_vtt, "srt": to_srt, "json": to_json, "txt": to_txt}
    return writers[fmt](transcript)


def _clock(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _words(segment: TranscriptSegment) -> list[Word]:
    """The segment's timed words; without word times, times spread by character count."""
    if segment.words:
        return segment.words
    tokens = segment.text.split()
    total = sum(len(token) + 1 for token in tokens) or 1
    span = max(0.0, segment.end - segment.start)
    words, at = [], segment.start
    for token in tokens:
        length = span * (len(token) + 1) / total
        words.append(Word(at, at + length, token))
        at += length
    return words


def cues(transcript: Transcript, *, prefix_speaker: bool) -> list[Cue]:
    """Cards of at most 2 x 32 characters, one segment or more each; a speaker change always
    starts a new card, and with `prefix_speaker` that card opens with "Name: "."""
    result: list[Cue] = []
    previous_speaker: str | None = None
    for segment in transcript.segments:
        label = ""
        if prefix_speaker and segment.speaker and segment.speaker != previous_speaker:
            label = f"{segment.speaker}: "
        previous_speaker = segment.speaker
        card: Cue | None = None
        for word in _words(segment):
            text = word.word.strip()
            if not text:
                continue
            if card is None:
                card = Cue(word.start, word.end, segment.speaker, [label + text])
                label = ""
            elif len(card.lines[-1]) + 1 + len(text) <= LINE_CHARS:
                card.lines[-1] += " " + text
            elif len(card.lines) < CARD_LINES:
                card.lines.append(text)
            else:
                result.append(card)
                card = Cue(word.start, word.end, segment.speaker, [text])
            card.end = word.end
        if card is not None:
            result.append(card)
    return result


def to_srt(transcript: Transcript) -> str:
    blocks = []
    for number, cue in enumerate(cues(transcript, prefix_speaker=True), 1):
        times = f"{_clock(cue.start, ',')} --> {_clock(max(cue.end, cue.start), ',')}"
        blocks.append(f"{number}\n{times}\n" + "\n".join(cue.lines))
    return "\n\n".join(blocks) + "\n"


def to_vtt(transcript: Transcript) -> str:
    blocks = ["WEBVTT"]
    for cue in cues(transcript, prefix_speaker=False):
        voice = f"<v {cue.speaker}>" if cue.speaker else ""
        text = "\n".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in cue.lines)
        blocks.append(f"{_clock(cue.start, '.')} --> {_clock(max(cue.end, cue.start), '.')}\n{voice}{text}")
    return "\n\n".join(blocks) + "\n"


def to_json(transcript: Transcript) -> str:
    segments = []
    for segment in transcript.segments:
        if segment.words:
            for word in segment.words:
                segments.append(_json_segment(segment.speaker, word.start, word.end, word.word.strip()))
        else:
            segments.append(_json_segment(segment.speaker, segment.start, segment.end, segment.text.strip()))
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1) + "\n"


def _json_segment(speaker: str | None, start: float, end: float, body: str) -> dict[str, object]:
    entry: dict[str, object] = {"startTime": round(start, 3), "endTime": round(end, 3), "body": body}
    if speaker:
        entry = {"speaker": speaker, **entry}
    return entry


def to_txt(transcript: Transcript) -> str:
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
