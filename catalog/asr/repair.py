"""The check that sends a badly decoded window back: `window_problems` looks for the ways Whisper fails.

Repetition loops (gzip compression ratio, an n-gram repeated back to back), too many words for the speech
it heard, low confidence, silence read as text, an empty result over clear speech, and the prompt read back.
A window with a problem is decoded again on its own by faster-whisper's sequential decoder, which falls back
to higher temperatures when the output is repetitive or improbable.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np

from catalog.asr.results import WindowResult, normalise_text, normalise_word
from catalog.asr.vad import FRAME_S


@dataclass(frozen=True)
class LoopCheck:
    """Thresholds of `window_problems`; each one names a failure that sends a window back.

    max_compression_ratio: Whisper's own repetition signal (gzip ratio of the text).
    min_repeats / min_repeated_words: an n-gram said `min_repeats` times back to back, covering at
    least `min_repeated_words` words (so a speaker's "words words words words" passes, a looping
    sentence does not); `max_word_repeats` bounds a single word repeated back to back.
    max_words_per_speech_s: more words than any speaker says per second of detected speech.
    min_avg_logprob: Whisper's log-probability fallback threshold.
    min_speech_s_for_text: seconds of clear speech after which an empty window is suspicious.
    silent_segment_*: a segment of >= 1 s over which the VAD never passes `silent_segment_max_prob`
    and whose words average under `silent_segment_max_word_prob` is text made up over silence.
    """

    max_compression_ratio: float = 2.4
    min_repeats: int = 3
    min_repeated_words: int = 9
    max_word_repeats: int = 8
    max_words_per_speech_s: float = 7.0
    min_words_for_rate: int = 12
    min_avg_logprob: float = -1.0
    min_speech_s_for_text: float = 3.0
    silent_segment_max_prob: float = 0.1
    silent_segment_max_word_prob: float = 0.4


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def longest_repeat(words: list[str], max_n: int = 8) -> tuple[int, int]:
    """(n, repeats) of the n-gram repeated back to back the most words' worth in `words`."""
    best = (1, 1)
    norm = [w.lower().strip(".,!?;:\"'") for w in words]
    for n in range(1, max_n + 1):
        for start in range(len(norm) - 2 * n + 1):
            gram = norm[start : start + n]
            repeats = 1
            while norm[start + repeats * n : start + (repeats + 1) * n] == gram:
                repeats += 1
            if repeats > 1 and repeats * n > best[0] * best[1]:
                best = (n, repeats)
    return best


def window_problems(
    result: WindowResult,
    probs: np.ndarray,
    check: LoopCheck,
    prompt_terms: list[str] | None = None,
) -> list[str]:
    """Why this window's text is not to be trusted (empty list: it is fine)."""
    problems: list[str] = []
    text = result.text
    words = text.split()
    speech_s = sum(speech_seconds(probs, s, e) for s, e in result.window.spans)
    if text and compression_ratio(text) > check.max_compression_ratio:
        problems.append(f"compression ratio {compression_ratio(text):.2f}")
    n, repeats = longest_repeat(words)
    if (repeats >= check.min_repeats and n * repeats >= check.min_repeated_words) or (
        n == 1 and repeats >= check.max_word_repeats
    ):
        problems.append(f"{n}-gram repeated {repeats} times")
    if len(words) >= check.min_words_for_rate and len(words) > check.max_words_per_speech_s * max(speech_s, 1.0):
        problems.append(f"{len(words)} words in {speech_s:.1f} s of speech")
    if text and result.avg_logprob < check.min_avg_logprob:
        problems.append(f"avg log-probability {result.avg_logprob:.2f}")
    if not text and speech_s >= check.min_speech_s_for_text:
        problems.append(f"no text over {speech_s:.1f} s of speech")
    for segment in result.segments:
        seg_probs = probs[
            int(segment.start / FRAME_S) : max(int(segment.end / FRAME_S), int(segment.start / FRAME_S) + 1)
        ]
        word_probs = [w.probability for w in segment.words]
        if (
            segment.end - segment.start >= 1.0
            and seg_probs.size
            and float(seg_probs.max()) < check.silent_segment_max_prob
            and word_probs
            and float(np.mean(word_probs)) < check.silent_segment_max_word_prob
        ):
            problems.append(f"text over silence at {segment.start:.1f} s")
            break
    if prompt_terms and len(prompt_terms) >= 2:
        # the prompt lists terms one after the other; speech that mentions them does not
        flat = " " + " ".join(normalise_word(w) for w in words) + " "
        pairs = itertools.pairwise(prompt_terms)
        if any(f" {normalise_text(a)} {normalise_text(b)} " in flat for a, b in pairs):
            problems.append("prompt read back")
    return problems


def speech_seconds(probs: np.ndarray, start: float, end: float, threshold: float = 0.5) -> float:
    """Seconds of [start, end] that the VAD calls speech."""
    lo, hi = max(0, int(start / FRAME_S)), int(end / FRAME_S)
    return float(np.count_nonzero(probs[lo:hi] >= threshold)) * FRAME_S if hi > lo else 0.0
