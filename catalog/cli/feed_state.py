"""`catalog feeds remove|enable|disable`: take a feed out of feeds.yaml, or turn it off and on."""

from __future__ import annotations

import click

from catalog.cli.context import State, global_options, print_json, reported_errors
from catalog.cli.terminal import clean


@click.command("remove")
@click.argument("name")
@click.option("--purge", is_flag=True, help="Also delete its items, media files, transcripts and index entries.")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@global_options
@click.pass_obj
def feeds_remove(state: State, name: str, purge: bool, as_json: bool) -> None:
    """Remove a feed from feeds.yaml (its lines only; comments elsewhere are kept).

    Without --purge its items stay in the catalogue, searchable; the feed is marked inactive (no
    longer fetched, nor reported as failing). --purge deletes its items, media files, transcripts
    and their index entries (search index, headings, vectors, saved-search matches) in one
    transaction, then its files; a feed already gone from feeds.yaml can still be purged.

    \b
    Example:
        catalog feeds remove sample-talks
        catalog feeds remove sample-talks --purge --json
    """
    with reported_errors(), state.open() as cat:
        report = cat.remove_feed(name, purge=purge)
    if as_json:
        print_json(report)
        return
    where = "from feeds.yaml" if report["removed_from_config"] else "(it was no longer in feeds.yaml)"
    if purge:
        click.echo(
            clean(
                f"Removed {name} {where} and deleted {report['items']} item(s), {report['transcripts']} "
                f"transcript(s), {report['passages']} indexed passage(s), {report['watch_matches']} saved-search "
                f"match(es) and {len(report['files'])} file(s)."
            )
        )
    elif report["inactive"]:
        click.echo(
            clean(
                f"Removed {name} {where}; its {report['items']} item(s) stay searchable "
                f"(`catalog feeds remove {name} --purge` deletes them)."
            )
        )
    else:
        click.echo(clean(f"Removed {name} {where}; the catalogue had nothing from it."))


def _set_enabled(state: State, name: str, enabled: bool) -> None:
    with reported_errors(), state.open() as cat:
        changed = cat.set_feed_enabled(name, enabled)
    word = "enabled" if enabled else "disabled"
    if not changed:
        click.echo(clean(f"{name} is already {word}; feeds.yaml not changed."))
    elif enabled:
        click.echo(clean(f"Enabled {name}: the next `catalog sync` fetches it."))
    else:
        click.echo(clean(f"Disabled {name} (enabled: false): `catalog sync` skips it; its items stay searchable."))


@click.command("enable")
@click.argument("name")
@global_options
@click.pass_obj
def feeds_enable(state: State, name: str) -> None:
    """Turn a feed on again: `enabled: true` in feeds.yaml (comments kept).

    \b
    Example:
        catalog feeds enable nonzero
    """
    _set_enabled(state, name, True)


@click.command("disable")
@click.argument("name")
@global_options
@click.pass_obj
def feeds_disable(state: State, name: str) -> None:
    """Keep a feed in feeds.yaml but stop fetching it: `enabled: false` (comments kept). Its items stay
    searchable; `catalog status` and `catalog feeds list` show it as disabled.

    \b
    Example:
        catalog feeds disable sample-talks
    """
    _set_enabled(state, name, False)
