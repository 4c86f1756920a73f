"""What decoding one window gives: timed words and segments, and how segments are cut from words."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.asr.vad import Window


@dataclass
class DecodedWord:
    start: float
    end: float
    word: str  # as Whisper spells it, with its leading space
    probability: float = 1.0


@dataclass
class DecodedSegment:
    start: float
    end: float
    text: str
    words: list[DecodedWord] = field(default_factory=list)


@dataclass
class WindowResult:
    window: Window
    segments: list[DecodedSegment]
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    redecoded: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()


def map_words(window: Window, words: list[tuple[float, float, str, float]]) -> list[DecodedWord]:
    """Word timings relative to the decoder input, on the file's timeline (each word within one piece)."""
    out: list[DecodedWord] = []
    for start, end, word, probability in words:
        if word.strip():
            middle = (start + end) / 2
            out.append(
                DecodedWord(
                    window.to_original(start, near=middle), window.to_original(end, near=middle), word, probability
                )
            )
    return out


def words_segment(words: list[DecodedWord]) -> DecodedSegment:
    """A segment of timed words; words keep Whisper's own spacing (" ill", "-disposed")."""
    return DecodedSegment(words[0].start, words[-1].end, "".join(w.word for w in words).strip(), words)


def split_sentences(
    words: list[DecodedWord], max_pause_s: float = 1.0, max_len_s: float = 15.0
) -> list[DecodedSegment]:
    """Segments from timed words: a new one after a sentence end, a long pause, or `max_len_s`."""
    segments: list[DecodedSegment] = []
    current: list[DecodedWord] = []
    for word in words:
        if current and (
            current[-1].word.rstrip().endswith((".", "?", "!", "。"))
            or word.start - current[-1].end >= max_pause_s
            or word.end - current[0].start > max_len_s
        ):
            segments.append(words_segment(current))
            current = []
        current.append(word)
    if current:
        segments.append(words_segment(current))
    return segments


def normalise_word(word: str) -> str:
    """A word reduced to its lower-case letters and digits, for comparing decodings."""
    return "".join(ch for ch in word.lower() if ch.isalnum())


def normalise_text(text: str) -> str:
    return " ".join(normalise_word(w) for w in text.split())
