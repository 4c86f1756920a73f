"""Batched Whisper decoding of VAD windows.

Every window (at most 30 s of the real timeline, cut at a pause by `catalog.asr.vad`) is one Whisper
input, padded with the log-mel of silence. A batch of windows is encoded, decoded (by default
without timestamp tokens; with them, text after the last timestamp is kept, not dropped) and
aligned in three CTranslate2 calls; word timings come from the cross-attention alignment, and
segments are cut from them at sentence ends and pauses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catalog.asr import engine
from catalog.asr.results import DecodedSegment, WindowResult, map_words, split_sentences
from catalog.asr.vad import Window

TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
PREPEND_PUNCTUATION = "\"'“¿([{-"
APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"


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
        self.model = model
        self.tokenizer = tokenizer
        self.beam_size = beam_size
        self.encode_batch = max(1, encode_batch)
        self.prompt = prompt
        self.word_timestamps = word_timestamps
        # without word timings there is nothing else to cut segments with: use timestamp tokens
        self.timestamps = timestamps or not word_timestamps
        self.max_initial_timestamp_index = round(max_initial_timestamp / 0.02)
        self.suppress_tokens = engine.suppressed_tokens(tokenizer)
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
        extractor = self.model.feature_extractor
        samples = extractor.n_samples
        out = []
        for window in windows:
            piece = window.audio(audio)
            if piece.shape[0] < samples:
                piece = np.pad(piece, (0, samples - piece.shape[0]))
            out.append(engine.pad_or_trim(extractor(piece)[..., :-1]))
        return np.stack(out).astype(np.float32)

    def encode(self, features: np.ndarray) -> Any:
        """Encoder output for a batch, computed `encode_batch` windows at a time.

        The encoder's self-attention needs about 54 MB per window (6 heads x 1500 x 1500 floats);
        encoding 8 at once took peak memory from 450 to 810 MiB for no speed gain (the encoder
        is compute-bound), while the decoder does gain from the whole batch.
        """
        if features.shape[0] <= self.encode_batch:
            return self.model.encode(features)
        parts = [
            np.asarray(self.model.encode(features[i : i + self.encode_batch]))
            for i in range(0, features.shape[0], self.encode_batch)
        ]
        return engine.storage_view(np.concatenate(parts))

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
        keep = [i for i, segments in enumerate(raw_segments) if segments]
        if not keep:
            return
        if len(keep) < len(windows):
            encoder_output = engine.storage_view(np.asarray(encoder_output)[keep])
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
