"""The command line: click commands over `catalog.app.Catalog`, and how their output is drawn."""

from catalog.cli.main import cli, main

__all__ = ["cli", "main"]
