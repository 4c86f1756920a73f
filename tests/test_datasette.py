"""The catalogue in Datasette (in-process, its own HTTP client): the search box and the canned queries of
`catalog datasette` find what was said, in the exact item and second."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from catalog.cli import cli

datasette_app = pytest.importorskip("datasette.app")

SAID = "Armistice, not peace, is the most likely outcome this year."


@pytest.fixture(scope="module")
def metadata(synced_samples: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("datasette") / "metadata.yml"
    result = CliRunner().invoke(cli, ["--config", str(synced_samples), "datasette", "-o", str(path)])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def get(db: Path, metadata: dict[str, Any] | None, *paths: str) -> list[Any]:
    """The JSON of each of `paths`, from a Datasette over `db` (with `metadata`, or as the file is)."""

    async def run() -> list[Any]:
        datasette = datasette_app.Datasette([str(db)], metadata=metadata)
        answers = []
        for path in paths:
            response = await datasette.client.get(path)
            assert response.status_code == 200, response.text
            answers.append(response.json())
        return answers

    return asyncio.run(run())


def test_the_metadata_names_the_database_and_its_queries(metadata: dict[str, Any]) -> None:
    database = metadata["databases"]["catalog"]
    assert list(database["queries"]) == ["search_transcripts", "search_articles", "episodes_by_feed"]
    assert [query["title"] for query in database["queries"].values()] == [
        "Search transcripts",
        "Search articles",
        "Episodes by feed",
    ]
    assert database["tables"]["passages"]["fts_table"] == "search_index"


def test_the_search_box_finds_a_spoken_word_in_its_item(synced_samples: Path, metadata: dict[str, Any]) -> None:
    (rows,) = get(
        synced_samples.parent / "catalog.db", metadata, "/catalog/passages.json?_search=armistice&_shape=array"
    )
    assert [(row["item_id"], row["kind"], row["start"], row["text"]) for row in rows] == [(5, "segment", 13.26, SAID)]


def test_without_metadata_the_index_is_named_in_the_address(synced_samples: Path) -> None:
    (rows,) = get(
        synced_samples.parent / "catalog.db",
        None,
        "/catalog/passages.json?_search=armistice&_fts_table=search_index&_fts_pk=id&_shape=array",
    )
    assert [(row["item_id"], row["text"]) for row in rows] == [(5, SAID)]


def test_canned_queries_search_transcripts_and_articles_and_list_a_feed(
    synced_samples: Path, metadata: dict[str, Any]
) -> None:
    first_visit, spoken, written, episodes = get(
        synced_samples.parent / "catalog.db",
        metadata,
        "/catalog/search_transcripts.json?words=&_shape=array",  # the form before anything is typed
        "/catalog/search_transcripts.json?words=armistice&_shape=array",
        "/catalog/search_articles.json?words=peacekeepers&_shape=array",
        "/catalog/episodes_by_feed.json?feed=nonzero&_shape=array",
    )
    assert first_visit == []
    assert [(r["item"], r["title"], r["at"], r["seconds"], r["said"]) for r in spoken] == [
        (5, "Episode 1: Ways Out of the War", "0:13", 13.26, SAID)
    ]
    assert spoken[0]["link"].endswith("/samples/media/nonzero-ep1.mp3#t=13")
    assert [(r["item"], r["title"]) for r in written] == [(1, "What Security Guarantees Could Ukraine Actually Get?")]
    assert [(r["item"], r["title"], r["transcript"]) for r in episodes] == [
        (4, "Episode 2: The Black Sea", "whisper"),
        (5, "Episode 1: Ways Out of the War", "whisper"),
    ]


def test_datasette_command_prints_yaml_to_stdout(synced_samples: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(synced_samples), "datasette"])
    assert result.exit_code == 0 and result.stderr == ""
    assert yaml.safe_load(result.stdout)["databases"]["catalog"]["tables"]["passages"]["fts_pk"] == "id"
