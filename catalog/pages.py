"""Media behind web pages (a YouTube watch URL, a page with a <video>): downloaded with yt-dlp.

Only the audio is wanted, so yt-dlp is asked for the best audio-only format and falls back
to the smallest full format. yt-dlp does its own HTTP; we bound it with its own size cap and
socket timeout.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from catalog.errors import FetchError, TooLargeError
from catalog.fetch import Download


def download_page_media(url: str, dest_stem: Path, max_bytes: int, *, timeout: float = 30.0) -> Download:
    """Download the media a page points at to `dest_stem.<ext>`; yt-dlp picks the extension."""
    import yt_dlp  # imported late: large, and only needed for page URLs

    dest_stem.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
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
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=True)
            path = Path(ydl.prepare_filename(info))
    except yt_dlp.utils.DownloadError as exc:
        raise FetchError(f"{url}: yt-dlp could not download it: {_clean(exc)}") from exc
    if not path.exists():
        raise TooLargeError(f"{url}: no file was written (larger than {max_bytes:,} bytes?)")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return Download(path, path.stat().st_size, digest.hexdigest(), str(info.get("ext") or ""))


def _clean(exc: Exception) -> str:
    return str(exc).replace("ERROR: ", "").strip()


class _QuietLogger:
    """yt-dlp prints to stdout by default; cron mails stdout. Keep it silent."""

    def debug(self, msg: str) -> None: ...
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...
