"""Sync progress for people: bars on a terminal, or one plain line per feed and item with --verbose."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from catalog.cli.terminal import clean
from catalog.models import MediaJob
from catalog.sync.events import SyncEvents


class ProgressEvents(SyncEvents):
    """Progress bars for a terminal (stderr); only used when stderr is a TTY."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._feeds: TaskID | None = None
        self._media: TaskID | None = None
        self._item: TaskID | None = None

    def __enter__(self) -> ProgressEvents:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def feeds_started(self, total: int) -> None:
        self._feeds = self.progress.add_task("Fetching feeds", total=total)

    def feed_skipped(self, name: str, reason: str) -> None:
        if self.verbose:
            say(self.console, f"feed {name}: skipped, {reason}")

    def feed_done(self, name: str, result: str, detail: str | None) -> None:
        if self._feeds is not None:
            self.progress.advance(self._feeds)
        if self.verbose:
            say(self.console, f"feed {name}: {result}" + (f" ({detail})" if detail else ""))

    def feed_moved(self, name: str, url: str, how: str) -> None:
        if self.verbose:
            say(self.console, moved_message(name, url, how))

    def media_started(self, total: int) -> None:
        self._media = self.progress.add_task("Media items", total=total)

    def item_started(self, job: MediaJob, stage: str) -> None:
        if stage == "transcribing":
            if self._item is not None:
                self.progress.remove_task(self._item)
            label = clean(job.title or job.url)[:40]
            self._item = self.progress.add_task(f"  transcribing {escape(label)}", total=100)

    def item_progress(self, job: MediaJob, fraction: float) -> None:
        if self._item is not None:
            self.progress.update(self._item, completed=int(fraction * 100))

    def item_done(self, job: MediaJob, result: str, detail: str | None) -> None:
        if self._media is not None:
            self.progress.advance(self._media)
        if self._item is not None:
            self.progress.remove_task(self._item)
            self._item = None
        if self.verbose:
            say(self.console, f'item {job.item_id} "{job.title or ""}": {result} ({detail})')


class LogEvents(SyncEvents):
    """--verbose without a terminal: one plain line per feed and item, for logs."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def feed_skipped(self, name: str, reason: str) -> None:
        say(self.console, f"feed {name}: skipped, {reason}")

    def feed_done(self, name: str, result: str, detail: str | None) -> None:
        say(self.console, f"feed {name}: {result}" + (f" ({detail})" if detail else ""))

    def feed_moved(self, name: str, url: str, how: str) -> None:
        say(self.console, moved_message(name, url, how))

    def item_started(self, job: MediaJob, stage: str) -> None:
        say(self.console, f"item {job.item_id}: {stage} {job.url}")

    def item_done(self, job: MediaJob, result: str, detail: str | None) -> None:
        say(self.console, f"item {job.item_id}: {result} ({detail})")


def moved_message(name: str, url: str, how: str) -> str:
    return f"feed {name}: moved to {url} ({how}); fetched from there from now on"


def say(console: Console, line: str) -> None:
    """One line of feed text on the console: cleaned, and printed as it is (no rich markup, no highlighting)."""
    console.print(clean(line), highlight=False, markup=False)
