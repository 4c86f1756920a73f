"""Full-text search over articles and transcripts, ranked together by bm25.

User queries are translated into FTS5 syntax rather than passed through, so anything a person
can type works: words are ANDed, "quoted phrases" are phrases, `word*` is a prefix, `-word`
excludes, `OR` between terms is an alternative. Everything else (`:`, `(`, `NEAR`, stray quotes)
is searched as plain text. `raw=True` hands FTS5 syntax through for experts.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlite_utils import Database

from catalog.errors import SearchQueryError
from catalog.storage.feeds import require_feed

MARK_START, MARK_END = "<mark>", "</mark>"
MIN_COMPOUND = 8  # words this long are also tried as two adjacent words
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# a word: letters/digits, with apostrophes inside or around it (don't, Nonzero's); a lone ' is not a word
_WORDISH = re.compile(r"'*\w[\w']*", re.UNICODE)


@dataclass
class Query:
    match: str
    terms: list[list[str]]  # positive terms; a phrase is several words


@dataclass
class Hit:
    item_id: int
    kind: str
    feed: str
    title: str | None
    url: str | None
    published: str | None
    snippet: str
    score: float
    passage: str
    start: float | None = None
    end: float | None = None
    link: str | None = None
    speaker: str | None = None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        if self.start is None:
            for key in ("start", "end", "link", "speaker"):
                data.pop(key)
        return data


def parse_query(text: str) -> Query:
    """Turn free text into a safe FTS5 MATCH expression."""
    if not text.strip():
        raise SearchQueryError("empty search query", hint='give a word or a "quoted phrase" to search for')
    positives: list[str] = []
    negatives: list[str] = []
    terms: list[list[str]] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        negate, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None:
            if bare == "OR" and positives:
                pending_or = True
                continue
            negate = "-" if bare.startswith("-") and len(bare) > 1 else ""
            bare = bare.lstrip("-") if negate else bare
            prefix = bare.endswith("*")
            words = _WORDISH.findall(bare)
            if not words:
                continue
            expr = _quote(" ".join(words)) + "*" if prefix else _compound(words)
        else:
            words = _WORDISH.findall(phrase or "")
            if not words:
                continue
            expr = _quote(" ".join(words))
        if negate:
            negatives.append(expr)
            continue
        terms.append([w.lower() for w in words])
        if pending_or:
            positives[-1] = f"{positives[-1]} OR {expr}"
            pending_or = False
        else:
            positives.append(expr)
    if not positives:
        raise SearchQueryError(
            f"nothing to search for in {text!r}",
            hint="a query needs at least one word that is not excluded with '-'",
        )
    expr = " AND ".join(f"({p})" if " OR " in p and not p.startswith("(") else p for p in positives)
    for negative in negatives:
        expr = f"({expr}) NOT {negative}"
    return Query(expr, terms)


def _compound(words: list[str]) -> str:
    """A term that also matches its compound spellings, since speech-to-text and writers disagree:
    "ceasefire" also finds "cease-fire"/"cease fire", and "cease-fire" also finds "ceasefire"."""
    if len(words) > 1:
        return f"({_quote(' '.join(words))} OR {_quote(''.join(words))})"
    word = words[0]
    if len(word) < MIN_COMPOUND or not word.isalpha():
        return _quote(word)
    splits = [f"{word[:i]} {word[i:]}" for i in range(3, len(word) - 2)]
    return "(" + " OR ".join(_quote(alternative) for alternative in [word, *splits]) + ")"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def search(
    db: Database,
    text: str,
    *,
    kind: str | None = None,
    feed: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 20,
    raw: bool = False,
) -> list[Hit]:
    query = Query(text, [[w.lower() for w in _WORDISH.findall(text)]]) if raw else parse_query(text)
    if feed is not None:
        require_feed(db, feed)
    where = ["passages_fts MATCH :match"]
    params: dict[str, object] = {"match": query.match, "limit": limit}
    if kind:
        where.append("i.kind = :kind")
        params["kind"] = kind
    if feed:
        where.append("f.name = :feed")
        params["feed"] = feed
    if since:
        where.append("i.published >= :since")
        params["since"] = since.isoformat()
    if until:
        where.append("i.published < :until")
        params["until"] = (until + timedelta(days=1)).isoformat()
    sql = f"""
        SELECT p.item_id, i.kind, f.name, i.title, i.link, i.published,
               snippet(passages_fts, 0, '{MARK_START}', '{MARK_END}', '…', 20),
               bm25(passages_fts) AS rank, p.kind, p.start, p."end", p.speaker, p.words,
               i.enclosure_url, i.youtube_id
        FROM passages_fts
        JOIN passages p ON p.id = passages_fts.rowid
        JOIN items i ON i.id = p.item_id
        JOIN feeds f ON f.id = i.feed_id
        WHERE {" AND ".join(where)}
        ORDER BY rank
        LIMIT :limit
    """
    try:
        rows = db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchQueryError(
            f"invalid search query {text!r}: {exc}",
            hint='put words in double quotes to search for them literally, e.g. "NEAR"',
        ) from exc
    hits = []
    for row in rows:
        (
            item_id,
            item_kind,
            feed_name,
            title,
            link,
            published,
            snippet,
            rank,
            passage,
            start,
            end,
            speaker,
            words,
            enclosure_url,
            youtube_id,
        ) = row
        hit = Hit(
            item_id=item_id,
            kind=item_kind,
            feed=feed_name,
            title=title,
            url=link or enclosure_url,
            published=published,
            snippet=snippet,
            score=round(-rank, 4),
            passage=passage,
        )
        if start is not None:
            hit.start = _word_start(words, query.terms, start) if words else round(start, 2)
            hit.end = round(end, 2) if end is not None else None
            hit.speaker = speaker
            hit.link = media_link(enclosure_url or link, youtube_id, hit.start)
        hits.append(hit)
    return hits


def media_link(url: str | None, youtube_id: str | None, seconds: float) -> str | None:
    """A URL that opens the media at `seconds`: `&t=Ns` on YouTube, a `#t=N` media fragment elsewhere."""
    whole = int(seconds)
    if youtube_id:
        return f"https://www.youtube.com/watch?v={youtube_id}&t={whole}s"
    if not url:
        return None
    return f"{url.split('#')[0]}#t={whole}"


def _stem(word: str) -> str:
    word = word.lower().strip("'’")
    for suffix in ("'s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _word_start(words_json: str, terms: list[list[str]], fallback: float) -> float:
    """The start of the first spoken word that matches a query term (a phrase: its first word)."""
    words = json.loads(words_json)
    spoken = [(_stem("".join(_WORDISH.findall(w[2])) or w[2]), w[0]) for w in words]
    for term in terms:
        if not term:
            continue
        first = _stem(term[0])
        for index, (stem, start) in enumerate(spoken):
            if stem == first or (len(first) >= 3 and stem.startswith(first)):
                follow = [_stem(t) for t in term[1:]]
                nxt = [s for s, _ in spoken[index + 1 : index + 1 + len(follow)]]
                if not follow or nxt == follow or len(nxt) < len(follow):
                    return round(float(start), 2)
    return round(fallback, 2)
