"""Transcripts and chapters that publishers link from their feeds (Podcasting 2.0).

A publisher's transcript is usually better than ours (real names, edited text) and costs one small
download instead of a Whisper pass, so the sync uses it first when `publisher_transcripts` is on.
Candidates are tried best format first (JSON, WebVTT, SRT, HTML, text); one that fails to
download or parse is skipped, and when none works the item is transcribed with Whisper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from catalog.errors import CatalogError
from catalog.language import language_code
from catalog.models import Chapter, Transcript
from catalog.sources.http import fetch_feed
from catalog.sources.network_policy import vet_url
from catalog.transcripts.chapters import parse_chapters, simple_chapters
from catalog.transcripts.registry import format_for, parse_transcript

MAX_TRANSCRIPT_BYTES = 20_000_000


@dataclass
class PublisherText:
    transcript: Transcript | None = None
    chapters: list[Chapter] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def fetch_document(client: httpx.Client, url: str) -> bytes:
    """A transcript or chapters file; RefusedAddressError when the feed policy in effect forbids `url`."""
    vet_url(url)  # a local file is read without the client, so its rule is checked here
    response = fetch_feed(client, url, max_bytes=MAX_TRANSCRIPT_BYTES)
    return response.body or b""


def fetch_publisher_text(
    client: httpx.Client, extra: dict[str, Any], *, want_transcript: bool, language: str | None = None
) -> PublisherText:
    """The best publisher transcript (if wanted) and the chapters an item's feed entry links to (or
    carries inline, as Podlove Simple Chapters)."""
    found = PublisherText()
    if want_transcript:
        for candidate in _ranked(extra.get("transcripts", []), language):
            fmt = format_for(candidate.get("type"), candidate["url"]).name
            try:
                transcript = parse_transcript(fetch_document(client, candidate["url"]), fmt)
            except CatalogError as exc:
                found.problems.append(f"publisher transcript {candidate['url']}: {exc}")
                continue
            transcript.source = "captions" if candidate.get("rel") == "captions" else "publisher"
            transcript.language = candidate.get("language") or language
            transcript.url = candidate["url"]
            found.transcript = transcript
            break
    chapters = extra.get("chapters")
    if chapters and chapters.get("url"):
        try:
            found.chapters = parse_chapters(fetch_document(client, chapters["url"]))
        except CatalogError as exc:
            found.problems.append(f"chapters {chapters['url']}: {exc}")
    if not found.chapters and extra.get("psc_chapters"):  # Podlove Simple Chapters, inline in the feed
        found.chapters = simple_chapters(extra["psc_chapters"])
    return found


def _ranked(candidates: list[dict[str, Any]], language: str | None) -> list[dict[str, Any]]:
    """Transcripts in the item's language first (or with none given), then the best format first."""
    wanted = language_code(language)

    def key(candidate: dict[str, Any]) -> tuple[bool, int]:
        code = language_code(candidate.get("language"))
        other_language = bool(wanted) and bool(code) and code != wanted
        return other_language, format_for(candidate.get("type"), candidate.get("url", "")).rank

    return sorted((c for c in candidates if c.get("url")), key=key)
