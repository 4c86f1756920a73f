"""`catalog sync`: fetch, download, transcribe, index; quiet for cron, progress bars on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.cli.context import (
    State,
    global_options,
    print_json,
    reported_errors,
    show_diagnostics,
    stderr_console,
)
from catalog.cli.terminal import clean
from catalog.config import load_config
from catalog.sync.lock import SyncLock

if TYPE_CHECKING:
    from catalog.sync.events import SyncEvents

EXIT_PARTIAL = 4


@click.command()
@click.option("--max-items", type=click.IntRange(min=1), help="Process at most N media items this run.")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), help="Start no new work after M minutes.")
@click.option("--no-media", is_flag=True, help="Only fetch feeds and index text; leave media queued.")
@click.option(
    "--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (by name), in every stage; repeatable."
)
@click.option("--force", is_flag=True, help="Fetch feeds even when backing off or given up after failures.")
@click.option(
    "--cluster",
    metavar="tcp://HOST:8786",
    help="Transcribe on this Dask scheduler's workers (the `cluster` extra); default: feeds.yaml's `cluster:`.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON on stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Say what happens to every feed and item, and what was skipped.")
@global_options
@click.pass_obj
def sync(
    state: State,
    max_items: int | None,
    max_minutes: float | None,
    no_media: bool,
    feeds: tuple[str, ...],
    force: bool,
    cluster: str | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Fetch every feed, record new and changed items, download media, transcribe, index.

    Quiet when all is well (cron mails whatever a job prints): problems go to stderr,
    progress bars appear only on a terminal, and --verbose reports every step,
    including the feeds it skipped and why. Safe to run from cron: a second sync
    while one runs exits at once with code 5.

    Then the saved searches (`catalog watch`) are matched against what this run indexed:
    their new matches are the only thing printed on stdout (with --json, under "matches").

    --feed limits every stage: only that feed is fetched, and only its media are
    downloaded and transcribed. The Whisper model is checked first: a model that is
    not on this machine is a configuration error (exit code 3), before any work.

    --cluster sends transcription to a Dask cluster (`dask worker tcp://HOST:8786` on each
    machine, catalog installed there too); this process downloads, stays the only writer of
    the catalogue and holds the sync lock until every task is back. A scheduler that cannot
    be reached is a configuration error (exit code 3).

    \b
    Example:
        catalog sync
        catalog sync --max-minutes 20 --max-items 5
        catalog sync --feed sample-nonzero --verbose
        catalog --config ~/news/feeds.yaml sync --json
        catalog sync --cluster tcp://10.0.0.5:8786
    """
    err = stderr_console()
    show_diagnostics(verbose)
    with reported_errors():
        # Config and lock before anything heavy is imported: a second sync must exit at once.
        config = load_config(state.config_path)
        if not config.feeds:
            click.echo(clean(f"Note: {config.path} lists no feeds: add one with `catalog feeds add URL`"), err=True)
        db_path = Path(state.db_path) if state.db_path else config.database_path
        with SyncLock(db_path):
            from catalog.app import Catalog
            from catalog.sync.report import SyncOptions

            options = SyncOptions(
                max_items=max_items,
                max_minutes=max_minutes,
                media=not no_media,
                feeds=list(feeds) or None,
                force=force,
                cluster=cluster,
            )
            with Catalog(config, db_path) as cat:
                if err.is_terminal and not as_json:
                    from catalog.cli.progress import ProgressEvents

                    with ProgressEvents(err, verbose) as progress:
                        report = cat.sync(options, events=progress, lock_held=True)
                else:
                    events: SyncEvents | None = None
                    if verbose:
                        from catalog.cli.progress import LogEvents

                        events = LogEvents(err)
                    report = cat.sync(options, events=events, lock_held=True)
                # saved searches' matches: printed (or in the JSON), then recorded as reported
                if as_json:
                    print_json(report.as_dict())
                    sys.stdout.flush()
                else:
                    from catalog.cli.watch import print_matches

                    print_matches(report.matches)
                cat.watch_reported(report.matches)
    for what, message in report.failures:
        click.echo(clean(f"Failed: {what}: {message}"), err=True)
    for what, message in report.notices:  # said once, in the run where they first happen
        click.echo(clean(f"Warning: {what}: {message}"), err=True)
    if verbose or err.is_terminal:
        for what, message in report.warnings:
            click.echo(clean(f"Warning: {what}: {message}"), err=True)
    if verbose or err.is_terminal:
        held = f", {report.media_held} held" if report.media_held else ""
        click.echo(
            f"Synced {report.feeds_checked} feeds ({report.feeds_unchanged} unchanged): {report.items_new} new, "
            f"{report.items_updated} updated items; {report.media_done} transcribed{held} "
            f"({report.audio_seconds / 60:.1f} min of audio) in {report.seconds:.1f} s.",
            err=True,
        )
    if report.stopped_early:
        click.echo(clean(f"Stopped early: {report.stopped_early}"), err=True)
    if not report.ok:
        sys.exit(EXIT_PARTIAL)
