from __future__ import annotations

import pytest

from catalog.errors import SearchQueryError
from catalog.storage.search import media_link, parse_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("peace", '"peace"'),
        ("peace talks", '"peace" AND "talks"'),
        ('"European peacekeepers"', '"European peacekeepers"'),
        ("peace*", '"peace"*'),
        ("truce -Crimea", '("truce") NOT "Crimea"'),
        ("grain OR oil", '("grain" OR "oil")'),
        ("NEAR(a b)", '("NEAR a" OR "NEARa") AND "b"'),
        ("title:ukraine", '("title ukraine" OR "titleukraine")'),
        ('"unbalanced', '"unbalanced"'),
        ("e-mail", '("e mail" OR "email")'),
        ("a ( ) : * b", '"a" AND "b"'),
        ("don't", '"don\'t"'),
    ],
    ids=[
        "word",
        "words",
        "phrase",
        "prefix",
        "not",
        "or",
        "near",
        "colon",
        "open-quote",
        "hyphen",
        "junk",
        "apostrophe",
    ],
)
def test_parse_query(text: str, expected: str) -> None:
    assert parse_query(text).match == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NEAR(", '"NEAR"'),
        ("a OR", '"a"'),  # a dangling OR is dropped
        ("OR", '"OR"'),  # OR with nothing before it is a word
        ("AND b", '"AND" AND "b"'),
        ("NOT", '"NOT"'),
        ("a:b:c", '("a b c" OR "abc")'),
        ("Portugal*", '"Portugal"*'),
        ("x -y", '("x") NOT "y"'),
    ],
)
def test_fts5_keywords_and_punctuation_are_searched_as_words(text: str, expected: str) -> None:
    assert parse_query(text).match == expected


@pytest.mark.parametrize("text", ["", "   ", "\t\n"], ids=["empty", "blank", "whitespace"])
def test_an_empty_query_is_a_clear_error(text: str) -> None:
    with pytest.raises(SearchQueryError) as info:
        parse_query(text)
    assert str(info.value) == "empty search query"
    assert info.value.hint == 'give a word or a "quoted phrase" to search for'
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "text",
    ["-only", "( ) :", '""', '"', "-", "*", "^", "-x -y", "💥", "\\", "- -"],
    ids=[
        "only-not",
        "punct",
        "empty-phrase",
        "quote",
        "dash",
        "star",
        "caret",
        "only-nots",
        "emoji",
        "backslash",
        "dashes",
    ],
)
def test_queries_with_nothing_to_find_are_clear_errors(text: str) -> None:
    with pytest.raises(SearchQueryError) as info:
        parse_query(text)
    assert str(info.value) == f"nothing to search for in {text!r}"
    assert info.value.hint == "a query needs at least one word that is not excluded with '-'"
    assert info.value.exit_code == 2


def test_compound_words_match_either_spelling() -> None:
    assert parse_query("ceasefire").match == (
        '("ceasefire" OR "cea sefire" OR "ceas efire" OR "cease fire" OR "ceasef ire")'
    )
    assert parse_query("cease-fire").match == '("cease fire" OR "ceasefire")'
    assert parse_query('"cease fire"').match == '"cease fire"'  # a quoted phrase is taken as typed


def test_media_links() -> None:
    assert media_link("https://cdn/x.mp3", None, 75.9) == "https://cdn/x.mp3#t=75"
    assert media_link("https://www.youtube.com/watch?v=abc", "abcdefghijk", 61.2) == (
        "https://www.youtube.com/watch?v=abcdefghijk&t=61s"
    )
