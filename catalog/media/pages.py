"""Media behind web pages (a YouTube watch URL, a page with a <video>): fetched with yt-dlp.

Captions that the uploader published with the video (not machine captions) are a transcript
already, so when wanted they are taken first and nothing else is downloaded. Otherwise only the
audio is wanted: yt-dlp is asked for the best audio-only format and falls back to the smallest
full format. yt-dlp does its own HTTP; we bound it with its own size cap and socket timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from catalog.errors import FetchError, TooLargeError
from catalog.files import sha256_file
from catalog.language import language_code
from catalog.media.download import download_media
from catalog.models import Download
from catalog.sources.http import fetch_feed
from catalog.sources.network_policy import vet_url

if TYPE_CHECKING:
    import httpx

MAX_CAPTION_BYTES = 5_000_000


@dataclass
class Captions:
    """A caption file the uploader published, as fetched: the transcripts stage reads it."""

    data: bytes
    format: str  # vtt or srt
    language: str
    url: str


@dataclass
class PageMedia:
    download: Download | None = None
    captions: Captions | None = None
    problem: str | None = None


def fetch_page_media(
    url: str,
    dest_stem: Path,
    max_bytes: int,
    *,
    timeout: float = 30.0,
    captions_language: str | None = None,
    client: httpx.Client | None = None,
) -> PageMedia:
    """The uploader's captions when `captions_language` is given and the page has them in that
    language; else the media, downloaded to `dest_stem.<ext>` (yt-dlp picks the extension).

    yt-dlp reads the page. With `client` (the sync's), the captions and a media file served as one
    plain http(s) download are fetched through it, so the address policy checks every redirect hop
    and plain http connects to the address checked (see catalog.sources.network_policy); streamed
    formats (HLS, DASH) are left to yt-dlp, their manifest's address checked once."""
    import yt_dlp  # imported late: large, and only needed for page URLs

    vet_url(url, strict=False)  # the page: checked here, yt-dlp reads it
    dest_stem.parent.mkdir(parents=True, exist_ok=True)
    try:
        with yt_dlp.YoutubeDL(_options(dest_stem, max_bytes, timeout)) as ydl:
            info = ydl.extract_info(url, download=False)
            if info.get("_type") == "playlist" and info.get("entries"):
                info = next(iter(info["entries"]))
            _vet_media_urls(info)
            result = PageMedia()
            if captions_language:
                result.captions, result.problem = _captions(ydl, info, captions_language, client)
                if result.captions is not None:
                    return result
            chosen = ydl.process_ie_result(dict(info), download=False)
            if client is not None and _one_http_file(chosen):
                dest = Path(f"{dest_stem}.{chosen.get('ext') or 'media'}")
                headers = {k: v for k, v in (chosen.get("http_headers") or {}).items() if isinstance(v, str)}
                result.download = download_media(client, chosen["url"], dest, max_bytes=max_bytes, headers=headers)
                return result
            info = ydl.process_ie_result(info, download=True)
            path = Path(ydl.prepare_filename(info))
    except yt_dlp.utils.DownloadError as exc:
        raise FetchError(f"{url}: yt-dlp could not download it: {_clean(exc)}") from exc
    if not path.exists():
        raise TooLargeError(f"{url}: no file was written (larger than {max_bytes:,} bytes?)")
    result.download = Download(path, path.stat().st_size, sha256_file(path), str(info.get("ext") or ""))
    return result


def _options(dest_stem: Path, max_bytes: int, timeout: float) -> dict[str, Any]:
    return {
        "format": "bestaudio/worst",
        "outtmpl": str(dest_stem) + ".%(ext)s",
        "max_filesize": max_bytes,
        "socket_timeout": timeout,
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "retries": 2,
        "overwrites": True,
        "logger": _QuietLogger(),
    }


def _vet_media_urls(info: dict[str, Any]) -> None:
    """Refuse a page whose media lives where the feed policy in effect forbids (one check per host)."""
    urls = [info.get("url"), *(f.get("url") for f in info.get("formats") or [])]
    origins: dict[tuple[str, str], str] = {}
    for url in urls:
        if isinstance(url, str):
            parts = urlsplit(url)
            origins.setdefault((parts.scheme, parts.netloc), url)
    for url in origins.values():
        vet_url(url, strict=False)


def _one_http_file(chosen: dict[str, Any]) -> bool:
    """The format yt-dlp chose is one file at one http(s) address (not a stream of fragments)."""
    return (
        chosen.get("protocol") in ("http", "https")
        and isinstance(chosen.get("url"), str)
        and not chosen.get("requested_formats")
    )


def _captions(
    ydl: Any, info: dict[str, Any], language: str, client: httpx.Client | None = None
) -> tuple[Captions | None, str | None]:
    """The uploader's captions in `language` (WebVTT or SRT); machine captions are ignored."""
    tracks = info.get("subtitles") or {}
    wanted = language_code(language)
    for code, entries in tracks.items():
        if language_code(code) != wanted:
            continue
        for entry in sorted(entries, key=lambda e: {"vtt": 0, "srt": 1}.get(e.get("ext", ""), 9)):
            if entry.get("ext") not in ("vtt", "srt") or not entry.get("url"):
                continue
            try:
                vet_url(entry["url"], strict=False)  # refused: a problem noted, the media is used instead
                if client is not None:  # every hop checked (a cap over MAX_CAPTION_BYTES raises)
                    data = fetch_feed(client, entry["url"], max_bytes=MAX_CAPTION_BYTES).body or b""
                else:
                    with ydl.urlopen(entry["url"]) as response:
                        data = response.read(MAX_CAPTION_BYTES + 1)
            except Exception as exc:  # yt-dlp's own network errors, ours (CatalogError)
                return None, f"captions {entry['url']}: {exc}"
            if len(data) > MAX_CAPTION_BYTES:
                return None, f"captions {entry['url']}: larger than {MAX_CAPTION_BYTES:,} bytes"
            return Captions(data, entry["ext"], code, entry["url"]), None
    return None, None


def _clean(exc: Exception) -> str:
    return str(exc).replace("ERROR: ", "").strip()


class _QuietLogger:
    """yt-dlp prints to stdout by default; cron mails stdout. Keep it silent."""

    def debug(self, msg: str) -> None: ...
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...
