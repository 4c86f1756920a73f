"""Files on disk: written atomically (temporary file, fsync, rename), hashed, and named safely."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 64 * 1024


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never half of one.

    The folder must exist (a missing one is the caller's to create, or the user's mistake to hear about).
    """
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_name(name: str, limit: int = 60) -> str:
    """A name fit for a folder: letters, digits, '-', '_' and '.', never empty or hidden."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip(".-")
    return cleaned[:limit] or "feed"
