"""What every command shares: the global options, opening the catalogue, errors as messages, JSON output.

Library errors become one message on stderr and the error's exit code, never a traceback; so does an
operating-system error about a path the user gave (a folder that does not exist, one that cannot be
written).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from catalog.cli.dates import parse_date as parse_date  # re-exported: commands took it from here
from catalog.cli.terminal import CleanFormatter, clean, dumps
from catalog.errors import CatalogError
from catalog.paths import DEFAULT_CONFIG

if TYPE_CHECKING:
    from rich.console import Console

    from catalog.app import Catalog

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """The group-level options, shared by every command (`ctx.obj`)."""

    def __init__(self, config: str = DEFAULT_CONFIG, db: str | None = None, *, config_given: bool = False) -> None:
        self.config_path = config
        self.db_path = db
        self.config_given = config_given  # named with --config or CATALOG_CONFIG: then it must exist

    def open(self, *, config_must_exist: bool = True) -> Catalog:
        """The catalogue. Readers (search, show, status...) work without a feeds.yaml in the current
        folder, but not with a --config that names a file that is not there."""
        from catalog.app import Catalog  # imported late: `catalog sync` takes its lock first

        must_exist = config_must_exist or self.config_given
        return Catalog.open(self.config_path, self.db_path, config_must_exist=must_exist)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        state = ctx.ensure_object(State)
        state.config_path, state.config_given = value, True


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(State).db_path = value


def global_options(command: F) -> F:
    """`--config` and `--db` accepted after the command too (`catalog sync --config x`)."""
    command = click.option(
        "--db",
        expose_value=False,
        callback=_set_db,
        metavar="PATH",
        help="SQLite catalogue (same as `catalog --db PATH COMMAND`).",
    )(command)
    return click.option(
        "--config",
        expose_value=False,
        callback=_set_config,
        metavar="PATH",
        help="feeds.yaml to read (same as `catalog --config PATH COMMAND`).",
    )(command)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Library errors, and OS errors about a path, become a message on stderr and an exit code."""
    try:
        yield
    except CatalogError as exc:
        fail(str(exc), exc.hint, exc.exit_code)
    except OSError as exc:
        if exc.filename is None:
            raise
        fail(f"{exc.filename}: {exc.strerror or exc}", None, 1)


def fail(message: str, hint: str | None = None, code: int = 1) -> NoReturn:
    click.echo(f"Error: {clean(message)}", err=True)
    if hint:
        click.echo(f"Hint: {clean(hint)}", err=True)
    sys.exit(code)


def stdout_console() -> Console:
    from rich.console import Console

    # Piped output (logs, mail from cron) is never hard-wrapped at 80 columns.
    console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
    console.on_broken_pipe = closed_pipe  # type: ignore[method-assign]
    return console


def closed_pipe() -> NoReturn:
    """The reader of our stdout went away (`catalog search x | head -1`): it has what it wanted, so exit 0.

    stdout goes to /dev/null first, or Python prints a second error while flushing it at exit.
    (rich's own handler exits with 1, which makes `set -o pipefail` scripts fail.)
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """JSON on stdout, made with json.dumps: control characters in feed text are escaped, never raw."""
    click.echo(dumps(data))


def show_diagnostics(verbose: bool) -> None:
    """`--verbose`: catalog's log messages (which feed, which item, what it decided) on stderr."""
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(CleanFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("catalog")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
