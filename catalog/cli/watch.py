"""`catalog watch`: saved searches, matched after every sync; new matches are printed (cron mails them).

Output is plain text, made for mail: one short block per match and nothing at all when there is none.
A match is marked reported only after it was printed: a crash in between prints it again next time
(at-least-once; see `catalog.storage.watches`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from catalog.cli.context import State, global_options, print_json, reported_errors
from catalog.cli.render import day, timestamp
from catalog.cli.terminal import clean
from catalog.models import KINDS
from catalog.storage.search import MARK_END, MARK_START

if TYPE_CHECKING:
    from catalog.storage.watches import WatchMatch


def match_block(match: WatchMatch) -> str:
    """One match as a few lines of plain text: the item, when, the snippet, the link."""
    hit = match.hit
    when = day(hit.published, hit.published_is)
    moment = f" · at {timestamp(hit.start)}" if hit.start is not None else ""
    text = " ".join(hit.snippet.replace(MARK_START, "").replace(MARK_END, "").split())
    lines = [
        f"[{match.watch}] {hit.title or '(untitled)'}",
        f"  {hit.kind} · {hit.feed} · {when}{moment} · item {hit.item_id}",
        f"  {text}",
    ]
    target = hit.link or hit.url
    if target:
        lines.append(f"  {target}")
    return clean("\n".join(lines))


def print_matches(matches: list[WatchMatch]) -> None:
    """The blocks, a blank line between them; nothing when there are none. Flushed: the caller marks
    them reported next, and what is marked must have left this process."""
    if matches:
        click.echo("\n\n".join(match_block(match) for match in matches))
        sys.stdout.flush()


@click.group()
def watch() -> None:
    """Saved searches: after every `catalog sync`, each is matched against what that sync indexed,
    and each new match is printed once (cron mails it), and POSTed to the search's webhook if it has one.

    \b
    Example:
        catalog watch add "European peacekeepers" --name peace
        catalog watch list
        catalog watch run
        catalog watch remove peace
    """


@watch.command("add")
@click.argument("query")
@click.option("--name", help="A short unique name (default: the query).")
@click.option("--feed", metavar="NAME", help="Only items of this feed (by name).")
@click.option("--kind", type=click.Choice(KINDS), help="Only articles, podcasts or videos.")
@click.option(
    "--semantic",
    is_flag=True,
    help="Also match by meaning: a passage very close in meaning alerts too (needs the semantic extra).",
)
@click.option("--webhook", metavar="URL", help="Also POST new matches to this http(s) URL, as JSON.")
@global_options
@click.pass_obj
def watch_add(
    state: State,
    query: str,
    name: str | None,
    feed: str | None,
    kind: str | None,
    semantic: bool,
    webhook: str | None,
) -> None:
    """Save a search. Only what is indexed from now on is matched: items already in the catalogue
    are what `catalog search` is for. QUERY is written as for `catalog search` (quote phrases).

    \b
    Example:
        catalog watch add "European peacekeepers" --name peace
        catalog watch add armistice --kind podcast --name armistice-pods
        catalog watch add ceasefire --webhook https://example.org/hooks/catalog
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        saved = cat.watch_add(query, name=name, feed=feed, kind=kind, semantic=semantic, webhook=webhook)
    click.echo(clean(f"Saved search {saved.name!r}: {saved.query}"), err=True)
    if semantic:
        from catalog.embedding import INSTALL_HINT, available

        if not available():
            click.echo(f"Note: matched by its words until search by meaning is installed ({INSTALL_HINT})", err=True)


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the saved searches as JSON.")
@global_options
@click.pass_obj
def watch_list(state: State, as_json: bool) -> None:
    """The saved searches, by name.

    \b
    Example:
        catalog watch list
        catalog watch list --json
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        saved = cat.watch_list()
    if as_json:
        print_json([item.as_dict() for item in saved])
        return
    for item in saved:
        extras = [f"--{key} {value}" for key, value in (("feed", item.feed), ("kind", item.kind)) if value]
        extras += ["--semantic"] if item.semantic else []
        extras += [f"--webhook {item.webhook}"] if item.webhook else []
        click.echo(clean("  ".join([item.name, item.query, *extras])))


@watch.command("remove")
@click.argument("name")
@global_options
@click.pass_obj
def watch_remove(state: State, name: str) -> None:
    """Forget a saved search (and which matches it reported).

    \b
    Example:
        catalog watch remove peace
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        cat.watch_remove(name)
    click.echo(clean(f"Removed saved search {name!r}."), err=True)


@watch.command("run")
@click.option("--json", "as_json", is_flag=True, help="Print the new matches as JSON (a list, maybe empty).")
@global_options
@click.pass_obj
def watch_run(state: State, as_json: bool) -> None:
    """Match the saved searches against what was indexed since they were last checked, without
    syncing, and print the new matches. `catalog sync` does this itself after every run.

    Prints nothing when there is nothing new. A webhook that fails is tried again next time.

    \b
    Example:
        catalog watch run
        catalog watch run --json
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        run = cat.watch_run()
        if as_json:
            print_json([match.as_dict() for match in run.matches])
            sys.stdout.flush()
        else:
            print_matches(run.matches)
        cat.watch_reported(run.matches)
    for what, message in run.failures:
        click.echo(clean(f"Warning: {what}: {message}"), err=True)
