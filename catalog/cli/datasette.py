"""`catalog datasette`: metadata that makes Datasette show the catalogue well (search box, canned queries)."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.context import State, fail, global_options, reported_errors
from catalog.cli.terminal import clean
from catalog.files import atomic_write_text


@click.command()
@click.option("-o", "--output", metavar="FILE", default="-", show_default=True, help="File to write, '-' for stdout.")
@global_options
@click.pass_obj
def datasette(state: State, output: str) -> None:
    """Write Datasette metadata (YAML) for the catalogue: titles and descriptions, column notes, the
    passages table's search box over transcripts and articles, facets, and canned queries
    ("Search transcripts", "Search articles", "Episodes by feed"). Then run
    `datasette catalog.db -m metadata.yml` (pip install datasette). The database name in it is
    the catalogue's file name, as Datasette names it.

    \b
    Example:
        catalog datasette -o metadata.yml
        catalog datasette | head -5
    """
    import yaml

    from catalog.storage.datasette import metadata

    with reported_errors(), state.open(config_must_exist=False) as cat:
        cat.db  # noqa: B018 - a missing catalogue is an error now, not a metadata file naming nothing
        name = cat.db_path.stem
    text = yaml.safe_dump(metadata(name), sort_keys=False, allow_unicode=True, width=100)
    if output == "-":
        click.echo(text, nl=False)
        return
    path = Path(output)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", "give -o a file in a folder that exists and you can write")
    click.echo(clean(f"Wrote {path}; run: datasette {cat.db_path} -m {path}"), err=True)
