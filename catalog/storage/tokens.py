"""Text analysis for the search index and the queries, in one place.

The index's FTS5 tokenizer is `porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'`: in C,
so indexing runs at FTS5's own speed. The `categories` option keeps combining marks inside words
(Devanagari vowel signs and viramas: चुना no longer matches चीन); `remove_diacritics 2` makes Latin
accents optional ("Sao Paulo" finds "São Paulo"); porter stems English.

Three things FTS5 cannot do are done here, in Python, before the text reaches it:

- Chinese, Japanese and Korean runs become overlapping character pairs ("纪念币" -> "纪念 念币"), so
  a word inside a run is found as a phrase of its pairs (unicode61 keeps a whole run as one token);
- a feed in a language with a Snowball stemmer other than English's (German, French, Portuguese,
  Russian, Hindi... 30 of them, PyStemmer, in C) is stemmed in its own language first, and the
  queries are stemmed the same way for every such language in the catalogue;
- (queries only) numbers and compounds get their other spellings: see `catalog.storage.query`.

`analyse` gives the tokens with their places in the text, the way FTS5 will see them, for snippets
and word times; `prepare` gives the text FTS5 is handed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from catalog.language import language_code

# ISO 639-1 code -> Snowball algorithm (PyStemmer), for languages stemmed here. English (and every
# language without a stemmer) is left to FTS5's porter tokenizer.
STEMMERS = {
    "de": "german", "fr": "french", "es": "spanish", "pt": "portuguese", "it": "italian", "nl": "dutch",
    "ru": "russian", "hi": "hindi", "ar": "arabic", "fa": "persian", "sv": "swedish", "no": "norwegian",
    "nb": "norwegian", "nn": "norwegian", "da": "danish", "fi": "finnish", "hu": "hungarian", "ro": "romanian",
    "tr": "turkish", "el": "greek", "ca": "catalan", "eu": "basque", "cs": "czech", "pl": "polish",
    "lt": "lithuanian", "id": "indonesian", "ga": "irish", "hy": "armenian", "sr": "serbian", "ta": "tamil",
    "ne": "nepali", "et": "estonian", "yi": "yiddish", "eo": "esperanto",
}  # fmt: skip
FTS_STEMMED = ""  # the analyser name of text left to FTS5 (porter for English, nothing else)
TOKENIZER = "porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'"


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


# A word as unicode61 (with categories L* N* Co M*) sees it: letters, digits, private-use and marks.
WORD = re.compile(rf"(?:[^\W_]|[{_marks()}\ue000-\uf8ff])+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff]+")
_FOLDABLE_MAX = 0x052F  # Latin, Greek, Cyrillic: scripts whose accents are optional to their readers


@dataclass(frozen=True)
class Token:
    text: str  # the token, as FTS5 will compare it (see `comparable`)
    start: int  # its place in the analysed text (character offsets)
    end: int
    surface: str = ""  # the word as written, folded (prefixes match it)


def analyser_for(language: str | None) -> str:
    """The Snowball stemmer a feed's `<language>` is stemmed with here, or FTS_STEMMED (English,
    unknown, or a language Snowball does not have: porter in FTS5 does what can be done)."""
    return STEMMERS.get(language_code(language) or "", FTS_STEMMED)


@lru_cache(maxsize=64)
def _stemmer(name: str) -> Any:
    import Stemmer  # PyStemmer: the Snowball stemmers in C

    return Stemmer.Stemmer(name, 10_000)


def fold(word: str) -> str:
    """Lower case; accents dropped from Latin, Greek and Cyrillic letters only."""
    word = word.lower()
    if word.isascii():
        return word
    if all(ord(ch) <= _FOLDABLE_MAX or unicodedata.category(ch)[0] == "M" for ch in word):
        decomposed = unicodedata.normalize("NFD", word)
        word = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] != "M")
    return unicodedata.normalize("NFC", word)


def stem(words: list[str], analyser: str) -> list[str]:
    if analyser == FTS_STEMMED or not words:
        return words
    return list(_stemmer(analyser).stemWords(words))


def comparable(words: list[str]) -> list[str]:
    """What FTS5 compares: porter stems of folded words (the index's tokenizer, reproduced)."""
    return list(_stemmer("porter").stemWords([fold(word) for word in words]))


def _pieces(text: str) -> list[tuple[str, int, int]]:
    """The words of `text` as FTS5 splits them, CJK runs as their character pairs: (word, start, end)."""
    if _CJK.search(text) is None:  # most text: no run to split
        return [(match.group(0), match.start(), match.end()) for match in WORD.finditer(text)]
    words: list[tuple[str, int, int]] = []
    for match in WORD.finditer(text):
        word, offset = match.group(0), match.start()
        if _CJK.search(word) is None:
            words.append((word, offset, match.end()))
            continue
        at = 0
        for run in _CJK.finditer(word):
            if run.start() > at:
                words.append((word[at : run.start()], offset + at, offset + run.start()))
            begin = offset + run.start()
            words += [(pair, begin + i, begin + i + len(pair)) for i, pair in _pairs(run.group(0))]
            at = run.end()
        if at < len(word):
            words.append((word[at:], offset + at, offset + len(word)))
    return words


def analyse(text: str, analyser: str = FTS_STEMMED) -> list[Token]:
    """The tokens of `text` in order, each with its span, as FTS5 will compare them."""
    words = _pieces(text)
    folded = [fold(word) for word, _s, _e in words]
    stemmed = stem(folded, analyser)
    texts = comparable(stemmed) if analyser != FTS_STEMMED else list(_stemmer("porter").stemWords(folded))
    return [
        Token(t, start, end, surface) for t, surface, (_w, start, end) in zip(texts, folded, words, strict=True) if t
    ]


def words_of(text: str) -> list[str]:
    """The words of `text` as FTS5 splits them (CJK runs as pairs), unstemmed: a query term's words."""
    return [word for word, _s, _e in _pieces(text)]


def prepare(text: str, analyser: str = FTS_STEMMED) -> str:
    """The text FTS5 is given: as it is, but with CJK runs as character pairs and, for a language
    stemmed here, its words stemmed."""
    if analyser == FTS_STEMMED:
        if _CJK.search(text) is None:
            return text
        return _CJK.sub(lambda run: " " + " ".join(pair for _i, pair in _pairs(run.group(0))) + " ", text)
    return " ".join(stem([fold(word) for word in words_of(text)], analyser))


def _pairs(run: str) -> list[tuple[int, str]]:
    """Overlapping character pairs of a CJK run (a single character stays itself)."""
    if len(run) == 1:
        return [(0, run)]
    return [(i, run[i : i + 2]) for i in range(len(run) - 1)]
