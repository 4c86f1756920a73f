"""`catalog fetch ITEM_ID...`: download and transcribe chosen episodes now (old ones a `backlog:` left aside)."""

from __future__ import annotations

import sys

import click

from catalog.cli.context import State, global_options, print_json, reported_errors, show_diagnostics
from catalog.cli.terminal import clean

EXIT_PARTIAL = 4
SAID = {
    "skipped": "was not fetched (backlog)",
    "failed": "had been given up",
    "new": "was queued",
    "downloaded": "was downloaded",
    "transcribed": "was transcribed, not indexed",
    "indexed": "was already transcribed",
}


@click.command()
@click.argument("item_ids", nargs=-1, type=int, required=True, metavar="ITEM_ID...")
@click.option("--json", "as_json", is_flag=True, help="Print each item's state and the run report as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Say what happens to each item.")
@global_options
@click.pass_obj
def fetch(state: State, item_ids: tuple[int, ...], as_json: bool, verbose: bool) -> None:
    """Download and transcribe these episodes now, and index their transcripts.

    For the older episodes a feed's `backlog:` setting left out of its first sync (`catalog show`
    and `catalog status` say "not fetched (backlog)"), and for items that were given up. Runs as
    a sync of just these items: while another sync runs it exits 5. An id that is not in the
    catalogue, or an item with no audio or video (an article), is an error.

    \b
    Example:
        catalog fetch 5
        catalog fetch 5 6 --json
    """
    show_diagnostics(verbose)
    with reported_errors(), state.open() as cat:
        items, report = cat.fetch(list(item_ids))
    if as_json:
        print_json({"items": items, "run": report.as_dict()})
    else:
        for item in items:
            error = f": {item['error']}" if item["error"] and item["state"] != "indexed" else ""
            now = "not fetched (backlog)" if item["state"] == "skipped" else item["state"]
            click.echo(clean(f"Item {item['item_id']}: {now}{error} ({SAID.get(item['before'], item['before'])})"))
    for what, message in report.failures:
        click.echo(clean(f"Failed: {what}: {message}"), err=True)
    if not report.ok:
        sys.exit(EXIT_PARTIAL)
