"""The Whisper pipeline: VAD, word timings, vocabulary, language, the loop check, errors.

Uses the bundled tiny.en on the shipped sample media (a few seconds of audio per test). The
long-form accuracy and speed measurements live in `bench/transcribe.py`.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catalog.asr.gaps import merge_gap_words, uncovered_speech
from catalog.asr.model_store import bundled_model_path
from catalog.asr.prompt import vocabulary_prompt
from catalog.asr.repair import LoopCheck, compression_ratio, longest_repeat, window_problems
from catalog.asr.results import DecodedSegment, DecodedWord, WindowResult, split_sentences
from catalog.asr.transcriber import WhisperTranscriber
from catalog.asr.vad import FRAME_S, VadSettings, Window, plan_windows, speech_probabilities, speech_regions
from catalog.errors import ModelError
from catalog.language import language_code
from catalog.models import Transcript

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "samples" / "media"
TONE_THEN_SPEECH = MEDIA / "tone-then-speech.mp3"

needs_model = pytest.mark.skipif(bundled_model_path() is None, reason="the bundled tiny.en model is not installed")


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


@pytest.fixture(scope="module")
def transcriber() -> WhisperTranscriber:
    return WhisperTranscriber()


@pytest.fixture(scope="module")
def tone_transcript(transcriber: WhisperTranscriber) -> Transcript:
    return transcriber.transcribe(TONE_THEN_SPEECH, language="en")


def _spoken_at(transcript: Transcript, word: str) -> list[float]:
    return [w.start for s in transcript.segments for w in s.words if _norm(w.word) == word]


# --- the model on real audio ------------------------------------------------------------------


@needs_model
def test_word_after_music_is_found_where_it_is_spoken(tone_transcript: Transcript, manifest: dict[str, Any]) -> None:
    entry = manifest["media"]["media/tone-then-speech.mp3"]
    keyword = entry["keywords"][0]
    starts = _spoken_at(tone_transcript, keyword["word"])
    assert starts, f"{keyword['word']!r} not in {tone_transcript.text!r}"
    assert abs(starts[0] - keyword["start"]) <= 1.5, (starts, keyword)
    words = [w for s in tone_transcript.segments for w in s.words]
    assert all(a.start <= b.start for a, b in itertools.pairwise(words)), "words out of order"
    assert all(w.start <= w.end for w in words)


@needs_model
def test_vad_skips_the_tone(tone_transcript: Transcript, manifest: dict[str, Any]) -> None:
    speech_starts = manifest["media"]["media/tone-then-speech.mp3"]["speech_starts_at"]
    texted = [s for s in tone_transcript.segments if s.text.strip()]
    assert texted
    assert min(s.start for s in texted) >= speech_starts - 0.5
    assert min(w.start for s in texted for w in s.words) >= speech_starts - 0.5
    # and the tone is not even decoded: the first window starts after most of it
    from faster_whisper import decode_audio

    audio = decode_audio(str(TONE_THEN_SPEECH), sampling_rate=16000)
    probs = speech_probabilities(audio)
    windows = plan_windows(speech_regions(probs), probs)
    assert windows and windows[0].start >= speech_starts - 1.5
    assert float(probs[: int((speech_starts - 1.0) / FRAME_S)].max()) < 0.5


@needs_model
def test_english_model_forces_english(transcriber: WhisperTranscriber) -> None:
    transcript = transcriber.transcribe(TONE_THEN_SPEECH, language="fr")
    assert transcript.language == "en"
    assert "diplomacy" in {_norm(w.word) for s in transcript.segments for w in s.words}


@needs_model
def test_progress_is_reported_up_to_one(transcriber: WhisperTranscriber) -> None:
    seen: list[float] = []
    transcriber.transcribe(TONE_THEN_SPEECH, progress=seen.append)
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)


@needs_model
def test_vocabulary_reaches_the_decoder(transcriber: WhisperTranscriber) -> None:
    model = transcriber.load()
    prompts: list[list[int]] = []
    real = model.model

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def generate(self, features: Any, batch_prompts: list[list[int]], **kwargs: Any) -> Any:
            prompts.extend(batch_prompts)
            return real.generate(features, batch_prompts, **kwargs)

    model.model = Spy()
    try:
        transcript = transcriber.transcribe(TONE_THEN_SPEECH, vocabulary=["Nonzero", "Robert Wright", "nonzero", ""])
    finally:
        model.model = real
    assert prompts
    expected = model.hf_tokenizer.encode(" Nonzero, Robert Wright.", add_special_tokens=False).ids
    sot_prev = model.hf_tokenizer.token_to_id("<|startofprev|>")
    for prompt in prompts:
        assert prompt[0] == sot_prev
        assert prompt[1 : 1 + len(expected)] == expected
    assert "diplomacy" in {_norm(w.word) for s in transcript.segments for w in s.words}
    assert "nonzero" not in transcript.text.lower()  # the prompt is not read back as speech


@needs_model
def test_vocabulary_fixes_the_spelling_of_a_name(transcriber: WhisperTranscriber) -> None:
    episode = MEDIA / "nonzero-ep1.mp3"
    plain = {_norm(w.word) for s in transcriber.transcribe(episode).segments for w in s.words}
    assert "nonzero" not in plain  # tiny.en writes "non-zero"
    hinted = transcriber.transcribe(episode, vocabulary=["Nonzero", "Robert Wright"])
    assert "nonzero" in {_norm(w.word) for s in hinted.segments for w in s.words}


@needs_model
def test_a_distrusted_window_is_decoded_again(manifest: dict[str, Any]) -> None:
    # a check that distrusts every text sends each window through the sequential fallback decoder
    paranoid = WhisperTranscriber(loop_check=LoopCheck(max_compression_ratio=0.0))
    transcript = paranoid.transcribe(TONE_THEN_SPEECH)
    assert paranoid.last_stats["redecoded"], paranoid.last_stats
    assert all("compression ratio" in problems[0] for _start, problems in paranoid.last_stats["redecoded"])
    keyword = manifest["media"]["media/tone-then-speech.mp3"]["keywords"][0]
    starts = _spoken_at(transcript, keyword["word"])
    assert starts and abs(starts[0] - keyword["start"]) <= 1.5


@needs_model
def test_silence_gives_an_empty_transcript(transcriber: WhisperTranscriber, tmp_path: Path) -> None:
    import wave

    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 16000 * 3)
    seen: list[float] = []
    transcript = transcriber.transcribe(path, progress=seen.append)
    assert transcript.segments == [] and transcript.duration == pytest.approx(3.0)
    assert seen == [1.0]


@needs_model
def test_sequential_mode_keeps_word_timestamps(manifest: dict[str, Any]) -> None:
    transcript = WhisperTranscriber(vad=False).transcribe(TONE_THEN_SPEECH)
    keyword = manifest["media"]["media/tone-then-speech.mp3"]["keywords"][0]
    starts = _spoken_at(transcript, keyword["word"])
    assert starts and abs(starts[0] - keyword["start"]) <= 1.5


def test_language_given_or_detected_for_multilingual_models() -> None:
    class FakeModel:
        class model:  # mimics WhisperModel.model
            is_multilingual = True

        supported_languages = ("en", "de", "fr")

        def __init__(self) -> None:
            self.detected: list[int] = []

        def feature_extractor(self, audio: np.ndarray) -> np.ndarray:
            return np.zeros((80, 101), dtype=np.float32)

        def detect_language(self, *, features: np.ndarray, language_detection_segments: int) -> tuple[str, float, Any]:
            self.detected.append(language_detection_segments)
            return "de", 0.9, []

    transcriber = WhisperTranscriber()
    transcriber.name = "small"  # a multilingual model name
    fake = FakeModel()
    audio = np.zeros(16000 * 40, dtype=np.float32)
    windows = [Window(0.0, 10.0), Window(12.0, 20.0)]
    assert transcriber._language(fake, audio, windows, "fr") == "fr"
    assert transcriber._language(fake, audio, windows, None) == "de"
    assert transcriber._language(fake, audio, windows, "xx") == "de"  # unknown code: detect
    assert fake.detected == [2, 2]
    transcriber.name = "tiny.en"
    assert transcriber._language(fake, audio, windows, "fr") == "en"


def test_missing_model_folder_is_a_config_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        WhisperTranscriber(str(tmp_path / "no-such-model"))
    assert str(tmp_path / "no-such-model") in str(caught.value)
    assert caught.value.exit_code == 3 and caught.value.hint and "catalog models" in caught.value.hint


def test_unloadable_model_is_a_config_error_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    transcriber = WhisperTranscriber(str(tmp_path))
    with pytest.raises(ModelError) as caught:
        transcriber.transcribe(TONE_THEN_SPEECH)
    assert caught.value.hint and "tiny.en" in caught.value.hint


# --- the loop / hallucination check -----------------------------------------------------------


def _result(
    text: str, start: float = 0.0, end: float = 10.0, *, probability: float = 0.9, logprob: float = -0.2
) -> WindowResult:
    words = text.split()
    step = (end - start) / max(len(words), 1)
    timed = [DecodedWord(start + i * step, start + (i + 1) * step, " " + w, probability) for i, w in enumerate(words)]
    segments = [DecodedSegment(start, end, text, timed)] if words else []
    return WindowResult(Window(start, end), segments, avg_logprob=logprob)


SPEECH = np.full(int(30 / FRAME_S), 0.9, dtype=np.float32)  # VAD: speech all along
SILENCE = np.zeros(int(30 / FRAME_S), dtype=np.float32)


def test_loop_check_passes_ordinary_speech_and_real_repetition() -> None:
    ok = _result("This is me talking really slow and here's some more words words words words and that is all")
    assert window_problems(ok, SPEECH, LoopCheck()) == []


def test_loop_check_flags_a_looping_sentence() -> None:
    loop = _result(" ".join(["I am going to the store."] * 6), 0.0, 20.0)
    problems = window_problems(loop, SPEECH, LoopCheck())
    assert any("repeated" in p for p in problems)
    assert any("compression ratio" in p for p in problems)
    assert longest_repeat(["a", "b", "c", "a", "b", "c", "a", "b", "c", "d"]) == (3, 3)
    assert compression_ratio("the " * 50) > 2.4


def test_loop_check_flags_a_stuck_word_and_too_many_words() -> None:
    stuck = _result("no " * 10, 0.0, 4.0)
    assert any("1-gram repeated" in p for p in window_problems(stuck, SPEECH, LoopCheck()))
    crammed = _result(" ".join(f"word{i}" for i in range(40)), 0.0, 3.0)
    assert any("words in" in p for p in window_problems(crammed, SPEECH, LoopCheck()))


def test_loop_check_flags_text_over_silence_empty_output_and_low_confidence() -> None:
    ghost = _result("Thank you for watching", 0.0, 3.0, probability=0.2)
    assert any("silence" in p for p in window_problems(ghost, SILENCE, LoopCheck()))
    assert window_problems(_result("Thank you for watching", 0.0, 3.0), SILENCE, LoopCheck()) == []  # confident
    empty = _result("", 0.0, 10.0)
    assert any("no text" in p for p in window_problems(empty, SPEECH, LoopCheck()))
    unsure = _result("something was said here", logprob=-1.4)
    assert any("log-probability" in p for p in window_problems(unsure, SPEECH, LoopCheck()))


def test_loop_check_flags_the_prompt_read_back() -> None:
    echo = _result("Nonzero, Robert Wright, Ukraine.")
    terms = ["Nonzero", "Robert Wright", "Ukraine"]
    assert "prompt read back" in window_problems(echo, SPEECH, LoopCheck(), terms)
    said = _result("Robert Wright talks about Ukraine today")
    assert "prompt read back" not in window_problems(said, SPEECH, LoopCheck(), terms)


# --- skipped speech ---------------------------------------------------------------------------


def test_speech_without_words_is_found_and_merged_without_duplicates() -> None:
    words = [DecodedWord(0.5 + 0.4 * i, 0.8 + 0.4 * i, f" w{i}") for i in range(5)]  # 0.5 .. 2.4 s
    result = WindowResult(Window(0.0, 10.0), split_sentences(words))
    gaps = uncovered_speech(result, SPEECH)
    assert gaps == [(pytest.approx(2.4), 10.0)]
    again = WindowResult(
        Window(2.0, 10.0),
        split_sentences([DecodedWord(2.1, 2.4, " w4"), DecodedWord(3.0, 3.5, " new."), DecodedWord(4.0, 4.4, " more")]),
    )
    merge_gap_words(again, gaps, words)
    assert [w.word for s in again.segments for w in s.words] == [" new.", " more"]
    assert uncovered_speech(result, SILENCE) == []


def test_sentences_split_at_sentence_ends_and_pauses() -> None:
    words = [
        DecodedWord(0, 0.5, " Hello"),
        DecodedWord(0.5, 1, " there."),
        DecodedWord(1.1, 1.5, " Next"),
        DecodedWord(4.0, 4.5, " after"),
        DecodedWord(4.5, 5, " pause"),
    ]
    assert [s.text for s in split_sentences(words)] == ["Hello there.", "Next", "after pause"]


# --- windows ----------------------------------------------------------------------------------


def test_windows_cut_long_speech_at_pauses_and_skip_long_gaps() -> None:
    probs = np.full(int(100 / FRAME_S), 0.95, dtype=np.float32)
    for pause in (12.0, 27.0, 55.0):  # short pauses between words
        probs[int(pause / FRAME_S) : int((pause + 0.4) / FRAME_S)] = 0.01
    probs[int(70 / FRAME_S) : int(80 / FRAME_S)] = 0.0  # 10 s of music
    windows = plan_windows(speech_regions(probs, VadSettings()), probs)
    assert all(w.duration <= 30.0 for w in windows)
    cuts = [w.end for w in windows[:-1] if not w.pieces]
    assert any(27.0 <= c <= 27.5 for c in cuts), cuts
    covered = [span for w in windows for span in w.spans]
    assert not any(s < 75.0 < e for s, e in covered), covered  # the music is not decoded


def test_joined_window_maps_times_back() -> None:
    window = Window(10.0, 20.0, ((10.0, 12.0), (15.0, 20.0)))
    assert window.pieces == ((10.0, 12.0), (15.0, 20.0))
    assert window.duration == pytest.approx(8.0)
    assert window.to_original(0.5) == pytest.approx(10.5)
    assert window.to_original(3.5) == pytest.approx(15.5)
    assert window.to_original(2.4) == pytest.approx(12.0)  # in the separator: the end of the piece before
    audio = np.arange(25 * 16000, dtype=np.float32)
    assert window.audio(audio).shape[0] == 8 * 16000


# --- small helpers ----------------------------------------------------------------------------


def test_vocabulary_prompt_is_short_and_deduplicated() -> None:
    assert vocabulary_prompt(None) is None
    assert vocabulary_prompt(["  Nonzero ", "nonzero", "Robert  Wright", ""]) == "Nonzero, Robert Wright."
    long = vocabulary_prompt([f"Name{i}" for i in range(100)], max_chars=60)
    assert long is not None and len(long) <= 61


def test_language_code_from_feed() -> None:
    assert language_code("en-US") == "en"
    assert language_code("EN_gb") == "en"
    assert language_code("") is None
    assert language_code("english language") is None
