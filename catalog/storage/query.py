"""The query language: what a user types, compiled to an FTS5 MATCH over the analysed index.

Words are ANDed; "quoted words" are a phrase (found across a segment boundary too); `word*` is a
prefix; `-word` or `-"a phrase"` excludes; `OR` between two terms accepts either. Anything else a
person can type (`:`, `(`, `NEAR`, stray quotes) is searched as plain words. Each term goes through
the same analyser as the index (`catalog.storage.tokens`), once per stemmer the index was written
with, so "negotiating" finds "negotiations" in English and "Verhandlung" finds "Verhandlungen" in
German. A prefix is matched against the stems too: `negotiat*` also matches the stem `negoti` that
"negotiations" and "negotiating" are indexed as.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.errors import SearchQueryError
from catalog.storage.tokens import DEFAULT_STEMMER, NO_STEMMER, WORD, analyse, fold

MIN_COMPOUND = 8  # single words this long are also tried as two adjacent words (ceasefire / cease fire)
MIN_HALF = 4  # ... of at least this many letters each
PREFIX_SHORTER = 4  # a prefix also matches stems up to this many letters shorter than itself
MIN_PREFIX_STEM = 4
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
TEXT_COLUMNS = "{idx_body idx_heading}"
PHRASE_COLUMNS = "{idx_body idx_heading idx_bridge}"


@dataclass
class Term:
    kind: str  # word, phrase or prefix
    text: str
    negate: bool = False
    _cache: dict[str, list[list[str]]] = field(default_factory=dict, repr=False)

    def alternatives(self, stemmer: str) -> list[list[str]]:
        """The token sequences this term matches in text indexed with `stemmer` (a prefix: [[prefix]])."""
        if stemmer not in self._cache:
            if self.kind == "prefix":
                self._cache[stemmer] = [[fold(self.text)]]
            else:
                tokens = [token.text for token in analyse(self.text, stemmer)]
                found = [tokens] if tokens else []
                if self.kind == "word":
                    found += _compounds(self.text, tokens, stemmer)
                self._cache[stemmer] = [list(t) for t in dict.fromkeys(tuple(t) for t in found)]
        return self._cache[stemmer]

    def expression(self, stemmers: list[str]) -> str | None:
        """This term as FTS5 syntax over every stemmer's alternatives; None when it has no word in it."""
        if self.kind == "prefix":
            return _prefix_expression(fold(self.text))
        options: dict[str, None] = {}
        for stemmer in stemmers:
            for tokens in self.alternatives(stemmer):
                options[quote(" ".join(tokens))] = None
        if not options:
            return None
        # only a phrase looks across segment boundaries (a word's compound spellings need not)
        columns = PHRASE_COLUMNS if self.kind == "phrase" else TEXT_COLUMNS
        return f"{columns}: ({' OR '.join(options)})"


@dataclass
class Query:
    """A parsed query: `groups` are ANDed, the terms of a group ORed; `excluded` are NOTed."""

    text: str
    groups: list[list[Term]]
    excluded: list[Term]

    @property
    def positive(self) -> list[Term]:
        return [term for group in self.groups for term in group]

    def match(self, stemmers: list[str], filters: list[str] | None = None) -> str:
        """The FTS5 MATCH expression: these terms, under every stemmer in use, and the filter clauses."""
        stemmers = with_unstemmed(stemmers)
        clauses = []
        for group in self.groups:
            options = [expr for term in group if (expr := term.expression(stemmers))]
            if options:
                clauses.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
        if not clauses:
            raise _nothing(self.text)
        expression = " AND ".join(clauses + (filters or []))
        for term in self.excluded:
            if (excluded := term.expression(stemmers)) is not None:
                expression = f"({expression}) NOT {excluded}"
        return expression


def parse_query(text: str) -> Query:
    """Turn free text into terms. Raises SearchQueryError when nothing in it can be searched."""
    if not text.strip():
        raise SearchQueryError("empty search query", hint='give a word or a "quoted phrase" to search for')
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        negate, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if bare is not None:
            if bare == "OR" and groups:
                pending_or = True
                continue
            negate = bare.startswith("-") and len(bare) > 1
            bare = bare.lstrip("-") if negate else bare
            words = WORD.findall(bare)
            if not words:
                continue
            if bare.endswith("*") and len(words) == 1:
                term = Term("prefix", words[0], negate)
            else:  # "cease-fire", "a:b": one word in pieces, matched as those pieces in a row or joined
                term = Term("word", " ".join(words), negate)
        else:
            words = WORD.findall(phrase or "")
            if not words:
                continue
            term = Term("phrase", " ".join(words), negate)
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


def with_unstemmed(stemmers: list[str]) -> list[str]:
    return list(dict.fromkeys([*stemmers, NO_STEMMER]))


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _nothing(text: str) -> SearchQueryError:
    return SearchQueryError(
        f"nothing to search for in {text!r}",
        hint="a query needs at least one word that is not excluded with '-'",
    )


def _compounds(text: str, tokens: list[str], stemmer: str) -> list[list[str]]:
    """Other spellings of a compound, since speech-to-text and writers disagree: "ceasefire" also as
    "cease fire"/"cease-fire", and "cease-fire" also as "ceasefire"."""
    if len(tokens) > 1:
        joined = [token.text for token in analyse("".join(WORD.findall(text)), stemmer)]
        return [joined] if len(joined) == 1 else []
    word = fold(text)
    if len(tokens) != 1 or len(word) < MIN_COMPOUND or not word.isalpha() or not word.isascii():
        return []
    if stemmer not in (DEFAULT_STEMMER, NO_STEMMER):  # English compounds: German ones are written joined
        return []
    splits = []
    for i in range(MIN_HALF, len(word) - MIN_HALF + 1):
        split = [token.text for token in analyse(f"{word[:i]} {word[i:]}", stemmer)]
        if len(split) == 2:
            splits.append(split)
    return splits


def _prefix_expression(prefix: str) -> str:
    """`prefix*`, or any stem it would have been cut to: `negotiat*` also matches the stem `negoti`."""
    options = [quote(prefix) + "*"]
    if prefix.isalpha():
        options += [quote(prefix[:-k]) for k in range(1, PREFIX_SHORTER + 1) if len(prefix) - k >= MIN_PREFIX_STEM]
    return f"{TEXT_COLUMNS}: ({' OR '.join(options)})"


_RAW = re.compile(r'("(?:[^"]|"")*")|\b(AND|OR|NOT|NEAR)\b|(\{[^}]*\})|([^\W_][\w\'’]*)(\s*:)?|(.)', re.S)


def raw_match(text: str, stemmer: str = DEFAULT_STEMMER) -> str:
    """Expert FTS5 syntax (`--raw`), kept as written, with its words analysed the way the index is:
    `NEAR(armistice outcome, 5)` becomes `NEAR("armistic" "outcom", 5)`. Columns are named as in the
    index (idx_body, idx_heading, idx_bridge, idx_meta); numbers stay as typed."""
    out = []
    for match in _RAW.finditer(text):
        quoted, keyword, columns, word, colon, other = match.groups()
        if quoted is not None:
            out.append(quote(" ".join(t.text for t in analyse(quoted[1:-1].replace('""', '"'), stemmer))))
        elif word is not None and not colon and not word.isdigit():
            tokens = [t.text for t in analyse(word, stemmer)]
            out.append(quote(" ".join(tokens)) if tokens else word)
        else:
            out.append(keyword or columns or (word or "") + (colon or "") or other or "")
    return "".join(out)
