"""Voice-activity detection that skips music and silence without losing quiet speech.

Uses the Silero VAD model that ships inside faster-whisper (ONNX, CPU, offline), but not faster-whisper's
`get_speech_timestamps`, for two measured reasons (see `bench/transcribe.py` and the notes in
`catalog.asr.transcriber`):

* faster-whisper runs the whole file through Silero's recurrent network in one pass. Its state drifts
  on long audio: in the 5-minute benchmark episode a quiet, hoarse 26 s clip (mfa_spontaneous_cold_corpus)
  gets a speech probability of at most 0.64, and 0 % of its 32 ms frames reach the 0.5 threshold, so
  the whole clip is cut; the same clip on its own has 48 % of frames above 0.5. Here the state is
  reset every `reset_s` seconds (after a short warm-up): 45 % of that clip's frames pass, and of
  the 653 words of the episode 4 fall outside the planned windows (faster-whisper's VAD: 55).
* its defaults either glue everything into one >100 s region (min_silence 2 s) or chop speech into
  hundreds of pieces that are then concatenated with the silence cut out (batched mode), which joins
  words across pauses. Here regions are only used to decide which *time spans* to decode; the audio
  inside a window keeps its real timeline and its short pauses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog.asr import engine

SAMPLE_RATE = 16000
FRAME = 512  # Silero's window: 32 ms at 16 kHz
FRAME_S = FRAME / SAMPLE_RATE
SEPARATOR_S = 1.0  # silence between the pieces of a joined window


@dataclass(frozen=True)
class VadSettings:
    """Knobs of the speech detector; the defaults were tuned on the benchmark episode (words lost).

    threshold / neg_threshold: a region starts where the probability reaches `threshold` and ends
    where it stays below `neg_threshold` for `min_silence_s`. pad_s: seconds of context kept on
    both sides (Whisper needs the onset and the release of the first and last word). min_speech_s:
    shorter blips (a click, a cough) are dropped. reset_s / warmup_s: the Silero state is restarted
    every `reset_s` seconds, primed with the `warmup_s` seconds before.
    """

    threshold: float = 0.5
    neg_threshold: float = 0.3
    min_silence_s: float = 0.8
    min_speech_s: float = 0.25
    pad_s: float = 0.5
    reset_s: float = 5.0
    warmup_s: float = 1.0


@dataclass(frozen=True)
class Window:
    """Audio decoded as one Whisper input (<= 30 s): one span of the file, or several joined.

    `pieces` are spans of the original timeline (seconds); they are decoded one after the other
    with SEPARATOR_S of silence between them, so that the speech on either side of skipped music
    shares one encoder pass without running into each other. `start`/`end` are the first piece's
    start and the last piece's end. (Measured: tiny.en copes with two pieces, but a window of many
    short unrelated pieces loses some of them, so re-decoded gaps each get a window of their own.)
    """

    start: float
    end: float
    pieces: tuple[tuple[float, float], ...] = ()

    @property
    def spans(self) -> tuple[tuple[float, float], ...]:
        return self.pieces or ((self.start, self.end),)

    @property
    def duration(self) -> float:
        """Seconds of audio the decoder sees (separators included)."""
        spans = self.spans
        return sum(e - s for s, e in spans) + SEPARATOR_S * (len(spans) - 1)

    def audio(self, audio: np.ndarray) -> np.ndarray:
        parts: list[np.ndarray] = []
        for i, (s, e) in enumerate(self.spans):
            if i:
                parts.append(np.zeros(int(SEPARATOR_S * SAMPLE_RATE), dtype=np.float32))
            parts.append(audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def to_original(self, t: float, *, near: float | None = None) -> float:
        """A time in the decoder's input (0 = start of the window) on the file's timeline.

        A time inside a separator goes to the nearest edge of the piece that holds `near`
        (another time of the same word) or, without `near`, of the piece before it.
        """
        index = self.piece_of(near if near is not None else t)
        offset = sum(e - s + SEPARATOR_S for s, e in self.spans[:index])
        s, e = self.spans[index]
        return min(max(s + t - offset, s), e)

    def piece_of(self, t: float) -> int:
        offset = 0.0
        for i, (s, e) in enumerate(self.spans):
            offset += e - s
            if t < offset + SEPARATOR_S / 2:
                return i
            offset += SEPARATOR_S
        return len(self.spans) - 1


def _window(spans: list[tuple[float, float]]) -> Window:
    spans = [(round(s, 3), round(e, 3)) for s, e in spans]
    return Window(spans[0][0], spans[-1][1], tuple(spans) if len(spans) > 1 else ())


def _model() -> Any:
    return engine.vad_model()


def speech_probabilities(audio: np.ndarray, settings: VadSettings | None = None, *, threads: int = 2) -> np.ndarray:
    """One speech probability per 32 ms frame of 16 kHz mono `audio`.

    The pieces between state resets are independent, so `threads` of them run at once (the ONNX
    session is single-threaded and releases the GIL).
    """
    settings = settings or VadSettings()
    if audio.size == 0:
        return np.zeros(0, dtype=np.float32)
    padded = np.pad(audio.astype(np.float32, copy=False), (0, (-audio.shape[0]) % FRAME))
    frames = padded.shape[0] // FRAME
    piece = max(1, round(settings.reset_s / FRAME_S))
    warm = max(0, round(settings.warmup_s / FRAME_S))
    model = _model()
    out = np.zeros(frames, dtype=np.float32)

    def run(start: int) -> None:
        begin, end = max(0, start - warm), min(frames, start + piece)
        probs = np.asarray(model(padded[begin * FRAME : end * FRAME])).reshape(-1)
        out[start:end] = probs[start - begin :]

    starts = range(0, frames, piece)
    if threads > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    return out


def speech_regions(probs: np.ndarray, settings: VadSettings | None = None) -> list[tuple[float, float]]:
    """[(start, end)] seconds of speech, padded, with short gaps bridged."""
    settings = settings or VadSettings()
    regions: list[list[float]] = []
    start: int | None = None
    quiet_since: int | None = None
    min_silence = max(1, round(settings.min_silence_s / FRAME_S))
    for i, p in enumerate(probs):
        if start is None:
            if p >= settings.threshold:
                start, quiet_since = i, None
            continue
        if p >= settings.neg_threshold:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = i
        elif i - quiet_since >= min_silence:
            regions.append([start * FRAME_S, quiet_since * FRAME_S])
            start, quiet_since = None, None
    if start is not None:
        regions.append([start * FRAME_S, (quiet_since if quiet_since is not None else len(probs)) * FRAME_S])
    duration = len(probs) * FRAME_S
    regions = [r for r in regions if r[1] - r[0] >= settings.min_speech_s]
    padded: list[list[float]] = []
    for begin, end in regions:
        begin, end = max(0.0, begin - settings.pad_s), min(duration, end + settings.pad_s)
        if padded and begin <= padded[-1][1]:
            padded[-1][1] = max(padded[-1][1], end)
        else:
            padded.append([begin, end])
    return [(round(b, 3), round(e, 3)) for b, e in padded]


def plan_windows(
    regions: list[tuple[float, float]],
    probs: np.ndarray,
    *,
    max_window_s: float = 30.0,
    max_gap_s: float = 3.0,
    min_cut_s: float = 15.0,
    min_piece_s: float = 4.0,
    pause_prob: float = 0.2,
    block_pad_s: float = 0.5,
) -> list[Window]:
    """Cut speech into windows of at most `max_window_s` seconds of decoder input.

    Regions less than `max_gap_s` apart form one block (the pause stays in: it is cheap and it keeps
    both sides of a join in their real context); a longer gap is music or silence and is skipped.
    A block longer than a window is cut in the last pause (smoothed speech probability under
    `pause_prob`) between `min_cut_s` and `max_window_s` into it, so windows are as full as
    possible (the encoder costs the same for 5 s as for 30 s) and no word is cut in two; with no
    such pause, at the least speech-like frame. The start of the next block fills what is left of
    a window (at least `min_piece_s`), after SEPARATOR_S of silence.

    Blocks get `block_pad_s` more context on each side, and reach the start or end of the file when
    that is less than `max_gap_s` away: Whisper reads the first words better with some lead-in
    (measured: a clip whose window started 1.3 s in, at the VAD's speech onset, lost a word that
    the whole clip gets right).
    """
    duration = probs.size * FRAME_S
    blocks: list[list[float]] = []
    for begin, end in regions:
        if blocks and begin - blocks[-1][1] <= max_gap_s:
            blocks[-1][1] = max(blocks[-1][1], end)
        else:
            blocks.append([begin, end])
    for i, block in enumerate(blocks):
        low = blocks[i - 1][1] if i else 0.0
        high = blocks[i + 1][0] if i + 1 < len(blocks) else duration
        block[0] = low if block[0] - low <= (max_gap_s if i == 0 else 0.0) else max(low, block[0] - block_pad_s)
        block[1] = (
            high
            if high - block[1] <= (max_gap_s if i + 1 == len(blocks) else 0.0)
            else min(high, block[1] + block_pad_s)
        )
    smooth = np.convolve(probs, np.ones(5) / 5, mode="same") if probs.size else probs
    windows: list[Window] = []
    pieces: list[tuple[float, float]] = []
    used = 0.0
    for begin, end in blocks:
        current = begin
        while current < end:
            budget = max_window_s - used - (SEPARATOR_S if pieces else 0.0)
            if end - current <= budget:
                pieces.append((current, end))
                used += end - current + (SEPARATOR_S if len(pieces) > 1 else 0.0)
                break
            if budget >= min_piece_s:
                cut = _cut(
                    smooth, current + max(budget - max_window_s + min_cut_s, min_piece_s), current + budget, pause_prob
                )
                pieces.append((current, cut))
                current = cut
            windows.append(_window(pieces))
            pieces, used = [], 0.0
    if pieces:
        windows.append(_window(pieces))
    return windows


def _cut(smooth: np.ndarray, earliest: float, latest: float, pause_prob: float) -> float:
    """Where to cut between `earliest` and `latest`: the middle of the last pause, else the quietest frame."""
    lo = int(earliest / FRAME_S)
    hi = min(int(latest / FRAME_S) - 1, smooth.size)
    if hi <= lo:
        return latest
    segment = smooth[lo:hi]
    quiet = np.flatnonzero(segment < pause_prob)
    if quiet.size:
        last = int(quiet[-1])
        first = last
        while first > 0 and segment[first - 1] < pause_prob:
            first -= 1
        # the middle of the last pause, at most 0.3 s before the speech that follows it
        index = max((first + last) / 2, last - 0.3 / FRAME_S)
    else:
        index = len(segment) - 1 - int(np.argmin(segment[::-1]))
    return float((lo + index) * FRAME_S + FRAME_S / 2)
