from __future__ import annotations

import pytest

from catalog.errors import SearchQueryError
from catalog.storage.query import parse_query
from catalog.storage.search import media_link

T = "{idx_body idx_heading}: "  # a word or prefix: text and titles
P = "{idx_body idx_heading idx_bridge}: "  # a phrase: also across segment boundaries


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("peace", T + '("peac" OR "peace")'),
        ("peace talks", T + '("peac" OR "peace") AND ' + T + '("talk" OR "talks")'),
        ('"European peacekeepers"', P + '("european peacekeep" OR "european peacekeepers")'),
        ("peace*", T + '("peace"* OR "peac")'),
        ("truce -Crimea", "(" + T + '("truce")) NOT ' + T + '("crimea")'),
        ("grain OR oil", "(" + T + '("grain") OR ' + T + '("oil"))'),
        ("NEAR(a b)", T + '("near a" OR "neara") AND ' + T + '("b")'),
        ("title:ukraine", T + '("titl ukrain" OR "titleukrain" OR "title ukraine" OR "titleukraine")'),
        ('"unbalanced', P + '("unbalanc" OR "unbalanced")'),
        ("e-mail", T + '("e mail" OR "email")'),
        ("a ( ) : * b", T + '("a") AND ' + T + '("b")'),
        ("don't", T + '("dont")'),
        ("ten meters", T + '("10" OR "ten") AND ' + T + '("meter" OR "meters")'),
        ("São", T + '("sao")'),
        ("纪念币", T + '("纪念 念币")'),
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
        "number",
        "accent",
        "cjk",
    ],
)
def test_parse_query(text: str, expected: str) -> None:
    """With English stemming (and the unstemmed form, for feeds in languages without a stemmer)."""
    assert parse_query(text).match(["english"]) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NEAR(", T + '("near")'),
        ("a OR", T + '("a")'),  # a dangling OR is dropped
        ("OR", T + '("or")'),  # OR with nothing before it is a word
        ("AND b", T + '("and") AND ' + T + '("b")'),
        ("NOT", T + '("not")'),
        ("a:b:c", T + '("a b c" OR "abc")'),
        ("Portugal*", T + '("portugal"* OR "portuga" OR "portug" OR "portu" OR "port")'),
        ("x -y", "(" + T + '("x")) NOT ' + T + '("y")'),
    ],
)
def test_fts5_keywords_and_punctuation_are_searched_as_words(text: str, expected: str) -> None:
    assert parse_query(text).match([]) == expected.replace('"peac" OR ', "")


def test_every_stemmer_in_use_adds_its_form() -> None:
    english_only = parse_query("Verhandlungen").match(["english"])
    both = parse_query("Verhandlungen").match(["english", "german"])
    assert '"verhandl"' not in english_only and '"verhandl"' in both and '"verhandlungen"' in both


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
    assert parse_query("ceasefire").match([]) == (T + '("ceasefire" OR "ceas efire" OR "cease fire")')
    assert parse_query("cease-fire").match([]) == T + '("cease fire" OR "ceasefire")'
    assert parse_query('"cease fire"').match([]) == P + '("cease fire")'  # a quoted phrase is taken as typed


def test_media_links() -> None:
    assert media_link("https://cdn/x.mp3", None, 75.9) == "https://cdn/x.mp3#t=75"
    assert media_link("https://www.youtube.com/watch?v=abc", "abcdefghijk", 61.2) == (
        "https://www.youtube.com/watch?v=abcdefghijk&t=61s"
    )
