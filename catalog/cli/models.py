"""`catalog models` and `catalog models pull`: which Whisper models are usable here, and fetching one."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.context import State, global_options, print_json, reported_errors
from catalog.cli.terminal import clean


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
@global_options
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List the Whisper models usable here: the bundled tiny.en, the configured model, model folders
    beside feeds.yaml (models/), and faster-whisper models in the local cache; then the names that
    `catalog models pull` can download.

    \b
    Example:
        catalog models
        catalog models --json
        catalog models pull small.en
    """
    if ctx.invoked_subcommand is not None:
        return
    from catalog.asr.model_store import usable_models
    from catalog.config import load_config

    state: State = ctx.ensure_object(State)
    with reported_errors():
        config = load_config(state.config_path, must_exist=False)
        configured = config.model_path_or_name()
        found = usable_models(configured, [config.base_dir / "models"])
    rows = [
        {
            "name": info.name,
            "source": info.source,
            "path": info.path,
            "english_only": info.english_only,
            "configured": info.name == configured or (info.path is not None and info.path == configured),
        }
        for info in found
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        if row["source"] == "downloadable":
            continue
        mark = "*" if row["configured"] else " "
        language = "English only" if row["english_only"] else "multilingual"
        click.echo(clean(f"{mark} {row['name']:<22} {row['source']:<8} {language:<13} {row['path']}"))
    pullable = [str(row["name"]) for row in rows if row["source"] == "downloadable"]
    if pullable:
        click.echo(clean(f"\nDownloadable with `catalog models pull NAME` (needs the network): {', '.join(pullable)}"))
    if not any(row["configured"] for row in rows):
        click.echo(clean(f"\nThe configured model {configured!r} is not usable here."), err=True)


@models.command("pull")
@click.argument("name")
@global_options
def models_pull(name: str) -> None:
    """Download a Whisper model by its faster-whisper name into the local cache, so that
    `model: NAME` in feeds.yaml works offline from then on.

    \b
    Example:
        catalog models pull small.en
        catalog models pull large-v3-turbo
    """
    from catalog.asr.model_store import pull_model

    with reported_errors():
        path: Path = pull_model(name)
    click.echo(clean(f"Downloaded {name} to {path}; set `model: {name}` in feeds.yaml to use it."))
