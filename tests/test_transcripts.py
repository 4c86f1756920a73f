"""Publisher transcript formats in, Podcasting 2.0 formats out; every export is parsed back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from catalog.models import Transcript, TranscriptSegment, Word
from catalog.transcripts import export, parse_chapters, parse_transcript
from catalog.transcripts.cards import CARD_LINES, LINE_CHARS
from catalog.transcripts.registry import format_for
from catalog.transcripts.timing import parse_timestamp

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"


def load(name: str, fmt: str) -> Transcript:
    return parse_transcript((FIXTURES / name).read_bytes(), fmt)


def words(transcript: Transcript) -> list[str]:
    return " ".join(segment.text for segment in transcript.segments).split()


@pytest.mark.parametrize(
    ("name", "fmt", "segments", "speakers", "first"),
    [
        ("buzzsprout_trailer_example.vtt", "vtt", 7, {"Sarah", "Gillian"}, (0.0, "Sarah", "In today's episode")),
        ("buzzsprout_10_things_example.srt", "srt", 222, {"Travis", "Sarah"}, (0.179, "Travis", "When you first")),
        ("buzzsprout_10_things_example.html", "html", 10, {"Travis", "Sarah"}, (0.0, "Travis", "When you first")),
        ("podcast_namespace_example.json", "json", 2, {"Darth Vader", "Luke"}, (0.5, "Darth Vader", "I am your")),
    ],
    ids=["vtt", "srt", "html", "json"],
)
def test_publisher_formats(
    name: str, fmt: str, segments: int, speakers: set[str], first: tuple[float, str, str]
) -> None:
    transcript = load(name, fmt)
    assert len(transcript.segments) == segments
    assert speakers <= {s.speaker for s in transcript.segments}
    head = transcript.segments[0]
    assert (head.start, head.speaker) == first[:2] and head.text.startswith(first[2])
    assert all(s.end >= s.start for s in transcript.segments)
    assert "&amp;" not in " ".join(words(transcript)) and "<v" not in " ".join(words(transcript))


def test_json_words_keep_their_times() -> None:
    transcript = load("podcast_namespace_example.json", "json")
    vader = transcript.segments[0]
    assert [w.word for w in vader.words] == ["I", "am", "your", "father."]
    assert vader.words[2].start == 1.5


def test_format_sniffing_and_types() -> None:
    assert format_for("application/x-subrip").name == "srt"
    assert format_for("application/srt").name == "srt"
    assert format_for("text/vtt").name == "vtt"
    assert format_for(None, "https://x/ep.json?x=1").name == "json"
    assert format_for("text/plain").name == "text"
    sniffed = parse_transcript((FIXTURES / "buzzsprout_trailer_example.vtt").read_bytes(), "text")
    assert sniffed.segments[0].speaker == "Sarah"


def test_timestamps() -> None:
    assert parse_timestamp("01:02:03.500") == 3723.5
    assert parse_timestamp("02:03,250") == 123.25
    assert parse_timestamp("1:05") == 65.0


def test_chapters() -> None:
    chapters = parse_chapters((FIXTURES / "chapters_example.json").read_bytes())
    assert [c.title for c in chapters][:3] == ["Intro", "Hearing Aids", "Progress Report"]
    assert chapters[1].start == 168 and chapters[0].end == 168
    complex_ = parse_chapters((FIXTURES / "chapters_example_complex.json").read_bytes())
    assert all(c.title for c in complex_)


SOURCES = [
    ("buzzsprout_trailer_example.vtt", "vtt"),
    ("buzzsprout_10_things_example.srt", "srt"),
    ("buzzsprout_10_things_example.html", "html"),
    ("podcast_namespace_example.json", "json"),
]


@pytest.mark.parametrize("out", ["vtt", "srt", "json", "txt"])
@pytest.mark.parametrize(("name", "fmt"), SOURCES, ids=[fmt for _, fmt in SOURCES])
def test_exports_parse_back_with_the_same_words_and_speakers(name: str, fmt: str, out: str) -> None:
    original = load(name, fmt)
    text = export(original, out)
    back = parse_transcript(text.encode(), {"txt": "text"}.get(out, out))
    assert words(back) == words(original)
    assert {s.speaker for s in back.segments} - {None} == {s.speaker for s in original.segments} - {None}
    if out in ("vtt", "srt", "json") and fmt != "html":
        assert abs(back.segments[0].start - original.segments[0].start) < 0.01
        assert abs(back.segments[-1].end - original.segments[-1].end) < 0.01


def test_srt_follows_the_podcasting_20_card_rules() -> None:
    srt = export(load("buzzsprout_10_things_example.srt", "srt"), "srt")
    cards = srt.strip().split("\n\n")
    for number, card in enumerate(cards, 1):
        lines = card.split("\n")
        assert lines[0] == str(number)
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", lines[1])
        text = lines[2:]
        assert 1 <= len(text) <= CARD_LINES
        assert all(len(line) <= LINE_CHARS or " " not in line for line in text)
    speakers = [card.split("\n")[2].split(":")[0] for card in cards if re.match(r"^\w+: ", card.split("\n")[2])]
    assert speakers[:2] == ["Travis", "Sarah"]


def test_vtt_uses_voice_spans_and_escapes() -> None:
    transcript = Transcript([TranscriptSegment(0, 2, "Q&A <now>", "Ann", [])])
    vtt = export(transcript, "vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Ann>Q&amp;A &lt;now>")


def test_json_export_is_word_level_when_words_are_known() -> None:
    transcript = Transcript(
        [TranscriptSegment(1, 2, "hello there", "Bo", [Word(1, 1.4, "hello"), Word(1.5, 2, "there")])]
    )
    data = json.loads(export(transcript, "json"))
    assert data["version"] == "1.0.0"
    assert data["segments"] == [
        {"speaker": "Bo", "startTime": 1, "endTime": 1.4, "body": "hello"},
        {"speaker": "Bo", "startTime": 1.5, "endTime": 2, "body": "there"},
    ]
