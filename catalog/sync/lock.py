"""One sync at a time per catalogue: an OS file lock beside the database.

The lock is a `flock` on `<db>.lock`; the kernel drops it when the process dies (even by
kill -9), so a crashed run never leaves a stale lock behind. Readers (search, show, status)
never take it.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from catalog.errors import DatabaseError, SyncLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

NO_FCNTL = (
    "catalog sync needs POSIX file locks (fcntl), which this platform does not have; "
    "run it on Linux or macOS (on Windows, inside WSL)"
)


SCHEDULED = "this run did nothing; the next scheduled run will pick up the work"
AGAIN = "nothing was done; run it again when the sync has finished"


class SyncLock:
    """The one lock of a catalogue's writers. `when_busy`: the hint if another holds it (a sync's work is
    picked up by the next sync; a purge or a fetch the user must run again)."""

    def __init__(self, db_path: Path, when_busy: str = SCHEDULED) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self.when_busy = when_busy
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise DatabaseError(NO_FCNTL)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatabaseError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}",
                hint="pass --db PATH (or set `database:` in feeds.yaml) to a folder you can write",
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SyncLockedError(
                f"another catalog sync is already running on this catalogue (pid {holder})",
                hint=self.when_busy,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
