"""`catalog retranscribe`: queue transcripts again with a better Whisper model (the model upgrade path)."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.asr.engine import available_model_names
from catalog.asr.model_store import BUNDLED_MODEL, looks_like_path
from catalog.cli.context import State, global_options, reported_errors
from catalog.cli.dates import parse_since


@click.command()
@click.option("--model", "model", metavar="NAME", help="The model to transcribe with (name or folder).")
@click.option("--where-model", metavar="NAME", help="Only transcripts this model made (default: any other model's).")
@click.option("--feed", metavar="NAME", help="Only this feed's items.")
@click.option("--since", metavar="WHEN", help="Only items published since: a date (YYYY-MM-DD) or a time ago (7d, 2w).")
@click.option(
    "--cancel", is_flag=True, help="Forget what is queued and not begun (of --model, of --feed); transcripts stay."
)
@global_options
@click.pass_obj
def retranscribe(
    state: State, model: str | None, where_model: str | None, feed: str | None, since: str | None, cancel: bool
) -> None:
    """Queue items already transcribed by Whisper to be transcribed again with --model.

    The next `catalog sync` does the work, here or on its cluster (--cluster), after the new
    items of the run. Until an item's new transcript is in, its old one stays searchable; the
    new one replaces it in one transaction. Every transcript records its model: `catalog
    status` counts them by model. A model folder is given as a path (it must exist where
    Whisper runs: a warning says when it is not here); a name such as small.en must be one
    faster-whisper knows (else a usage error), and be in the local model cache where Whisper
    runs (`catalog models pull small.en`). Transcripts from publishers are never queued.

    \b
    Example:
        catalog retranscribe --model small.en --where-model tiny.en
        catalog retranscribe --model large-v3-turbo --feed sample-nonzero --since 2026-01-01
        catalog retranscribe --cancel                  # forget what is queued
    """
    if cancel:
        with reported_errors(), state.open(config_must_exist=False) as cat:
            cancelled = cat.cancel_retranscription(model=model, feed=feed)
        click.echo(f"Cancelled {cancelled} queued re-transcription(s); their items keep their transcripts.")
        return
    if model is None:
        raise click.UsageError("give --model NAME (the model to transcribe with), or --cancel")
    model = checked_model(model)
    with reported_errors(), state.open(config_must_exist=False) as cat:
        queued = cat.retranscribe(model, where_model=where_model, feed=feed, since=parse_since(since, "--since"))
    click.echo(f"Queued {queued} item(s) to transcribe again with {model}; the next `catalog sync` does it.")


def checked_model(model: str) -> str:
    """A model faster-whisper knows by name, or a folder (resolved: relative to this folder as typed
    here); else click.BadParameter naming the valid names. A typo queued would fail every sync."""
    if looks_like_path(model):
        folder = Path(model).expanduser().resolve()
        if not folder.is_dir():  # it may be on the cluster's workers only
            click.echo(f"Warning: no model folder {folder} here: it must exist where Whisper runs", err=True)
        return str(folder)
    names = available_model_names()
    if model not in names and model != BUNDLED_MODEL:
        raise click.BadParameter(
            f"{model!r} is not a Whisper model name; the names are: {', '.join(names)} (or give a model folder)",
            param_hint="--model",
        )
    return model
