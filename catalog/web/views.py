"""What the templates show, made from what storage gives: times, marked snippets, safe links, players.

Feed text is never trusted: templates escape everything (Jinja autoescape), a snippet's `<mark>`s are
the only markup added (each piece between them escaped first), and an address becomes a link or a
media source only when it is http(s) (`catalog.sources.schemes.is_web`); `javascript:` and the rest
stay text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from catalog.cli.render import day, timestamp
from catalog.sources.schemes import is_web
from catalog.storage.playback import MediaSource
from catalog.storage.search import MARK_END, MARK_START, Hit

__all__ = ["Player", "day", "marked", "moment_href", "player_for", "safe_url", "timestamp"]


@dataclass(frozen=True)
class Player:
    """An item's media in the page: an <audio> or <video> element, or, for YouTube, a link out."""

    element_id: str
    tag: str  # audio, video, or "" when the media plays elsewhere (YouTube)
    src: str | None  # what the element plays: /media/ID (the kept file) or the publisher's http(s) URL


def marked(snippet: str) -> Markup:
    """A snippet with its matches in <mark>, everything else escaped."""
    pieces = snippet.replace(MARK_END, MARK_START).split(MARK_START)
    out = [str(escape(piece)) if i % 2 == 0 else f"<mark>{escape(piece)}</mark>" for i, piece in enumerate(pieces)]
    return Markup("".join(out))


def safe_url(url: str | None) -> str | None:
    """`url` when a page may link to it (http or https), else None."""
    return url.strip() if url and is_web(url) else None


def player_for(source: MediaSource | None, kept: bool) -> Player | None:
    """How an item's media plays in the page: its kept file (`kept`: the server has it), else the
    publisher's address when it is http(s); YouTube items are linked at the moment instead."""
    if source is None:
        return None
    element_id = f"player-{source.item_id}"
    if source.youtube_id:
        return Player(element_id, "", None)
    tag = "video" if _is_video(source) else "audio"
    if kept:
        return Player(element_id, tag, f"/media/{source.item_id}")
    original = safe_url(source.enclosure_url)
    return Player(element_id, tag, original) if original else None


def _is_video(source: MediaSource) -> bool:
    if source.content_type:
        return source.content_type.startswith("video/")
    suffix = Path(source.path or source.enclosure_url or "").suffix.lower()
    return source.kind == "video" or suffix in (".mp4", ".webm", ".mkv", ".mov", ".m4v")


def moment_href(hit: Hit) -> str:
    """Where a spoken moment's link goes without script: its item page, at that second."""
    return f"/item/{hit.item_id}?t={int(hit.start or 0)}"
