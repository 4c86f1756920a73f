"""Which search runs, by words (bm25), by meaning or both fused, and running it: one place for the
CLI and the library API.

Light on purpose: a search by words never imports numpy or the embedding model (`catalog search`
must answer in a quarter of a second, start-up included); `catalog.storage.semantic` is imported only
when meaning is searched.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import SearchQueryError, SemanticUnavailableError
from catalog.storage.rows import Reader
from catalog.storage.search import Hit, ItemHits, search, search_items

MODES = ("auto", "hybrid", "semantic", "lexical")


def resolve_mode(db: Reader, mode: str, *, raw: bool = False) -> tuple[str, str | None]:
    """(the mode to run, a warning or None). auto: hybrid when the `semantic` extra is installed and the
    catalogue's vectors are the installed model's, else lexical (with a warning when they are not).
    hybrid and semantic without the extra raise SemanticUnavailableError."""
    from catalog.embedding import INSTALL_HINT, MODEL, available

    if mode == "lexical" or (mode == "auto" and (raw or not available())):
        return "lexical", None
    if not available():
        raise SemanticUnavailableError("search by meaning needs the `semantic` extra", hint=INSTALL_HINT)
    if raw:
        raise SearchQueryError("--raw is a full-text query: it cannot be searched by meaning", hint="drop --raw")
    if mode == "auto":
        from catalog.storage.vectors import state

        found = state(db, MODEL)
        if found == "changed":
            return "lexical", (
                f"the catalogue's vectors come from another embedding model than {MODEL}: searched by words "
                "only; run `catalog reindex --semantic`"
            )
        return ("hybrid" if found == "ready" else "lexical"), None
    return mode, None


def find_hits(db: Reader, text: str, *, mode: str = "lexical", raw: bool = False, **options: Any) -> list[Hit]:
    """The best passages for `text` in `mode` (as `resolve_mode` gives it), best first."""
    if mode == "lexical":
        return search(db, text, raw=raw, **options)
    from catalog.embedding import load_embedder
    from catalog.storage import semantic

    run = semantic.semantic_search if mode == "semantic" else semantic.hybrid_search
    return run(db, load_embedder(), text, **options)


def find_items(db: Reader, text: str, *, mode: str = "lexical", raw: bool = False, **options: Any) -> list[ItemHits]:
    """The best items for `text` in `mode`, each with up to three moments."""
    if mode == "lexical":
        return search_items(db, text, raw=raw, **options)
    from catalog.embedding import load_embedder
    from catalog.storage import semantic

    run = semantic.semantic_items if mode == "semantic" else semantic.hybrid_items
    return run(db, load_embedder(), text, **options)
