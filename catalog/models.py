"""Plain data passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Word:
    start: float
    end: float
    word: str


@dataclass
class TranscriptSegment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)


@dataclass
class Chapter:
    start: float
    title: str
    end: float | None = None


@dataclass
class Transcript:
    """A timed transcript of one item, whatever made it.

    `source` is `whisper` (with `model` naming the model), `publisher` (a transcript the feed links
    to) or `captions` (subtitles that came with a video).
    """

    segments: list[TranscriptSegment]
    source: str = "whisper"
    model: str | None = None
    language: str | None = None
    duration: float | None = None
    chapters: list[Chapter] = field(default_factory=list)
    format: str | None = None  # publisher transcripts: json, vtt, srt, html or text
    url: str | None = None  # publisher transcripts: where it came from

    @property
    def text(self) -> str:
        return " ".join(segment.text.strip() for segment in self.segments).strip()
