"""Speech that Whisper skipped: found, decoded again, and merged without duplicating words.

`uncovered_speech` finds stretches the VAD calls speech that no aligned word covers (Whisper stops early at
a pause, or jumps a sentence); the caller decodes each again on its own (`gap_windows`) and
`merge_gap_words` keeps only the words that were not there yet.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from catalog.asr.repair import speech_seconds
from catalog.asr.results import DecodedWord, WindowResult, normalise_word, split_sentences
from catalog.asr.vad import FRAME_S, Window


def uncovered_speech(
    result: WindowResult, probs: np.ndarray, *, min_gap_s: float = 1.5, min_speech_s: float = 1.0, margin_s: float = 0.2
) -> list[tuple[float, float]]:
    """Stretches of a window that the VAD calls speech but no decoded word covers.

    Whisper skips a sentence now and then, or stops before the end of its window; these are the
    spans to decode again. Returns (after previous word, before next word) spans at least
    `min_gap_s` long holding at least `min_speech_s` of speech. A word is taken to cover at most
    1 s at each of its ends (alignment stretches the word next to a skipped sentence over it).
    """
    covered: list[tuple[float, float]] = []
    for segment in result.segments:
        if segment.words:
            for w in segment.words:
                if w.end - w.start <= 2.0:
                    covered.append((w.start, w.end))
                else:
                    covered += [(w.start, w.start + 1.0), (w.end - 1.0, w.end)]
        else:
            covered.append((segment.start, segment.end))
    covered.sort()
    spans: list[tuple[float, float]] = []
    for piece_start, piece_end in result.window.spans:
        gaps: list[tuple[float, float]] = []
        reached = piece_start
        for start, end in covered:
            if end <= piece_start or start >= piece_end:
                continue
            if start > reached:
                gaps.append((reached, start))
            reached = max(reached, end)
        gaps.append((reached, piece_end))
        for gap_start, gap_end in gaps:
            if gap_end - gap_start >= min_gap_s and (
                speech_seconds(probs, gap_start + margin_s, gap_end - margin_s) >= min_speech_s
            ):
                spans.append((gap_start, gap_end))
    return spans


def merge_gap_words(result: WindowResult, keep: list[tuple[float, float]], known: list[DecodedWord]) -> None:
    """Reduce a re-decoded gap window to the words the first pass did not have.

    Word timings are approximate, so a gap found between two mistimed words gets decoded again
    with words that are already there. The gap's words are matched, in order, against the `known`
    words around it (difflib), and only unmatched words whose middle lies in a `keep` span stay.
    """
    words = [w for segment in result.segments for w in segment.words]
    if not words:
        result.segments = (
            [s for s in result.segments if any(a <= (s.start + s.end) / 2 <= b for a, b in keep)] if not known else []
        )
        return
    matcher = difflib.SequenceMatcher(
        None, [normalise_word(w.word) for w in known], [normalise_word(w.word) for w in words], autojunk=False
    )
    matched = {j for block in matcher.get_matching_blocks() for j in range(block.b, block.b + block.size)}
    fresh = [
        w
        for j, w in enumerate(words)
        if j not in matched and normalise_word(w.word) and any(a <= (w.start + w.end) / 2 <= b for a, b in keep)
    ]
    result.segments = split_sentences(fresh) if fresh else []


def words_near(results: list[WindowResult], start: float, end: float) -> list[DecodedWord]:
    """The words already decoded with their middle in [start, end], in time order."""
    words = [w for r in results for s in r.segments for w in s.words if start <= (w.start + w.end) / 2 <= end]
    return sorted(words, key=lambda w: w.start)


def _speech_bounds(probs: np.ndarray, start: float, end: float) -> tuple[float, float]:
    """First and last moment in [start, end] the VAD calls speech (the whole span if none)."""
    lo, hi = int(start / FRAME_S), min(int(end / FRAME_S), probs.size)
    speech = np.flatnonzero(probs[lo:hi] >= 0.5)
    if not speech.size:
        return start, end
    return (lo + int(speech[0])) * FRAME_S, (lo + int(speech[-1]) + 1) * FRAME_S


def _quiet_edge(probs: np.ndarray, t: float, direction: int, limit: float, lo: float, hi: float) -> float:
    """From `t`, up to `limit` seconds in `direction` (-1/+1), the first frame the VAD calls silence."""
    step = 0
    while step * FRAME_S <= limit:
        at = t + direction * step * FRAME_S
        if not lo <= at <= hi:
            break
        index = int(at / FRAME_S)
        if index >= probs.size or probs[index] < 0.2:
            return at
        step += 1
    return min(max(t, lo), hi)


def gap_windows(
    gaps: list[tuple[tuple[float, float], Window, int]],
    probs: np.ndarray,
    context_s: float = 0.4,
) -> list[tuple[Window, list[tuple[float, float]], int]]:
    """Windows that decode skipped stretches again (each with its depth), with `context_s` of audio
    around the speech in each; each comes with the spans whose words are kept.

    Not packed into joined windows: measured, tiny.en decodes a window of several unrelated short
    pieces badly (it skips pieces, and word timings then land in the wrong piece)."""
    spans: list[list[Any]] = []  # [start, end, [gaps]]
    for (gap_start, gap_end), window, depth in sorted(gaps, key=lambda g: g[0]):
        piece_start, piece_end = next(((s, e) for s, e in window.spans if s <= gap_start < e), window.spans[-1])
        # from just before the first speech in the gap to just after the last: context that was
        # decoded already makes Whisper stop again at the same pause (measured), so none is added
        start, end = _speech_bounds(probs, gap_start, gap_end)
        start = max(piece_start, start - context_s)
        end = _quiet_edge(probs, min(piece_end, end + context_s), 1, 0.5, piece_start, piece_end)
        end = min(piece_end, max(end, start + 1.0))
        if spans and start <= spans[-1][1] and end - spans[-1][0] <= 30.0:
            spans[-1][1] = max(spans[-1][1], end)
            spans[-1][2].append((gap_start, gap_end))
        else:
            spans.append([start, end, [(gap_start, gap_end)], depth])
    return [(Window(round(s, 3), round(e, 3)), kept, depth) for s, e, kept, depth in spans]
