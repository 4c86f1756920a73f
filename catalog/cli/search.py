"""`catalog search` and `catalog list`: find the moment, or browse; the fast path of the command line.

Both open the catalogue without validating feeds.yaml or importing the sync machinery (see
`catalog.paths` and `catalog.storage.reader`): a search answers in a quarter of a second.
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.cli.context import State, global_options, print_json, reported_errors, stdout_console
from catalog.cli.dates import parse_date, parse_since
from catalog.cli.terminal import clean
from catalog.models import KINDS
from catalog.storage.rows import Reader

if TYPE_CHECKING:
    pass

_OPERATORS = ('"', "*", " OR ", " -")


def join_query(words: tuple[str, ...]) -> str:
    """The query from the command's arguments. The shell has already removed the quotes a user typed
    around a phrase, so an argument with spaces and no query syntax (`"European peacekeepers"`) is
    searched as that phrase; `ceasefire Crimea` (two arguments) is both words."""
    parts = []
    for word in words:
        spaced = len(word.split()) > 1
        if spaced and not any(op in f" {word}" for op in _OPERATORS) and not word.startswith("-"):
            parts.append(f'"{word}"')
        else:
            parts.append(word)
    return " ".join(parts)


def refuse_mistyped_options(query: tuple[str, ...]) -> None:
    """QUERY takes any word, `-excluded` ones too, so click lets unknown options through into it:
    `--limt 2` would be searched. A word starting with `--` is a mistyped option."""
    for word in query:
        if word.startswith("--") and len(word) > 2:
            ctx = click.get_current_context()
            known = [name for param in ctx.command.params for name in param.opts if name.startswith("--")]
            raise click.NoSuchOption(
                word.split("=")[0], possibilities=difflib.get_close_matches(word.split("=")[0], known), ctx=ctx
            )


def open_catalogue(state: State) -> Reader:
    """The catalogue for reading, found the way every command finds it, without the full config load."""
    from catalog.paths import database_location
    from catalog.storage.reader import open_reader

    location = None
    if not (state.config_given and not Path(state.config_path).exists()):
        location = database_location(state.config_path, state.db_path)
    if location is None:  # feeds.yaml is missing or unreadable: the full loader says exactly why
        from catalog.config import load_config

        location = load_config(state.config_path, must_exist=state.config_given).database_path
    return open_reader(location)


def filters(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    return parse_since(since, "--since"), parse_date(until, "--until")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(KINDS), help="Only articles, podcasts or videos.")
@click.option("--feed", metavar="NAME", help="Only items of this feed (by name).")
@click.option(
    "--since", metavar="WHEN", help="Only items published since: a date (YYYY-MM-DD) or a time ago (12h, 7d, 2w)."
)
@click.option("--until", metavar="DATE", help="Only items published on or before this date (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N results.")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "date"]),
    default="relevance",
    show_default=True,
    help="Best matches first, or newest first.",
)
@click.option("--raw", is_flag=True, help="Pass QUERY to SQLite FTS5 unchanged (expert syntax, analysed tokens).")
@click.option("--semantic", is_flag=True, help="Rank by meaning only (needs the `semantic` extra).")
@click.option("--lexical", is_flag=True, help="Rank by the words only (bm25), never by meaning.")
@click.option("--json", "as_json", is_flag=True, help="Print hits as one JSON array on stdout.")
@click.option("--by-item", is_flag=True, help="With --json: one entry per item, its best moments under it.")
@global_options
@click.pass_obj
def search(
    state: State,
    query: tuple[str, ...],
    kind: str | None,
    feed: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    sort: str,
    raw: bool,
    semantic: bool,
    lexical: bool,
    as_json: bool,
    by_item: bool,
) -> None:
    """Search articles and transcripts together: one entry per item, best first, with its best
    moments (up to three) under it, each with the time it is said and a link that opens the
    media at that second.

    Words must all appear (`ceasefire Crimea`), with their other forms ("negotiating" finds
    "negotiations") and numbers either way ("ten" finds "10"); "quoted words" must appear as a
    phrase, even across two subtitle cues; word* matches a prefix; -word excludes; OR between
    two terms accepts either. The shell eats quotes: `catalog search "European peacekeepers"`
    is searched as a phrase (one argument with spaces), and '"a phrase" -word' keeps its syntax.
    A match in a title or chapter title ranks above the same match in body text.

    With the `semantic` extra installed (pip install 'catalog[semantic]') and the catalogue's
    vectors made (at sync, or `catalog reindex --semantic`), a search also ranks by meaning, in
    any of the model's languages, and fuses both rankings (reciprocal rank fusion): "ways to
    stop the fighting" finds "ceasefire". --semantic ranks by meaning only; --lexical by the
    words only (the default without the extra).

    \b
    JSON (--json): one flat array of hits, best first: item_id, kind, feed, title, url,
    published, published_is (feed, or first_seen: no readable date in the feed), snippet
    (matches in <mark>), score (higher is better), passage
    (text|segment|chapter), match (lexical, semantic, or both: found by the words, by
    meaning, or both); spoken hits also start, end (seconds), link (media URL with
    #t=N, or YouTube &t=Ns), speaker, and start_is (word: the matched word's own time;
    estimate: placed inside a cue or paragraph by its position; segment: the cue's start).
    --json --by-item: one object per item (item_id, kind, feed, title, url, published,
    published_is, score) with `moments`, up to three hits without the item fields.

    \b
    Example:
        catalog search "European peacekeepers"
        catalog search ceasefire Crimea
        catalog search ceasefire --kind podcast --since 2025-01-01 --json
        catalog search ceasefire --since 7d
        catalog search 'negotiat* -Crimea' --sort date
        catalog search --semantic "ways to stop the fighting"
        catalog search --lexical ceasefire
    """
    from catalog.storage.modes import find_hits, find_items, resolve_mode

    if semantic and lexical:
        raise click.UsageError("--semantic ranks by meaning only and --lexical by the words only: give one")
    mode = "semantic" if semantic else "lexical" if lexical else None
    refuse_mistyped_options(query)
    text = " ".join(query) if raw else join_query(query)
    since_date, until_date = filters(since, until)
    options = {"kind": kind, "feed": feed, "since": since_date, "until": until_date, "limit": limit, "sort": sort}
    with reported_errors():
        db = open_catalogue(state)
        run, warning = resolve_mode(db, mode or "auto", raw=raw)
        if warning:
            click.echo(clean(f"Warning: {warning}"), err=True)
        if as_json and not by_item:
            print_json([hit.as_dict() for hit in find_hits(db, text, mode=run, raw=raw, **options)])
            return
        items = find_items(db, text, mode=run, raw=raw, **options)
    if as_json:
        print_json([item.as_dict() for item in items])
        return
    if not items:
        click.echo(clean(f"No matches for {text!r}."), err=True)
        return
    from catalog.cli.render import print_items

    print_items(stdout_console(), items)


@click.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only articles, podcasts or videos.")
@click.option("--feed", metavar="NAME", help="Only items of this feed (by name).")
@click.option(
    "--since", metavar="WHEN", help="Only items published since: a date (YYYY-MM-DD) or a time ago (12h, 7d, 2w)."
)
@click.option("--until", metavar="DATE", help="Only items published on or before this date (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N items.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip the first N (for paging).")
@click.option("--json", "as_json", is_flag=True, help="Print the items as one JSON array.")
@global_options
@click.pass_obj
def list_items(
    state: State,
    kind: str | None,
    feed: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Browse the catalogue without a query: items newest first, with the same filters as search.

    \b
    JSON fields: item_id, kind, feed, title, published, published_is (feed, or first_seen:
    the feed gave no readable date), url, media_state, transcript_source,
    duration (seconds, for media).

    \b
    Example:
        catalog list
        catalog list --kind podcast --since 2026-01-01
        catalog list --since 2w
        catalog list --feed sample-nonzero --json
    """
    from catalog.storage.browse import list_items as browse

    since_date, until_date = filters(since, until)
    with reported_errors():
        rows = browse(
            open_catalogue(state), kind=kind, feed=feed, since=since_date, until=until_date, limit=limit, offset=offset
        )
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("No items.", err=True)
        return
    from catalog.cli.render import print_list

    print_list(stdout_console(), rows)
