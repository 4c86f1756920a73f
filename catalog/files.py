"""Files on disk: written atomically (temporary file, fsync, rename), hashed, and named safely."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024


class Digest(Protocol):
    """What hashlib's hash objects do (their class is private to hashlib)."""

    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def part_path(path: Path) -> Path:
    """Where a file is written before it is complete: `<name>.part` beside it."""
    return path.with_name(path.name + ".part")


def make_durable(out: BinaryIO) -> None:
    """Flush and fsync an open file, so that a rename after it never exposes missing bytes."""
    out.flush()
    os.fsync(out.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never half of one.

    The folder must exist (a missing one is the caller's to create, or the user's mistake to hear about).
    """
    tmp = part_path(path)
    try:
        with tmp.open("wb") as out:
            out.write(data)
            make_durable(out)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    return hash_file(path, hashlib.sha256()).hexdigest()


def hash_file(path: Path, digest: Digest) -> Digest:
    """`digest` updated with the bytes of `path` (to go on hashing what is appended to it)."""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest


def safe_name(name: str, limit: int = 60) -> str:
    """A name fit for a folder: letters, digits, '-', '_' and '.', never empty or hidden."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip(".-")
    return cleaned[:limit] or "feed"
