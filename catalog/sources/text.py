"""An item's own text from its feed: the fullest body it carries, HTML reduced to clean paragraphs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser


def entry_body(raw: Any) -> str:
    contents = [(content.get("value"), content.get("type")) for content in raw.get("content") or []]
    detail = raw.get("summary_detail") or {}
    return body_text(contents, raw.get("summary"), detail.get("type", "text/html"))


def body_text(contents: Iterable[tuple[Any, Any]], summary: Any, summary_type: Any) -> str:
    """The item's own text: the longest, as text, of its content:encoded/Atom contents and its summary.

    Longest as text, not as markup: feedparser also files a `media:description` (an image's alt
    text, a clip's caption) under content, and a summary may be fuller than a trimmed content (or
    the reverse), so no source wins by its tag alone. `contents` are (value, type) pairs in document
    order; `summary_type` is the summary's declared type (text/html when there is no detail).
    """
    best = ""
    for value, content_type in [*contents, (summary, summary_type)]:
        text = markup_text(value, content_type)
        if len(text) > len(best):
            best = text
    return best


# A declared text/plain value that still carries markup (Mastodon's escaped HTML, a title with <sup>)
_MARKUP = re.compile(r"(?i)</?(p|a|br|div|span|img|b|i|em|strong|sup|sub|ul|ol|li|h[1-6]|blockquote|pre|code)\b[^>]*>")


def markup_text(value: Any, content_type: Any = "text/html") -> str:
    """A feed value as text: HTML (declared, or plain text that is plainly markup) reduced to
    paragraphs, plain text only losing its entities."""
    value = str(value or "")
    if "html" in str(content_type or "text/html") or _MARKUP.search(value):
        return html_to_text(value)
    return html.unescape(value).strip()


def title_text(value: Any) -> str | None:
    """A title as one clean line: markup and entities resolved ("1930ft<sup>2</sup>" -> "1930ft2")."""
    text = " ".join(markup_text(value, "text/plain").split())
    return text or None


_BLOCK_END = re.compile(r"(?i)<(br\s*/?|/p|/div|/li|/h[1-6]|/blockquote|/tr|/pre|/section|/article)>")
# Runs of spaces/tabs/NBSPs become one space. A lone " " is already that, so the pattern skips it: same output,
# but no per-word replacement (this was a third of the cost of html_to_text on article bodies).
_SPACES = re.compile(r"[ \t\r\f\v\xa0]{2,}|[\t\r\f\v\xa0]")


def html_to_text(markup: str) -> str:
    """HTML fragment to clean text: paragraphs kept as blank-line breaks, scripts and styles dropped."""
    if not markup or "<" not in markup:
        return html.unescape(markup or "").strip()
    tree = HTMLParser(_BLOCK_END.sub(_paragraph_break, markup))
    lowered = markup.lower()
    # Only markup naming one of these tags can hold an element to drop (the HTML parser lower-cases ASCII
    # tag names only); skipping the CSS query otherwise halves the cost for ordinary article bodies.
    if "script" in lowered or "style" in lowered or "iframe" in lowered:
        for node in tree.css("script, style, noscript, iframe"):
            node.decompose()
    root = tree.body or tree.root
    text = root.text(deep=True, separator="") if root is not None else ""
    # The run-of-spaces class excludes "\n", so collapsing before the split is the same as per line.
    if "  " in text or any(char in text for char in "\t\r\f\v\xa0"):
        text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _paragraph_break(match: re.Match[str]) -> str:
    return match.group(0) + "\n\n"
