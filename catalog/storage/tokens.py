"""The one text analyser the search index and the queries share: words to index tokens.

SQLite's FTS5 tokenizers each get a language wrong: `porter` stems the query prefix `negotiat*` to
something no indexed stem starts with, and `unicode61` splits Devanagari words at their vowel signs
(so चुना matched चीन) and keeps a run of Chinese characters as one token (so 纪念币 inside a sentence is
never found). So catalog analyses text itself, here, and gives FTS5 the tokens separated by spaces
(its tokenizer only splits them again):

- words are runs of letters, digits and combining marks (vowel signs, viramas, accents);
- case is folded; accents are dropped from Latin, Greek and Cyrillic letters only ("São" -> "sao"),
  never the marks other scripts need to spell a word;
- Chinese, Japanese and Korean runs become overlapping character pairs ("纪念币" -> "纪念 念币"), so
  a word inside a run is found as a phrase of its pairs;
- English number words become digits ("ten" -> "10", "twenty twenty-four" -> "2024"), so a search
  finds a number however Whisper or a writer spelled it;
- words are stemmed with the Snowball stemmer of the item's language (English when unknown; none
  for a language Snowball does not have).

`analyse` keeps each token's place in the original text, for snippets and word times.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from catalog.language import language_code
from catalog.storage.numbers import merge_numbers

# ISO 639-1 code -> Snowball algorithm (PyStemmer). Unknown languages are not stemmed.
STEMMERS = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "pt": "portuguese", "it": "italian",
    "nl": "dutch", "ru": "russian", "hi": "hindi", "ar": "arabic", "fa": "persian", "sv": "swedish",
    "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "da": "danish", "fi": "finnish", "hu": "hungarian",
    "ro": "romanian", "tr": "turkish", "el": "greek", "ca": "catalan", "eu": "basque", "cs": "czech",
    "pl": "polish", "lt": "lithuanian", "id": "indonesian", "ga": "irish", "hy": "armenian", "sr": "serbian",
    "ta": "tamil", "ne": "nepali", "et": "estonian", "yi": "yiddish", "eo": "esperanto",
}  # fmt: skip
DEFAULT_STEMMER = "english"
NO_STEMMER = ""


def _marks() -> str:
    """A regex class of every combining mark in the Basic Multilingual Plane (10 ms, once)."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


_LETTER = rf"[^\W_]|[{_marks()}]"
# digits with thousands separators first ("1,000"), then words with inner apostrophes ("don't")
WORD = re.compile(rf"\d{{1,3}}(?:,\d{{3}})+(?!\d)|(?:{_LETTER})+(?:['’](?:{_LETTER})+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff]+")
# Scripts whose accents are optional to their readers: Latin, Greek, Cyrillic (up to U+052F) and Latin Extended.
_FOLDABLE_MAX = 0x052F


@dataclass(frozen=True)
class Token:
    text: str  # the index token
    start: int  # its place in the analysed text (character offsets)
    end: int


def stemmer_name(language: str | None) -> str:
    """The Snowball algorithm for a feed's `<language>`: English when unknown, none when unsupported."""
    code = language_code(language)
    if code is None:
        return DEFAULT_STEMMER
    return STEMMERS.get(code, NO_STEMMER)


@lru_cache(maxsize=64)
def _stemmer(name: str) -> Any:
    import Stemmer  # PyStemmer: the Snowball stemmers in C

    return Stemmer.Stemmer(name, 10_000)


def fold(word: str) -> str:
    """Case folded; accents dropped from Latin, Greek and Cyrillic letters only; apostrophes removed."""
    word = word.casefold().replace("’", "'")
    if word.isascii():
        return word.replace("'", "")
    if all(ord(ch) <= _FOLDABLE_MAX or unicodedata.category(ch)[0] == "M" for ch in word):
        decomposed = unicodedata.normalize("NFD", word)
        word = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] != "M")
    return unicodedata.normalize("NFC", word).replace("'", "")


def stem(words: list[str], stemmer: str) -> list[str]:
    if stemmer == NO_STEMMER or not words:
        return words
    return list(_stemmer(stemmer).stemWords(words))


def analyse(text: str, stemmer: str = DEFAULT_STEMMER, *, numbers: bool | None = None) -> list[Token]:
    """Index tokens of `text`, in order, each with its span in `text`.

    `numbers`: turn English number words into digits (default: when the stemmer is English's).
    """
    if numbers is None:
        numbers = stemmer == DEFAULT_STEMMER
    pieces: list[tuple[str, int, int, bool]] = []  # (folded, start, end, is_cjk)
    for match in WORD.finditer(text):
        word, offset = match.group(0), match.start()
        if _CJK.search(word) is None:
            pieces.append((fold(word), offset, match.end(), False))
            continue
        for part in _split_cjk(word):
            chunk, start, is_cjk = part
            if is_cjk:
                at = offset + start
                pieces += [(pair, at + i, at + i + len(pair), True) for i, pair in _pairs(chunk)]
            elif fold(chunk):
                pieces.append((fold(chunk), offset + start, offset + start + len(chunk), False))
    words = [(folded, start, end) for folded, start, end, cjk in pieces if not cjk]
    if numbers:
        words = merge_numbers(words)
    stems = stem([folded for folded, _s, _e in words], stemmer)
    tokens = [Token(t, start, end) for t, (_f, start, end) in zip(stems, words, strict=True) if t]
    tokens += [Token(pair, start, end) for pair, start, end, cjk in pieces if cjk]
    tokens.sort(key=lambda token: token.start)
    return tokens


def index_text(text: str, stemmer: str = DEFAULT_STEMMER) -> str:
    """What FTS5 is given for `text`: its tokens joined by spaces."""
    return " ".join(token.text for token in analyse(text, stemmer))


def _split_cjk(word: str) -> list[tuple[str, int, bool]]:
    """A word's CJK runs and the rest, in order: (chunk, offset in word, is CJK)."""
    parts: list[tuple[str, int, bool]] = []
    at = 0
    for run in _CJK.finditer(word):
        if run.start() > at:
            parts.append((word[at : run.start()], at, False))
        parts.append((run.group(0), run.start(), True))
        at = run.end()
    if at < len(word):
        parts.append((word[at:], at, False))
    return parts


def _pairs(run: str) -> list[tuple[int, str]]:
    """Overlapping character pairs of a CJK run (a single character stays itself)."""
    if len(run) == 1:
        return [(0, run)]
    return [(i, run[i : i + 2]) for i in range(len(run) - 1)]
