"""Feeds as the world writes them and queries as people type them, generated (Hypothesis): the feed
normaliser and the query language raise only their documented errors, and their output is bounded
by their input. The strategies and properties live in catalog.testing.fuzz_strategies, shared with
bench/fuzz.py, which runs 10,000 cases of each; here a few hundred, derandomized so CI is repeatable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlite_utils import Database

from catalog.testing.fuzz_strategies import (
    check_feed,
    check_query,
    check_search,
    feed_inputs,
    item_tags,
    queries,
    small_catalogue,
)

# On a failure Hypothesis's pytest plugin imports libcst (when installed) to print a patch; libcst warns
# that mypy_extensions.TypedDict is deprecated, and filterwarnings=error would turn the report into an INTERNALERROR.
pytestmark = pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")

CI = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@CI
@given(feed_inputs)
def test_a_feed_document_parses_or_raises_feed_parse_error(data: bytes) -> None:
    check_feed(data)


@CI
@given(queries)
def test_a_query_compiles_or_raises_search_query_error(text: str) -> None:
    check_query(text)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = small_catalogue(Path(tmp_path_factory.mktemp("fuzz")))
    yield db
    db.close()


@CI
@given(text=queries)
def test_a_search_never_lets_an_sqlite_error_out(catalogue: Database, text: str) -> None:
    check_search(catalogue, text)


@pytest.mark.parametrize(
    ("data", "tags"),
    [
        (b"<rss><channel><item></item><ITEM/></channel></rss>", 2),
        ("<feed><atom:entry/></feed>".encode("utf-16-le"), 1),
        (b"<rss>&lt;item&gt;</rss>", 0),
    ],
    ids=["rss-any-case", "utf-16-prefixed", "escaped"],
)
def test_item_tags_are_counted_in_any_encoding(data: bytes, tags: int) -> None:
    assert item_tags(data) == tags


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xef\xbb\xbf",
        b'<?xml version="1.0" encoding="utf-16"?><rss><channel><item><title>\xff\xfe</title></item>',
        b'<rss version="2.0"><channel><item><title><![CDATA[never closed</title></item></channel></rss>',
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>&#0;&#xD800;</id></entry></feed>",
    ],
    ids=["empty", "bom-only", "declared-utf16-is-not", "open-cdata", "invalid-char-refs"],
)
def test_known_awkward_documents(data: bytes) -> None:
    check_feed(data)
