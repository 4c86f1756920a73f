"""Caption cards for SRT and WebVTT output, as the Podcasting 2.0 transcript recommendations lay them out:
at most 2 lines of 32 characters, and a new card when the speaker changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Transcript, TranscriptSegment, Word

LINE_CHARS = 32
CARD_LINES = 2


@dataclass
class Cue:
    start: float
    end: float
    speaker: str | None
    lines: list[str]


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
