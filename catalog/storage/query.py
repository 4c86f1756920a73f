"""The query language: what a user types, compiled to an FTS5 MATCH over the search index.

Words are ANDed; "quoted words" are a phrase (found across a segment boundary too); `word*` is a
prefix; `-word` or `-"a phrase"` excludes; `OR` between two terms accepts either. Anything else a
person can type (`:`, `(`, `NEAR`, stray quotes) is searched as plain words.

Each term is searched in every form the index may hold it in (see `catalog.storage.tokens`): as
written (FTS5's porter then stems English), stemmed by each other-language stemmer in the catalogue,
a number in digits and in words ("ten" <-> "10", "twenty twenty-four" <-> "2024"), a compound
joined and apart ("ceasefire" <-> "cease-fire"). A prefix also matches the stems it was cut to:
`negotiat*` finds "negotiations", indexed as the stem `negoti`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from catalog.errors import SearchQueryError
from catalog.storage.numbers import NUMBER_WORDS, number_at, spellings
from catalog.storage.tokens import FTS_STEMMED, WORD, comparable, fold, stem, words_of

MIN_COMPOUND = 8  # single words this long are also tried as two adjacent words (ceasefire / cease fire)
MAX_COMPOUND = 12  # (longer words are rarely two written apart, and each split costs the query time)
MIN_HALF = 4  # ... of at least this many letters each
PREFIX_SHORTER = 4  # a prefix also matches stems up to this many letters shorter than itself
MIN_PREFIX_STEM = 4
MAX_SPELLINGS = 16  # phrase spellings at most (a phrase of several numbers multiplies them)
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
TEXT_COLUMNS = "{idx_body idx_heading}"
PHRASE_COLUMNS = "{idx_body idx_heading idx_bridge}"


@dataclass
class Term:
    kind: str  # word, phrase or prefix
    text: str
    negate: bool = False
    _cache: dict[str, list[list[str]]] = field(default_factory=dict, repr=False)

    def alternatives(self, analyser: str) -> list[list[str]]:
        """The word sequences this term is searched as, in text analysed with `analyser` (FTS_STEMMED:
        words as written, for FTS5's porter; a Snowball name: stemmed with it). A prefix: [[prefix]]."""
        if analyser not in self._cache:
            if self.kind == "prefix":
                found = [[fold(self.text)]]
            else:
                words = words_of(self.text)
                found = _number_spellings(words)
                if len(found) == 1 and analyser == FTS_STEMMED:  # no number in it: compounds apart or joined
                    found += _compounds(self.text, words) if self.kind == "word" else _joined(words)
                found = [stem([fold(w) for w in seq], analyser) if analyser != FTS_STEMMED else seq for seq in found]
            self._cache[analyser] = [list(t) for t in dict.fromkeys(tuple(t) for t in found if t)]
        return self._cache[analyser]

    def sequences(self, analysers: list[str]) -> list[list[str]]:
        """Every word sequence FTS5 may have matched for this term, as it compares them (porter stems
        of folded words), over all `analysers`: what a match is found again by in a passage."""
        key = "\0" + "\0".join(analysers)
        if key not in self._cache:
            found = {tuple(comparable(seq)) for analyser in analysers for seq in self.alternatives(analyser)}
            self._cache[key] = [list(seq) for seq in sorted(found)]
        return self._cache[key]

    def expression(self, analysers: list[str]) -> str | None:
        """This term as FTS5 syntax over every analyser's alternatives; None when it has no word in it."""
        if self.kind == "prefix":
            return _prefix_expression(fold(self.text))
        # Keyed by lower case, as FTS5 folds it: a form the same but for case is the same tokens, and
        # each phrase in the expression costs a walk over its doclists.
        options: dict[str, str] = {}
        for analyser in analysers:
            for words in self.alternatives(analyser):
                options.setdefault(" ".join(words).lower(), quote(" ".join(words)))
        if not options:
            return None
        # only a phrase looks across segment boundaries (a word's other spellings need not)
        columns = PHRASE_COLUMNS if self.kind == "phrase" else TEXT_COLUMNS
        return f"{columns}: ({' OR '.join(options.values())})"


@dataclass
class Query:
    """A parsed query: `groups` are ANDed, the terms of a group ORed; `excluded` are NOTed."""

    text: str
    groups: list[list[Term]]
    excluded: list[Term]

    @property
    def positive(self) -> list[Term]:
        return [term for group in self.groups for term in group]

    def match(self, analysers: list[str], columns: str | None = None) -> str:
        """The FTS5 MATCH expression: these terms in every analyser's forms (found only in `columns`,
        e.g. "{idx_heading}", when given; excluded terms are excluded from every column)."""
        analysers = with_fts_stemmed(analysers)
        clauses = []
        for group in self.groups:
            options = [expr for term in group if (expr := term.expression(analysers))]
            if options:
                clauses.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
        if not clauses:
            raise _nothing(self.text)
        expression = " AND ".join(clauses)
        if columns is not None:  # FTS5 intersects a column filter with those inside it
            expression = f"{columns}: ({expression})"
        for term in self.excluded:
            if (excluded := term.expression(analysers)) is not None:
                expression = f"({expression}) NOT {excluded}"
        return expression


def parse_query(text: str) -> Query:
    """Turn free text into terms. Raises SearchQueryError when nothing in it can be searched."""
    if not text.strip():
        raise SearchQueryError("empty search query", hint='give a word or a "quoted phrase" to search for')
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for term in _terms(text):
        if term is None:  # an OR between two terms
            pending_or = bool(groups)
            continue
        if term.negate:
            excluded.append(term)
        elif pending_or:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
    if not groups:
        raise _nothing(text)
    return Query(text, groups, excluded)


def _terms(text: str) -> list[Term | None]:
    """The terms in order (None for an OR); bare number words in a row are one term (twenty twenty-four)."""
    out: list[Term | None] = []
    for match in _TOKEN.finditer(text):
        negate, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if bare is not None:
            if bare == "OR" and out and out[-1] is not None:  # OR with nothing before it is a word
                out.append(None)
                continue
            negate = bare.startswith("-") and len(bare) > 1
            bare = bare.lstrip("-") if negate else bare
            words = WORD.findall(bare)
            if not words:
                continue
            if bare.endswith("*") and len(words) == 1:
                out.append(Term("prefix", words[0], negate))
                continue
            previous = out[-1] if out else None
            if (
                previous is not None
                and previous.kind == "word"
                and not negate
                and not previous.negate
                and _all_number(previous.text)
                and _all_number(" ".join(words))
                and _one_number(f"{previous.text} {' '.join(words)}")
            ):
                previous.text = f"{previous.text} {' '.join(words)}"  # "twenty" "twenty-four": one number
                continue
            # "cease-fire", "a:b": one word in pieces, matched as those pieces in a row, or joined
            out.append(Term("word", " ".join(words), negate))
        else:
            words = WORD.findall(phrase or "")
            if words:
                out.append(Term("phrase", " ".join(words), negate))
    return out


def _all_number(text: str) -> bool:
    words = [fold(w) for w in words_of(text)]
    return bool(words) and all(w in NUMBER_WORDS or w == "and" or w.isdecimal() for w in words)


def _one_number(text: str) -> bool:
    words = [fold(w) for w in words_of(text)]
    found = number_at(words, 0)
    return found is not None and found[1] == len(words)


def _number_spellings(words: list[str]) -> list[list[str]]:
    """The words as written, and with each number in them spelled every way (bounded)."""
    folded = [fold(w) for w in words]
    parts: list[list[list[str]]] = []  # for each run: its spellings
    i = 0
    while i < len(words):
        found = number_at(folded, i)
        if found is None:
            parts.append([[words[i]]])
            i += 1
            continue
        value, used, ordinal = found
        forms = spellings(value, ordinal)
        written = words[i : i + used]
        parts.append([written] + [f for f in forms if [fold(w) for w in f] != [fold(w) for w in written]])
        i += used
    out = []
    for combination in itertools.islice(itertools.product(*parts), MAX_SPELLINGS):
        out.append([word for part in combination for word in part])
    return out


def with_fts_stemmed(analysers: list[str]) -> list[str]:
    return list(dict.fromkeys([FTS_STEMMED, *analysers]))


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _nothing(text: str) -> SearchQueryError:
    return SearchQueryError(
        f"nothing to search for in {text!r}",
        hint="a query needs at least one word that is not excluded with '-'",
    )


def _compounds(text: str, words: list[str]) -> list[list[str]]:
    """Other spellings of a compound, since speech-to-text and writers disagree: "ceasefire" also as
    "cease fire"/"cease-fire", and "cease-fire" also as "ceasefire" (English compounds only)."""
    if len(words) > 1:
        joined = "".join(words)
        return [[joined]] if joined.isascii() and joined.isalpha() else []
    word = fold(text)
    if len(words) != 1 or not MIN_COMPOUND <= len(word) <= MAX_COMPOUND or not word.isalpha() or not word.isascii():
        return []
    return [[word[:i], word[i:]] for i in range(MIN_HALF, len(word) - MIN_HALF + 1)]


def _joined(words: list[str]) -> list[list[str]]:
    """A two-word phrase also as one word: "cease fire" finds "ceasefire"."""
    joined = "".join(words)
    fits = len(words) == 2 and len(joined) <= MAX_COMPOUND
    return [[joined]] if fits and joined.isascii() and joined.isalpha() else []


def _prefix_expression(prefix: str) -> str:
    """`prefix*`, or any stem it would have been cut to: `negotiat*` also matches the stem `negoti`."""
    options = [quote(prefix) + "*"]
    if prefix.isalpha():
        options += [quote(prefix[:-k]) for k in range(1, PREFIX_SHORTER + 1) if len(prefix) - k >= MIN_PREFIX_STEM]
    return f"{TEXT_COLUMNS}: ({' OR '.join(options)})"


_RAW = re.compile(r'("(?:[^"]|"")*")|\b(AND|OR|NOT|NEAR)\b|(\{[^}]*\})|([^\W_][\w\'’]*)(\s*:)?|(.)', re.S)


def raw_match(text: str) -> str:
    """Expert FTS5 syntax (`--raw`), kept as written, its words quoted the way the index splits them
    (`NEAR(armistice outcome, 5)` stays that; CJK words become their pairs). Columns are named as in
    the index: idx_body, idx_heading, idx_bridge."""
    out = []
    for match in _RAW.finditer(text):
        quoted, keyword, columns, word, colon, other = match.groups()
        if quoted is not None:
            out.append(quote(" ".join(words_of(quoted[1:-1].replace('""', '"')))))
        elif word is not None and not colon and not word.isdigit():
            words = words_of(word)
            out.append(quote(" ".join(words)) if words else word)
        else:
            out.append(keyword or columns or (word or "") + (colon or "") or other or "")
    return "".join(out)
