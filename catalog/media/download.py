"""Media downloads: streamed to disk through a `.part` file, resumed with Range, checked to be audio or video.

The `httpx.Client` is passed in. A body that is not audio or video (an HTML error page) is refused from its
first bytes; a short body keeps its `.part` for the next run to resume.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from catalog.errors import FetchError, IncompleteError, MediaError, TooLargeError
from catalog.files import CHUNK, hash_file, make_durable, part_path
from catalog.models import Download
from catalog.sources.http import is_local, local_path, raise_for_status, read_capped
from catalog.sources.network_policy import vet_url

_NOT_MEDIA_TYPES = re.compile(r"^(text/|application/(xhtml|xml|json|rss|atom|javascript))", re.I)


def sniff_media(head: bytes) -> str | None:
    """Name the container from the first bytes, or None when it is not audio/video we know."""
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3/aac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"AVI "):
        return "riff"
    if head.startswith((b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3", b"#!AMR", b"FORM")):
        return "other"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "quicktime"
    return None


def looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"{"))


def check_media_head(head: bytes, content_type: str, source: str) -> None:
    """Refuse bodies that are plainly not audio or video (an HTML error page is not an episode)."""
    if looks_like_html(head):
        raise MediaError(f"{source}: got a document ({content_type or 'no type'}), not audio or video")
    if sniff_media(head) is None and (
        _NOT_MEDIA_TYPES.match(content_type) or not content_type.startswith(("audio/", "video/"))
    ):
        raise MediaError(f"{source}: content type {content_type or 'unknown'} is not audio or video")


def download_media(
    client: httpx.Client, url: str, dest: Path, *, max_bytes: int = 2_000_000_000, headers: dict[str, str] | None = None
) -> Download:
    """Stream `url` to `dest` through `dest.part`: fsync, rename into place.

    A `.part` left by an interrupted run is resumed with a Range request, used only when the
    server answers 206 with a Content-Range that starts where the part ends; anything else
    starts over. A short body raises IncompleteError and keeps the `.part` for the next try.
    RefusedAddressError when the feed policy in effect forbids `url` (see `network_policy`).
    `headers`: sent with the request (a web page's media may want yt-dlp's User-Agent and Referer).
    """
    vet_url(url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    if is_local(url):
        return _copy_local(local_path(url), dest, part, max_bytes)
    have = part.stat().st_size if part.exists() else 0
    headers = {**(headers or {}), **({"Range": f"bytes={have}-"} if have else {})}
    try:
        with client.stream("GET", url, headers=headers) as response:
            raise_for_status(response, url)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            resumed = have > 0 and response.status_code == 206 and _range_starts_at(response, have)
            expected = _expected_total(response, have if resumed else 0)
            if expected is not None and expected > max_bytes:
                raise TooLargeError(f"{url}: {expected:,} bytes, over the {max_bytes:,} byte limit")
            digest = hash_file(part, hashlib.sha256()) if resumed else hashlib.sha256()
            total = have if resumed else 0
            timeout = client.timeout.read or 30.0
            head = b"" if not resumed else None  # sniffed once 32 bytes are in
            with part.open("ab" if resumed else "wb") as out, _incomplete_as(url, expected, lambda: total):
                for chunk in read_capped(response.iter_bytes(), url, max_bytes, timeout):
                    if head is not None:
                        head += chunk
                        if len(head) >= 32:
                            check_media_head(head, content_type, url)
                            head = None
                    out.write(chunk)
                    digest.update(chunk)
                    total += len(chunk)
                make_durable(out)
            if head:
                check_media_head(head, content_type, url)
            if expected is not None and total != expected:
                raise IncompleteError(f"{url}: got {total:,} of {expected:,} bytes; will resume next run")
            if total == 0:
                raise MediaError(f"{url}: empty body")
            os.replace(part, dest)
            return Download(dest, total, digest.hexdigest(), content_type, resumed)
    except MediaError:
        part.unlink(missing_ok=True)
        raise
    except httpx.TimeoutException as exc:
        raise FetchError(f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


@contextmanager
def _incomplete_as(url: str, expected: int | None, received: Callable[[], int]) -> Iterator[None]:
    """A connection that dies mid-body is an IncompleteError (the .part is kept for a resume)."""
    try:
        yield
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout) as exc:
        of = f" of {expected:,}" if expected else ""
        raise IncompleteError(
            f"{url}: connection lost after {received():,}{of} bytes ({type(exc).__name__}); will resume next run"
        ) from exc


def _range_starts_at(response: httpx.Response, offset: int) -> bool:
    match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("content-range", ""))
    return bool(match) and int(match.group(1)) == offset  # type: ignore[union-attr]


def _expected_total(response: httpx.Response, offset: int) -> int | None:
    """The full size the file must reach, from Content-Range or Content-Length."""
    if response.status_code == 206:
        match = re.match(r"bytes \d+-\d+/(\d+)", response.headers.get("content-range", ""))
        if match:
            return int(match.group(1))
    length = response.headers.get("content-length")
    if length and length.isdecimal() and "content-encoding" not in response.headers:
        return offset + int(length)
    return None


def _copy_local(source: Path, dest: Path, part: Path, max_bytes: int) -> Download:
    try:
        size = source.stat().st_size
        if size > max_bytes:
            raise TooLargeError(f"{source}: {size:,} bytes, over the {max_bytes:,} byte limit")
        digest = hashlib.sha256()
        with source.open("rb") as src, part.open("wb") as out:
            check_media_head(src.read(64), "", str(source))
            src.seek(0)
            for block in iter(lambda: src.read(CHUNK), b""):
                out.write(block)
                digest.update(block)
            make_durable(out)
        os.replace(part, dest)
    except MediaError:
        part.unlink(missing_ok=True)
        raise
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    return Download(dest, size, digest.hexdigest(), "")
