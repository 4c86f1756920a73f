"""What a sync is asked to do (`SyncOptions`) and what it did (`SyncReport`, also `--json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.storage.watches import WatchMatch


@dataclass
class SyncOptions:
    max_items: int | None = None
    max_minutes: float | None = None
    media: bool = True
    feeds: list[str] | None = None
    force: bool = False
    items: list[int] | None = None  # `catalog fetch`: only these items' media; no feed is fetched
    cluster: str | None = None  # a Dask scheduler address: transcribe there (else `cluster:`, else here)


@dataclass
class SyncReport:
    run_id: int
    feeds_checked: int = 0
    feeds_unchanged: int = 0
    items_new: int = 0
    items_updated: int = 0
    media_done: int = 0
    audio_seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)  # printed even by a quiet run: new, said once
    stopped_early: str | None = None
    seconds: float = 0.0
    media_held: int = 0
    parsed_in_workers: int = 0
    matches: list[WatchMatch] = field(default_factory=list)  # saved searches' matches not yet printed

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self) -> dict[str, Any]:
        """The figures a run's row in the catalogue keeps."""
        return {
            "feeds_checked": self.feeds_checked,
            "feeds_unchanged": self.feeds_unchanged,
            "items_new": self.items_new,
            "items_updated": self.items_updated,
            "media_done": self.media_done,
            "audio_seconds": self.audio_seconds,
            "media_failed": self.media_failed,
        }

    @property
    def media_failed(self) -> int:
        return sum(1 for what, _ in self.failures if what.startswith("item"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "feeds_checked": self.feeds_checked,
            "feeds_unchanged": self.feeds_unchanged,
            "items_new": self.items_new,
            "items_updated": self.items_updated,
            "media_done": self.media_done,
            "media_failed": self.media_failed,
            "media_held": self.media_held,
            "parsed_in_workers": self.parsed_in_workers,
            "audio_seconds": round(self.audio_seconds, 1),
            "seconds": round(self.seconds, 2),
            "stopped_early": self.stopped_early,
            "failures": [{"what": what, "error": message} for what, message in self.failures],
            "warnings": [{"what": what, "warning": message} for what, message in self.warnings + self.notices],
            "matches": [match.as_dict() for match in self.matches],
        }
