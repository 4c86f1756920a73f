"""The `catalog` command: a thin click layer over `catalog.app.Catalog`.

Exit codes: 0 ok · 1 error · 2 usage or bad query · 3 configuration error ·
4 sync finished but some feeds or items failed · 5 another sync is running (nothing done).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from catalog import __version__
from catalog.config import DEFAULT_CONFIG, KINDS, load_config
from catalog.errors import CatalogError
from catalog.lock import SyncLock

if TYPE_CHECKING:
    from catalog.app import Catalog
    from catalog.jobs import SyncEvents

EXIT_PARTIAL = 4


class State:
    def __init__(self, config: str, db: str | None) -> None:
        self.config_path = config
        self.db_path = db

    def open(self, *, config_must_exist: bool = True) -> Catalog:
        from catalog.app import Catalog  # imported late: `catalog sync` takes its lock first

        return Catalog.open(self.config_path, self.db_path, config_must_exist=config_must_exist)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Library errors become a message on stderr and the error's exit code, never a traceback."""
    try:
        yield
    except CatalogError as exc:
        click.echo(f"Error: {exc}", err=True)
        if exc.hint:
            click.echo(f"Hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)


def _stdout() -> Console:
    # Piped output (logs, mail from cron) is never hard-wrapped at 80 columns.
    return Console(highlight=False, soft_wrap=not sys.stdout.isatty())


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint=option) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="catalog")
@click.option(
    "--config",
    "config",
    default=DEFAULT_CONFIG,
    envvar="CATALOG_CONFIG",
    show_default=True,
    help="feeds.yaml to read (env CATALOG_CONFIG).",
)
@click.option(
    "--db",
    "db",
    default=None,
    envvar="CATALOG_DB",
    help="SQLite catalogue (env CATALOG_DB). Default: the config's `database:`, else catalog.db beside it.",
)
@click.pass_context
def cli(ctx: click.Context, config: str, db: str | None) -> None:
    """Catalogue articles, podcasts and videos from your feeds, transcribe the audio with Whisper,
    and search everything together, with the minute each phrase is spoken.

    \b
    Typical use:
        catalog sync                          # fetch, download, transcribe, index
        catalog search "European peacekeepers"
        catalog show 12                       # an item in full, transcript with [mm:ss]
        catalog status                        # feed health, queue, failures, last runs

    Exit codes: 0 ok, 1 error, 2 usage or bad query, 3 configuration error,
    4 some feeds or items failed (the rest were synced), 5 another sync is running.
    """
    ctx.obj = State(config, db)


