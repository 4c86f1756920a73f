"""`catalog reindex`: rebuild what the index holds for an existing catalogue (vectors for search by meaning)."""

from __future__ import annotations

import click

from catalog.cli.context import State, global_options, reported_errors
from catalog.errors import SemanticUnavailableError


@click.command()
@click.option("--semantic", is_flag=True, help="Embed the passages that have no vectors (all, if the model changed).")
@global_options
@click.pass_obj
def reindex(state: State, semantic: bool) -> None:
    """Fill in the vectors search by meaning uses, for a catalogue synced before the `semantic`
    extra was installed, or all of them again after the embedding model changed (a search then
    says so). Transcripts are embedded in windows of 20-40 seconds, articles by paragraph, and
    titles and chapter titles on their own. New passages get theirs at `catalog sync`.
    Needs pip install 'catalog[semantic]'.

    \b
    Example:
        catalog reindex --semantic
    """
    if not semantic:
        raise click.UsageError("say what to rebuild: catalog reindex --semantic")
    from catalog.embedding import INSTALL_HINT, available

    with reported_errors():
        if not available():
            raise SemanticUnavailableError("reindex --semantic needs an embedding model", hint=INSTALL_HINT)
        with state.open(config_must_exist=False) as cat:
            count, rebuilt = cat.reindex_semantic()
    how = "all again (the embedding model changed)" if rebuilt else "the passages that had none"
    click.echo(f"Embedded {count} window(s): {how}.")
