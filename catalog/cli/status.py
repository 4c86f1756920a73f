"""`catalog status` and `catalog retry`: what is healthy, what failed and why, and a second chance."""

from __future__ import annotations

import click

from catalog.cli.context import State, global_options, print_json, reported_errors, stdout_console


@click.command()
@click.option("--runs", type=click.IntRange(min=0), default=5, show_default=True, help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@global_options
@click.pass_obj
def status(state: State, runs: int, as_json: bool) -> None:
    """Per feed: last fetch, result and item counts; the media queue with failures, held items and
    when each is tried again; the last runs with what they did and what failed.

    \b
    Example:
        catalog status
        catalog status --runs 1 --json
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        report = cat.status(runs=runs)
    if as_json:
        print_json(report)
        return
    from catalog.cli.render import print_status

    print_status(stdout_console(), report)


@click.command()
@click.argument("item_ids", nargs=-1, type=int)
@click.option("--feed", metavar="NAME", help="Only this feed and its items.")
@global_options
@click.pass_obj
def retry(state: State, item_ids: tuple[int, ...], feed: str | None) -> None:
    """Give failed feeds and items another chance at the next sync.

    A feed or item that keeps failing is retried with growing pauses and given up after
    `max_attempts` failures (a feed answering 410 Gone at once). This clears that state.
    An unknown feed name or item id is an error.

    \b
    Example:
        catalog retry                 # every given-up or backing-off feed and item
        catalog retry --feed sample-nonzero
        catalog retry 5 6             # just these items
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        feeds, items = cat.retry(feed=feed, item_ids=list(item_ids) or None)
    click.echo(f"Reset {feeds} feed(s) and {items} item(s); the next `catalog sync` will try them again.")