@cli.command()
@click.option("--max-items", type=click.IntRange(min=1), help="Process at most N media items this run.")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), help="Start no new work after M minutes.")
@click.option("--no-media", is_flag=True, help="Only fetch feeds and index text; leave media queued.")
@click.option("--feed", "feeds", multiple=True, help="Only this feed (by name); repeatable.")
@click.option("--force", is_flag=True, help="Fetch feeds even when backing off or disabled after failures.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON on stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Say what happens to every feed and item.")
@click.pass_obj
def sync(
    state: State,
    max_items: int | None,
    max_minutes: float | None,
    no_media: bool,
    feeds: tuple[str, ...],
    force: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Fetch every feed, record new and changed items, download media, transcribe, index.

    Quiet when all is well (cron mails whatever a job prints): problems go to stderr,
    progress bars appear only on a terminal, and --verbose reports every step.
    Safe to run from cron: a second sync while one runs exits at once with code 5.

    \b
    Example:
        catalog sync
        catalog sync --max-minutes 20 --max-items 5
        catalog --config ~/news/feeds.yaml sync --verbose
    """
    err = _stderr()
    with reported_errors():
        # Config and lock before anything heavy is imported: a second sync must exit at once.
        config = load_config(state.config_path)
        db_path = Path(state.db_path) if state.db_path else config.database_path
        with SyncLock(db_path):
            from catalog.app import Catalog
            from catalog.jobs import SyncOptions

            options = SyncOptions(
                max_items=max_items,
                max_minutes=max_minutes,
                media=not no_media,
                feeds=list(feeds) or None,
                force=force,
            )
            with Catalog(config, db_path) as cat:
                if err.is_terminal and not as_json:
                    from catalog.render import ProgressEvents

                    with ProgressEvents(err, verbose) as progress:
                        report = cat.sync(options, events=progress, lock_held=True)
                else:
                    events: SyncEvents | None = None
                    if verbose:
                        from catalog.render import LogEvents

                        events = LogEvents(err)
                    report = cat.sync(options, events=events, lock_held=True)
    if as_json:
        _print_json(report.as_dict())
    for what, message in report.failures:
        click.echo(f"Failed: {what}: {message}", err=True)
    if verbose or err.is_terminal:
        for what, message in report.warnings:
            click.echo(f"Warning: {what}: {message}", err=True)
        click.echo(
            f"Synced {report.feeds_checked} feeds ({report.feeds_unchanged} unchanged): {report.items_new} new, "
            f"{report.items_updated} updated items; {report.media_done} transcribed "
            f"({report.audio_seconds / 60:.1f} min of audio) in {report.seconds:.1f} s.",
            err=True,
        )
    if report.stopped_early:
        click.echo(f"Stopped early: {report.stopped_early}", err=True)
    if not report.ok:
        sys.exit(EXIT_PARTIAL)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("query")
@click.option("--kind", type=click.Choice(KINDS), help="Only articles, podcasts or videos.")
@click.option("--feed", help="Only items of this feed (by name).")
@click.option("--since", help="Only items published on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Only items published on or before this date (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N hits.")
@click.option("--raw", is_flag=True, help="Pass QUERY to SQLite FTS5 unchanged (expert syntax).")
@click.option("--json", "as_json", is_flag=True, help="Print hits as one JSON array on stdout.")
@click.pass_obj
def search(
    state: State,
    query: str,
    kind: str | None,
    feed: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    raw: bool,
    as_json: bool,
) -> None:
    """Search articles and transcripts together, best matches first.

    Words must all appear; "quoted words" must appear as a phrase; word* matches a prefix;
    -word excludes; OR between two terms accepts either. Spoken hits show the time (mm:ss)
    and a link that opens the media at that second.

    \b
    JSON fields: item_id, kind, feed, title, url, published, snippet (matches in <mark>),
    score (higher is better), passage (text|segment|chapter); for spoken hits also
    start, end (seconds), link (media URL with #t=N, or YouTube &t=Ns) and speaker.

    \b
    Example:
        catalog search "European peacekeepers"
        catalog search ceasefire --kind podcast --since 2025-01-01 --json
    """
    since_date, until_date = _date(since, "--since"), _date(until, "--until")
    with reported_errors(), state.open(config_must_exist=False) as cat:
        hits = cat.search(query, kind=kind, feed=feed, since=since_date, until=until_date, limit=limit, raw=raw)
    if as_json:
        _print_json([hit.as_dict() for hit in hits])
        return
    if not hits:
        click.echo(f"No matches for {query!r}.", err=True)
        return
    from catalog.render import print_hits

    print_hits(_stdout(), hits)


@cli.command()
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the item as JSON.")
@click.pass_obj
def show(state: State, item_id: int, as_json: bool) -> None:
    """Show one item: metadata, then its full text or its transcript with [mm:ss] stamps.

    \b
    Example:
        catalog show 12
        catalog show 12 --json | jq '.transcript[0]'
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        item = cat.item(item_id)
    if as_json:
        _print_json(item)
        return
    from catalog.render import print_item

    print_item(_stdout(), item)


@cli.command()
@click.option("--runs", type=click.IntRange(min=0), default=5, show_default=True, help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def status(state: State, runs: int, as_json: bool) -> None:
    """Per feed: last fetch, result and item counts; the media queue with failures and their reasons;
    the last runs with what they did and what failed.

    \b
    Example:
        catalog status
        catalog status --json | jq '.media.failed'
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        report = cat.status(runs=runs)
    if as_json:
        _print_json(report)
        return
    from catalog.render import print_status

    print_status(_stdout(), report)


@cli.command()
@click.argument("item_ids", nargs=-1, type=int)
@click.option("--feed", help="Only this feed and its items.")
@click.pass_obj
def retry(state: State, item_ids: tuple[int, ...], feed: str | None) -> None:
    """Give failed feeds and items another chance at the next sync.

    A feed or item that keeps failing is retried with growing pauses and given up after
    `max_attempts` failures (a feed answering 410 Gone at once). This clears that state.

    \b
    Example:
        catalog retry                 # every given-up or backing-off feed and item
        catalog retry --feed nonzero
        catalog retry 12 15           # just these items
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        feeds, items = cat.retry(feed=feed, item_ids=list(item_ids) or None)
    click.echo(f"Reset {feeds} feed(s) and {items} item(s); the next `catalog sync` will try them again.")


@cli.command()
@click.argument("item_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["vtt", "srt", "json", "txt"]),
    default="vtt",
    show_default=True,
    help="WebVTT, SRT, Podcasting 2.0 JSON, or plain text.",
)
@click.option("-o", "--output", help="File to write, '-' for stdout. Default: item-ID.FORMAT here.")
@click.pass_obj
def export(state: State, item_id: int, fmt: str, output: str | None) -> None:
    """Write an item's transcript as WebVTT, SRT, JSON or text (Podcasting 2.0 recommendations:
    SRT cards of 2 lines of 32 characters, speaker names, JSON word by word when known).

    \b
    Example:
        catalog export 12 --format srt           # writes item-12.srt
        catalog export 12 --format json -o -     # to stdout
    """
    from catalog.exports import export as render_export

    with reported_errors(), state.open(config_must_exist=False) as cat:
        text = render_export(cat.transcript(item_id), fmt)
    if output == "-":
        click.echo(text, nl=False)
        return
    path = Path(output or f"item-{item_id}.{fmt}")
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {path}", err=True)


@cli.group()
def feeds() -> None:
    """List the feeds in feeds.yaml, or add one (YouTube channel and playlist pages become feeds)."""


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the feeds as JSON.")
@click.pass_obj
def feeds_list(state: State, as_json: bool) -> None:
    """The feeds in feeds.yaml, with the URL catalog fetches.

    \b
    Example:
        catalog feeds list
    """
    with reported_errors():
        config = load_config(state.config_path)
    rows = [{"name": f.name, "url": config.feed_url(f), "kind": f.kind, "enabled": f.enabled} for f in config.feeds]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        flag = "" if row["enabled"] else "  (disabled)"
        click.echo(f"{row['name']}  [{row['kind'] or 'auto'}]  {row['url']}{flag}")


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="Short unique name (default: made from the URL).")
@click.option("--kind", type=click.Choice(KINDS), help="article, podcast or video (default: inferred).")
@click.pass_obj
def feeds_add(state: State, url: str, name: str | None, kind: str | None) -> None:
    """Add a feed to feeds.yaml, keeping its comments. YouTube channel (/channel/UC…), user and
    playlist pages are turned into their feed URLs; for an @handle it explains how to find the id.

    \b
    Example:
        catalog feeds add https://responsiblestatecraft.org/feed/ --name statecraft
        catalog feeds add https://www.youtube.com/channel/UCxxxxxxxxxxxxxxxxxxxxxx --name talks
        catalog feeds add "https://www.youtube.com/playlist?list=PL…"
    """
    from catalog.sources import add_feed, feed_url_for

    with reported_errors():
        feed_url, implied = feed_url_for(url)
        chosen = name or _name_for(feed_url)
        add_feed(Path(state.config_path), chosen, feed_url, kind or implied)
    click.echo(f"Added {chosen}: {feed_url}")


def _name_for(url: str) -> str:
    from urllib.parse import parse_qs, urlparse

    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    for key in ("channel_id", "playlist_id", "user"):
        if key in query:
            return f"youtube-{query[key][0][-8:]}"
    host = (parsed.hostname or "feed").removeprefix("www.").split(".")[0]
    return host or "feed"


def main() -> None:
    cli(prog_name="catalog")


if __name__ == "__main__":  # pragma: no cover
    main()
