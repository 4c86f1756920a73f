"""Where a query matches inside one passage: the character spans of its matches, and a snippet around them.

The passage is analysed with the same analyser and stemmer as when it was indexed, so what FTS5 matched
is found again exactly: a phrase as consecutive tokens, a prefix as a token starting with it (or a stem
it was cut to), a number however it was spelled. A phrase that runs on into the next segment is found
at the end of this one (its first words).
"""

from __future__ import annotations

from catalog.storage.query import MIN_PREFIX_STEM, PREFIX_SHORTER, Query
from catalog.storage.tokens import Token, fold

SNIPPET_BEFORE = 60  # characters of context before the first match
SNIPPET_LENGTH = 200  # characters in a snippet, about 30 words


def locate(tokens: list[Token], query: Query, analysers: list[str], *, bridge_tail: int = 0) -> list[tuple[int, int]]:
    """Character spans of every match of the query's positive terms, in text order.

    `tokens`: the passage analysed (`catalog.storage.tokens.analyse`); `analysers`: every analyser the
    query was compiled with (what FTS5 matched may be any of their forms).
    """
    texts = [token.text for token in tokens]
    spans: set[tuple[int, int]] = set()
    for term in query.positive:
        if term.kind == "prefix":
            prefix = fold(term.text)
            spans |= {(t.start, t.end) for t in tokens if _prefix_matches(prefix, t.text, t.surface)}
            continue
        for sequence in term.sequences(analysers):
            n = len(sequence)
            for i in range(len(texts) - n + 1):
                if texts[i : i + n] == sequence:
                    spans.add((tokens[i].start, tokens[i + n - 1].end))
            if n > 1 and bridge_tail:  # the phrase's first words end this segment; the rest opens the next
                for k in range(min(n - 1, bridge_tail, len(texts)), 0, -1):
                    if texts[-k:] == sequence[:k]:
                        spans.add((tokens[-k].start, tokens[-1].end))
                        break
    return sorted(spans)


def _prefix_matches(prefix: str, token: str, surface: str) -> bool:
    if surface.startswith(prefix) or token.startswith(prefix):
        return True
    return prefix.startswith(token) and len(token) >= MIN_PREFIX_STEM and len(prefix) - len(token) <= PREFIX_SHORTER


def snippet(text: str, spans: list[tuple[int, int]], mark_start: str, mark_end: str) -> str:
    """About 30 words of `text` around its first match, every match inside marked; '…' where cut."""
    if not spans:
        cut = text[:SNIPPET_LENGTH]
        return cut + ("…" if len(text) > SNIPPET_LENGTH else "")
    first = spans[0][0]
    begin = max(0, first - SNIPPET_BEFORE)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < first else begin
    end = min(len(text), begin + SNIPPET_LENGTH)
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space > 0 else end
    out: list[str] = ["…" if begin else ""]
    at = begin
    for start, stop in _merged(spans):
        if start < at or stop > end:
            continue
        out += [text[at:start], mark_start, text[start:stop], mark_end]
        at = stop
    out.append(text[at:end])
    if end < len(text):
        out.append("…")
    return "".join(out)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans (CJK pairs, a phrase and its words) as one."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged
