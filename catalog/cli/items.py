"""`catalog show` and `catalog export`: one item in full, or its transcript as a file."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.context import State, fail, global_options, print_json, reported_errors, stdout_console
from catalog.cli.terminal import clean, escape_json
from catalog.files import atomic_write_text
from catalog.transcripts.registry import EXPORT_NAMES


@click.command()
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the item as JSON.")
@global_options
@click.pass_obj
def show(state: State, item_id: int, as_json: bool) -> None:
    """Show one item: metadata, then its full text or its transcript with [mm:ss] stamps.

    \b
    Example:
        catalog show 5
        catalog show 5 --json
    """
    with reported_errors(), state.open(config_must_exist=False) as cat:
        item = cat.item(item_id)
    if as_json:
        print_json(item)
        return
    from catalog.cli.render import print_item

    print_item(stdout_console(), item)


@click.command()
@click.argument("item_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_NAMES),
    default="vtt",
    show_default=True,
    help="WebVTT, SRT, Podcasting 2.0 JSON, or plain text.",
)
@click.option("-o", "--output", metavar="FILE", help="File to write, '-' for stdout. Default: item-ID.FORMAT here.")
@global_options
@click.pass_obj
def export(state: State, item_id: int, fmt: str, output: str | None) -> None:
    """Write an item's transcript as WebVTT, SRT, JSON or text (Podcasting 2.0 recommendations:
    SRT cards of 2 lines of 32 characters, speaker names, JSON word by word when known).

    \b
    Example:
        catalog export 5 --format srt           # writes item-5.srt
        catalog export 5 --format json -o -     # to stdout
    """
    from catalog.transcripts.registry import export as render_export

    with reported_errors(), state.open(config_must_exist=False) as cat:
        text = render_export(cat.transcript(item_id), fmt)
    if output == "-":  # a terminal, perhaps: JSON keeps control characters escaped, other formats lose them
        click.echo(escape_json(text) if fmt == "json" else clean(text), nl=False)
        return
    path = Path(output or f"item-{item_id}.{fmt}")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", "give -o a file in a folder that exists and you can write")
    click.echo(clean(f"Wrote {path}"), err=True)
