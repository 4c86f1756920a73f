"""Batched Whisper decoding of VAD windows, and the check that sends bad windows back for re-decoding.

Every window (at most 30 s of the real timeline, cut at a pause by `catalog.vad`) is one Whisper
input, padded with the log-mel of silence. A batch of windows is encoded, decoded (by default
without timestamp tokens; with them, text after the last timestamp is kept, not dropped) and
aligned in three CTranslate2 calls; word timings come from the cross-attention alignment, and
segments are cut from them at sentence ends and pauses.

`uncovered_speech` finds what Whisper skipped: stretches the VAD calls speech that no aligned word
covers (Whisper stops early at a pause, or jumps a sentence); the caller decodes each again on its
own (`gap_windows`) and `merge_gap_words` keeps only the words that were not there yet.

`window_problems` looks at each decoded window for the ways Whisper fails: repetition loops (gzip
compression ratio, an n-gram repeated back to back), too many words for the speech it heard, low
confidence, silence read as text, an empty result over clear speech, and the prompt read back.
A window with a problem is decoded again on its own by faster-whisper's sequential decoder, which
falls back to higher temperatures when the output is repetitive or improbable.
"""

from __future__ import annotations

import difflib
import itertools
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.vad import FRAME_S, Window

TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
PREPEND_PUNCTUATION = "\"'“¿([{-"
APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"


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
        flat = " " + " ".join(_norm(w) for w in words) + " "
        pairs = itertools.pairwise(prompt_terms)
        if any(f" {_norm_text(a)} {_norm_text(b)} " in flat for a, b in pairs):
            problems.append("prompt read back")
    return problems


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


def speech_seconds(probs: np.ndarray, start: float, end: float, threshold: float = 0.5) -> float:
    """Seconds of [start, end] that the VAD calls speech."""
    lo, hi = max(0, int(start / FRAME_S)), int(end / FRAME_S)
    return float(np.count_nonzero(probs[lo:hi] >= threshold)) * FRAME_S if hi > lo else 0.0


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


