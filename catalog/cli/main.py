"""The `catalog` command: a thin click layer over `catalog.app.Catalog`.

Exit codes: 0 ok · 1 error · 2 usage or bad query · 3 configuration error ·
4 sync finished but some feeds or items failed · 5 another sync is running (nothing done).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from catalog import __version__
from catalog.cli.context import State, closed_pipe
from catalog.cli.terminal import clean
from catalog.paths import DEFAULT_CONFIG

# Each command's module is imported only when that command runs: `catalog search` must not pay for
# the sync machinery (pydantic, httpx, numpy) at start-up.
COMMANDS = {
    "sync": "catalog.cli.sync:sync",
    "fetch": "catalog.cli.fetch:fetch",
    "search": "catalog.cli.search:search",
    "list": "catalog.cli.search:list_items",
    "show": "catalog.cli.items:show",
    "export": "catalog.cli.items:export",
    "status": "catalog.cli.status:status",
    "retry": "catalog.cli.status:retry",
    "retranscribe": "catalog.cli.retranscribe:retranscribe",
    "feeds": "catalog.cli.feeds:feeds",
    "models": "catalog.cli.models:models",
    "reindex": "catalog.cli.reindex:reindex",
    "watch": "catalog.cli.watch:watch",
    "serve": "catalog.cli.serve:serve",
    "datasette": "catalog.cli.datasette:datasette",
}


class CatalogGroup(click.Group):
    """Commands loaded when used (`COMMANDS`). And click exits 1 when stdout is a closed pipe
    (`catalog search x --json | head -1`); we exit 0: the reader has what it wanted. Both parsing
    (which prints --help) and running are covered."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            closed_pipe()
            raise  # not reached: closed_pipe exits
        except click.ClickException as exc:
            clean_message(exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            closed_pipe()
            raise
        except click.ClickException as exc:
            clean_message(exc)
            raise
        except OverflowError as exc:  # `show 100000000000000000000`: more than SQLite can hold, so no such thing
            if "SQLite" not in str(exc):
                raise
            raise click.UsageError(f"a number given is too large: at most {2**63 - 1}", ctx) from None


def clean_message(exc: click.ClickException) -> None:
    """A usage error may quote what was typed (`No such option: --x`): it is printed cleaned, as all output is.
    (`message` is Final to type checkers only: click sets it in __init__ and reads it when showing.)"""
    vars(exc)["message"] = clean(exc.message)


@click.group(cls=CatalogGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="catalog")
@click.option(
    "--config",
    "config",
    default=DEFAULT_CONFIG,
    envvar="CATALOG_CONFIG",
    show_default=True,
    metavar="PATH",
    help="feeds.yaml to read (env CATALOG_CONFIG).",
)
@click.option(
    "--db",
    "db",
    default=None,
    envvar="CATALOG_DB",
    metavar="PATH",
    help="SQLite catalogue (env CATALOG_DB). Default: the config's `database:`, else catalog.db beside it.",
)
@click.pass_context
def cli(ctx: click.Context, config: str, db: str | None) -> None:
    """Catalogue articles, podcasts and videos from your feeds, transcribe the audio with Whisper,
    and search everything together, with the minute each phrase is spoken.

    \b
    Typical use:
        catalog sync                          # fetch, download, transcribe, index
        catalog search "European peacekeepers"
        catalog show 5                        # an item in full, transcript with [mm:ss]
        catalog status                        # feed health, queue, failures, last runs

    --config and --db may also be given after the command.

    Exit codes: 0 ok, 1 error, 2 usage or bad query, 3 configuration error,
    4 some feeds or items failed (the rest were synced), 5 another sync is running.
    """
    source = ctx.get_parameter_source("config")
    ctx.obj = State(config, db, config_given=source not in (None, click.core.ParameterSource.DEFAULT))


def main() -> None:
    try:
        cli(prog_name="catalog")
        sys.stdout.flush()
    except BrokenPipeError:
        closed_pipe()


if __name__ == "__main__":  # pragma: no cover
    main()
