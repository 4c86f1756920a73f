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
        ("peace", T + '("peace")'),
        ("peace talks", T + '("peace") AND ' + T + '("talks")'),
        ('"European peacekeepers"', P + '("European peacekeepers")'),
        ("peace*", T + '("peace"* OR "peac")'),
        ("truce -Crimea", "(" + T + '("truce")) NOT ' + T + '("Crimea")'),
        ("grain OR oil", "(" + T + '("grain") OR ' + T + '("oil"))'),
        ("NEAR(a b)", T + '("NEAR a" OR "NEARa") AND ' + T + '("b")'),
        ("title:ukraine", T + '("title ukraine" OR "titleukraine")'),
        ('"unbalanced', P + '("unbalanced")'),
        ("e-mail", T + '("e mail" OR "email")'),
        ("a ( ) : * b", T + '("a") AND ' + T + '("b")'),
        ("don't", T + '("don t" OR "dont")'),
        ("ten meters", T + '("ten" OR "10") AND ' + T + '("meters")'),
        ('"ten meters"', P + '("ten meters" OR "10 meters")'),
        (
            "twenty twenty-four",
            T + '("twenty twenty four" OR "2024" OR "two thousand twenty four" OR "two thousand and twenty four")',
        ),
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
        "number-phrase",
        "year",
        "cjk",
    ],
)
def test_parse_query(text: str, expected: str) -> None:
    """Words as written (FTS5's porter stems them), numbers and compounds in every spelling."""
    assert parse_query(text).match([]) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NEAR(", T + '("NEAR")'),
        ("a OR", T + '("a")'),  # a dangling OR is dropped
        ("OR", T + '("OR")'),  # OR with nothing before it is a word
        ("AND b", T + '("AND") AND ' + T + '("b")'),
        ("NOT", T + '("NOT")'),
        ("a:b:c", T + '("a b c" OR "abc")'),
        ("Portugal*", T + '("portugal"* OR "portuga" OR "portug" OR "portu" OR "port")'),
        ("x -y", "(" + T + '("x")) NOT ' + T + '("y")'),
    ],
)
def test_fts5_keywords_and_punctuation_are_searched_as_words(text: str, expected: str) -> None:
    assert parse_query(text).match([]) == expected


def test_every_other_language_stemmer_in_use_adds_its_form() -> None:
    assert parse_query("Verhandlungen").match([]) == T + '("Verhandlungen")'
    assert parse_query("Verhandlungen").match(["german"]) == T + '("Verhandlungen" OR "verhandl")'
    # numbers are spelled in English words only (as Whisper's English models write them)
    assert parse_query("2024").match(["german"]) == parse_query("2024").match([])


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
    assert parse_query('"cease fire"').match([]) == P + '("cease fire" OR "ceasefire")'


def test_media_links() -> None:
    assert media_link("https://cdn/x.mp3", None, 75.9) == "https://cdn/x.mp3#t=75"
    assert media_link("https://www.youtube.com/watch?v=abc", "abcdefghijk", 61.2) == (
        "https://www.youtube.com/watch?v=abcdefghijk&t=61s"
    )


@pytest.mark.parametrize("text", ["²", "x² + y²", "١٠ meters", "2²nd"])
def test_digits_int_cannot_read_are_words(text: str) -> None:
    """ "²" is a digit to str.isdigit() but not a number int() reads (found by tests/test_fuzz.py);
    Arabic-Indic digits are numbers."""
    match = parse_query(text).match([])
    assert match
    if text.startswith("١٠"):
        assert '"10"' in match or '"ten"' in match