def _norm(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


def _norm_text(text: str) -> str:
    return " ".join(_norm(w) for w in text.split())


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
        None, [_norm(w.word) for w in known], [_norm(w.word) for w in words], autojunk=False
    )
    matched = {j for block in matcher.get_matching_blocks() for j in range(block.b, block.b + block.size)}
    fresh = [
        w
        for j, w in enumerate(words)
        if j not in matched and _norm(w.word) and any(a <= (w.start + w.end) / 2 <= b for a, b in keep)
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


class BatchDecoder:
    """Decodes windows of one file with a loaded faster-whisper `WhisperModel`."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        beam_size: int = 1,
        prompt: str | None = None,
        word_timestamps: bool = True,
        timestamps: bool = False,
        max_initial_timestamp: float = 1.0,
        encode_batch: int = 1,
    ) -> None:
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model = model
        self.tokenizer = tokenizer
        self.beam_size = beam_size
        self.encode_batch = max(1, encode_batch)
        self.prompt = prompt
        self.word_timestamps = word_timestamps
        # without word timings there is nothing else to cut segments with: use timestamp tokens
        self.timestamps = timestamps or not word_timestamps
        self.max_initial_timestamp_index = round(max_initial_timestamp / 0.02)
        self.suppress_tokens = list(get_suppressed_tokens(tokenizer, [-1]))
        self.prompt_tokens: list[int] = []
        if prompt:
            self.prompt_tokens = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())]
        self.prompt_tokens += list(tokenizer.sot_sequence)
        if not self.timestamps:
            self.prompt_tokens.append(tokenizer.no_timestamps)

    def features(self, audio: np.ndarray, windows: list[Window]) -> np.ndarray:
        """Log-mel input of each window, padded to 30 s with the log-mel of silence.

        faster-whisper pads the features with 0.0 (its batched mode too), which is not silence
        but faint noise (log10 power -4); OpenAI Whisper, which the model was trained with, pads
        the audio with zeros. Measured on the benchmark episode (beam 5, no gap filling): 0.0
        padding 12.2 % WER with 2 windows stopping early, silent padding 6.9 % with 1.
        """
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        samples = extractor.n_samples
        out = []
        for window in windows:
            piece = window.audio(audio)
            if piece.shape[0] < samples:
                piece = np.pad(piece, (0, samples - piece.shape[0]))
            out.append(pad_or_trim(extractor(piece)[..., :-1]))
        return np.stack(out).astype(np.float32)

    def encode(self, features: np.ndarray) -> Any:
        """Encoder output for a batch, computed `encode_batch` windows at a time.

        The encoder's self-attention needs about 54 MB per window (6 heads x 1500 x 1500 floats);
        encoding 8 at once took peak memory from 450 to 810 MiB for no speed gain (the encoder
        is compute-bound), while the decoder does gain from the whole batch.
        """
        from faster_whisper.transcribe import get_ctranslate2_storage

        if features.shape[0] <= self.encode_batch:
            return self.model.encode(features)
        parts = [
            np.asarray(self.model.encode(features[i : i + self.encode_batch]))
            for i in range(0, features.shape[0], self.encode_batch)
        ]
        return get_ctranslate2_storage(np.concatenate(parts))

    def decode(self, audio: np.ndarray, windows: list[Window]) -> list[WindowResult]:
        """One batched pass over `windows` (each <= 30 s of `audio`)."""
        if not windows:
            return []
        encoder_output = self.encode(self.features(audio, windows))
        outputs = self.model.model.generate(
            encoder_output,
            [list(self.prompt_tokens) for _ in windows],
            beam_size=self.beam_size,
            max_length=self.model.max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self.suppress_tokens,
            max_initial_timestamp_index=self.max_initial_timestamp_index,
        )
        results: list[WindowResult] = []
        raw_segments: list[list[dict[str, Any]]] = []
        for window, output in zip(windows, outputs, strict=True):
            tokens = list(output.sequences_ids[0])
            avg_logprob = output.scores[0] * len(tokens) / (len(tokens) + 1)
            raw_segments.append(self._split(tokens, window))
            results.append(WindowResult(window, [], avg_logprob=avg_logprob, no_speech_prob=output.no_speech_prob))
        if self.word_timestamps:
            self._add_words(raw_segments, windows, encoder_output)
        for result, segments in zip(results, raw_segments, strict=True):
            result.segments = [piece for raw in segments for piece in self._segments(raw, result.window) if piece.text]
        return results

    def _split(self, tokens: list[int], window: Window) -> list[dict[str, Any]]:
        """The window's text as faster-whisper segment dicts: one, or one per `<|t0|> text <|t1|>` run.

        Text with no closing timestamp is kept (faster-whisper's batched mode drops it). Output that
        stops early (`... <|13.36|><|13.36|>` then end of text, with speech after) is not resumed
        here: `uncovered_speech` finds the speech no word covers, in either mode.
        """
        begin = self.tokenizer.timestamp_begin
        eot = self.tokenizer.eot
        seek = 0  # times stay relative to the decoder input; `_segments` maps them to the file
        if not self.timestamps:
            text_tokens = [t for t in tokens if t < eot]
            whole = {"seek": seek, "start": 0.0, "end": window.duration, "tokens": text_tokens}
            return [whole] if text_tokens else []
        segments: list[dict[str, Any]] = []
        start: float | None = None
        text: list[int] = []

        def close(end: float) -> None:
            if any(t < eot for t in text):
                first = start if start is not None else 0.0
                segments.append({"seek": seek, "start": first, "end": max(end, first), "tokens": list(text)})

        for token in tokens:
            if token >= begin:
                at = min((token - begin) * 0.02, window.duration)
                if text:
                    close(at)
                    text, start = [], None
                else:
                    start = at
            elif token < eot:
                text.append(token)
        if text:
            close(window.duration)
        return segments

    def _add_words(self, raw_segments: list[list[dict[str, Any]]], windows: list[Window], encoder_output: Any) -> None:
        from faster_whisper.transcribe import get_ctranslate2_storage

        keep = [i for i, segments in enumerate(raw_segments) if segments]
        if not keep:
            return
        if len(keep) < len(windows):
            encoder_output = get_ctranslate2_storage(np.asarray(encoder_output)[keep])
        fps = self.model.frames_per_second
        self.model.add_word_timestamps(
            [raw_segments[i] for i in keep],
            self.tokenizer,
            encoder_output,
            [min(3000, round(windows[i].duration * fps)) for i in keep],
            PREPEND_PUNCTUATION,
            APPEND_PUNCTUATION,
            0.0,
        )

    def _segments(self, raw: dict[str, Any], window: Window) -> list[DecodedSegment]:
        text = self.tokenizer.decode(raw["tokens"]).strip()
        words = map_words(
            window,
            [
                (float(w["start"]), float(w["end"]), str(w["word"]), float(w["probability"]))
                for w in raw.get("words") or []
            ],
        )
        if not words:
            start = window.to_original(float(raw["start"]))
            return [DecodedSegment(start, window.to_original(float(raw["end"]), near=float(raw["start"])), text)]
        if self.timestamps and not window.pieces:
            return [DecodedSegment(words[0].start, words[-1].end, text, words)]
        return split_sentences(words)

    def redecode(self, audio: np.ndarray, window: Window, language: str, *, use_prompt: bool = True) -> WindowResult:
        """Decode one window with faster-whisper's sequential decoder and its temperature fallback."""
        segments, _info = self.model.transcribe(
            window.audio(audio),
            language=language,
            beam_size=max(self.beam_size, 5),
            temperature=list(TEMPERATURES),
            condition_on_previous_text=False,
            initial_prompt=self.prompt if use_prompt else None,
            word_timestamps=self.word_timestamps,
            vad_filter=False,
        )
        out: list[DecodedSegment] = []
        logprobs: list[float] = []
        no_speech: list[float] = []
        for s in segments:
            if not s.text.strip():
                continue
            words = map_words(window, [(w.start, w.end, w.word, w.probability) for w in s.words or []])
            if words:
                out += (
                    split_sentences(words)
                    if window.pieces
                    else [DecodedSegment(words[0].start, words[-1].end, s.text.strip(), words)]
                )
            else:
                start = window.to_original(s.start)
                out.append(DecodedSegment(start, window.to_original(s.end, near=s.start), s.text.strip()))
            logprobs.append(s.avg_logprob)
            no_speech.append(s.no_speech_prob)
        return WindowResult(
            window,
            out,
            avg_logprob=float(np.mean(logprobs)) if logprobs else 0.0,
            no_speech_prob=float(np.mean(no_speech)) if no_speech else 0.0,
            redecoded=True,
        )
