"""The vocabulary hint: names from the feed that the audio probably contains, as a short Whisper prompt."""

from __future__ import annotations

import re


def vocabulary_prompt(vocabulary: list[str] | None, max_chars: int = 160) -> str | None:
    """Feed terms as a short Whisper prompt: 'Nonzero, Robert Wright, Ukraine.' (deduplicated, in order).

    Whisper reads the prompt as text said just before the window, so names in it are spelled the
    same way when they are heard. Kept short: long prompts make tiny models read them back.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for raw in vocabulary or []:
        term = " ".join(str(raw).split()).strip(" ,;.")
        if not term or term.lower() in seen or len(term) > max_chars:
            continue
        if len(", ".join([*terms, term])) > max_chars:
            break
        seen.add(term.lower())
        terms.append(term)
    return ", ".join(terms) + "." if terms else None


_NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,}|de|von|van|al))*\b")
_COMMON = {
    "The",
    "This",
    "That",
    "In",
    "On",
    "We",
    "It",
    "And",
    "But",
    "A",
    "An",
    "I",
    "You",
    "He",
    "She",
    "They",
    "What",
    "How",
    "Why",
    "When",
    "Who",
    "Today",
    "Episode",
    "Our",
    "If",
    "So",
    "For",
    "With",
    "Is",
    "Are",
}


def feed_vocabulary(show: str | None, persons: list[str], notes: str, *, limit: int = 12) -> list[str]:
    """Up to `limit` distinct names: the show title, listed people, then capitalised names in the notes."""
    found: list[str] = []
    candidates = [show or "", *persons, *(m.group(0) for m in _NAME.finditer(notes))]
    for name in candidates:
        name = name.strip(" .,:;")
        if not name or name in _COMMON or name.lower() in (f.lower() for f in found):
            continue
        found.append(name)
        if len(found) >= limit:
            break
    return found
