"""Human search output shows the text as it is: a backslash before a match (a Windows path, LaTeX)
or square brackets in it do not turn into markup or crash the command."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from catalog.cli import cli

TEXTS = [
    r"Open C:\marmot\notes to find the file.",
    r"The macro \\marmot is in the preamble.",
    r"A regex like [a-z]+\ marmot\ and [bold]marmot[/bold] tags.",
    "Ends in a backslash: marmot \\",
]


@pytest.mark.parametrize("text", TEXTS, ids=["path", "latex", "brackets", "trailing"])
def test_search_prints_text_with_backslashes_and_brackets(tmp_path: Path, text: str) -> None:
    body = text.replace("&", "&amp;").replace("<", "&lt;")
    (tmp_path / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>g</guid>'
        f"<title>Notes</title><description>{body}</description></item></channel></rss>"
    )
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"name": "notes", "url": "feed.xml"}]}))
    runner = CliRunner()
    args = ["--config", str(tmp_path / "feeds.yaml")]
    assert runner.invoke(cli, [*args, "sync"], catch_exceptions=False).exit_code == 0
    result = runner.invoke(cli, [*args, "search", "marmot"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert text in result.stdout.replace("\n   ", " ")
