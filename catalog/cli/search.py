"""`catalog search`: articles and transcripts together, best first, with the minute each phrase is said."""

from __future__ import annotations

import click

from catalog.cli.context import State, global_options, parse_date, print_json, reported_errors, stdout_console
from catalog.config import KINDS

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


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(KINDS), help="Only articles, podcasts or videos.")
@click.option("--feed", metavar="NAME", help="Only items of this feed (by name).")
@click.option("--since", metavar="DATE", help="Only items published on or after this date (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only items published on or before this date (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N hits.")
@click.option("--raw", is_flag=True, help="Pass QUERY to SQLite FTS5 unchanged (expert syntax).")
@click.option("--json", "as_json", is_flag=True, help="Print hits as one JSON array on stdout.")
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
    raw: bool,
    as_json: bool,
) -> None:
    """Search articles and transcripts together, best matches first.

    Words must all appear (`ceasefire Crimea`); "quoted words" must appear as a phrase;
    word* matches a prefix; -word excludes; OR between two terms accepts either.
    The shell eats quotes: `catalog search "European peacekeepers"` is searched as
    a phrase (one argument with spaces), and '"a phrase" -word' keeps its syntax.
    Spoken hits show the time (mm:ss) and a link that opens the media at that second.

    \b
    JSON fields: item_id, kind, feed, title, url, published, snippet (matches in <mark>),
    score (higher is better), passage (text|segment|chapter); for spoken hits also
    start, end (seconds), link (media URL with #t=N, or YouTube &t=Ns) and speaker.

    \b
    Example:
        catalog search "European peacekeepers"
        catalog search ceasefire Crimea
        catalog search ceasefire --kind podcast --since 2025-01-01 --json
    """
    text = " ".join(query) if raw else join_query(query)
    since_date, until_date = parse_date(since, "--since"), parse_date(until, "--until")
    with reported_errors(), state.open(config_must_exist=False) as cat:
        hits = cat.search(text, kind=kind, feed=feed, since=since_date, until=until_date, limit=limit, raw=raw)
    if as_json:
        print_json([hit.as_dict() for hit in hits])
        return
    if not hits:
        click.echo(f"No matches for {text!r}.", err=True)
        return
    from catalog.cli.render import print_hits

    print_hits(stdout_console(), hits)
