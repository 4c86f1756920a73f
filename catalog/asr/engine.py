"""Every name catalog uses from faster-whisper, in one place, behind small functions.

The pipeline goes deeper than faster-whisper's documented `WhisperModel.transcribe()`: it calls the
CTranslate2 decoder (`model.model.generate`), the word aligner (`WhisperModel.add_word_timestamps`),
the feature extractor, the tokenizer and the Silero VAD model that faster-whisper bundles. None of
that is promised stable, so:

* pyproject pins the range these were tested with (`faster-whisper>=1.2,<1.3`);
* `tests/test_engine_contract.py` checks every name and signature used here, and fails on an upgrade
  that changes them, before a user's cron job does;
* nothing else in catalog imports faster-whisper.

faster-whisper is slow to import (it pulls in CTranslate2, onnxruntime, tokenizers), so each function
imports it when first called.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TESTED_RANGE = ">=1.2,<1.3"


def version() -> str:
    import faster_whisper

    return str(faster_whisper.__version__)


def load_model(model_ref: str, *, compute_type: str, cpu_threads: int, num_workers: int, device: str = "cpu") -> Any:
    """A `faster_whisper.WhisperModel` on `device` (cpu, cuda), from local files only (never a hub download)."""
    from faster_whisper import WhisperModel

    return WhisperModel(
        model_ref,
        device=device,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        num_workers=num_workers,
        local_files_only=True,
    )


def download_model(name: str) -> str:
    """Fetch a model by faster-whisper name from the Hugging Face hub into its local cache; returns the folder."""
    from faster_whisper.utils import download_model as fetch

    return str(fetch(name))


def cached_model(name: str) -> str:
    """The cached folder of a faster-whisper model name; raises when it is not in the local cache."""
    from faster_whisper.utils import download_model as fetch

    return str(fetch(name, local_files_only=True))


def available_model_names() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def decode_audio(path: str, sampling_rate: int) -> np.ndarray:
    from faster_whisper import decode_audio as decode

    return np.asarray(decode(path, sampling_rate=sampling_rate))


def pad_or_trim(features: np.ndarray) -> np.ndarray:
    from faster_whisper.audio import pad_or_trim as pad

    return np.asarray(pad(features))


def tokenizer(model: Any, language: str) -> Any:
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)


def suppressed_tokens(tokenizer: Any) -> list[int]:
    from faster_whisper.transcribe import get_suppressed_tokens

    return list(get_suppressed_tokens(tokenizer, [-1]))


def storage_view(array: np.ndarray) -> Any:
    """A numpy array as the CTranslate2 StorageView the decoder takes."""
    from faster_whisper.transcribe import get_ctranslate2_storage

    return get_ctranslate2_storage(array)


def vad_model() -> Any:
    """The Silero VAD model faster-whisper bundles (ONNX); faster-whisper caches it per process."""
    from faster_whisper.vad import get_vad_model

    return get_vad_model()
