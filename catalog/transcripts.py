"""Transcript files: publisher transcripts in the Podcasting 2.0 formats (WebVTT, SRT, JSON,
HTML, plain text) and chapters JSON, read into `Transcript`; and the JSON sidecar a sync keeps
beside each media file.

The sidecar is written (atomically) before the transcript is indexed, so a crash between the
two never costs a second Whisper pass: the next run indexes the sidecar.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError
from catalog.models import Chapter, Transcript, TranscriptSegment, Word


class TranscriptFormatError(CatalogError):
    """A transcript or chapters file that cannot be read."""


def parse_transcript(data: bytes, fmt: str, *, source: str = "publisher") -> Transcript:
    """Read a transcript file whose format (json, vtt, srt, html, text) is known or sniffed."""
    text = data.decode("utf-8-sig", errors="replace")
    fmt = sniff_format(text) if fmt == "text" else fmt
    parsers = {"json": parse_json, "vtt": parse_vtt, "srt": parse_srt, "html": parse_html, "text": parse_text}
    try:
        segments = parsers[fmt](text)
    except (ValueError, KeyError, TypeError) as exc:
        raise TranscriptFormatError(f"cannot read {fmt} transcript: {exc}") from exc
    if not segments:
        raise TranscriptFormatError(f"the {fmt} transcript has no text")
    duration = max((s.end for s in segments), default=None)
    return Transcript(segments=segments, source=source, model=None, duration=duration)


def sniff_format(text: str) -> str:
    head = text.lstrip()[:200]
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("{"):
        return "json"
    if re.search(r"\d+:\d\d:\d\d,\d+\s*-->", head):
        return "srt"
    if head.startswith("<"):
        return "html"
    return "text"


def parse_timestamp(value: str) -> float:
    """'01:02:03.500', '02:03,5', '1:05' or '65.2' to seconds."""
    parts = value.strip().replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


_CUE_TIMES = re.compile(r"^\s*([\d:.,]+)\s*-->\s*([\d:.,]+)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>]+>")
_SPEAKER_PREFIX = re.compile(r"^([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3})\s?:\s+(.*)$", re.S)


def _cues(text: str) -> list[tuple[float, float, list[str]]]:
    """(start, end, text lines) of every cue in a WebVTT or SRT document."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        for index, line in enumerate(lines):
            match = _CUE_TIMES.match(line)
            if match:
                cues.append((parse_timestamp(match.group(1)), parse_timestamp(match.group(2)), lines[index + 1 :]))
                break
    return cues


def parse_vtt(text: str) -> list[TranscriptSegment]:
    segments = []
    for start, end, lines in _cues(text):
        body = " ".join(lines)
        voice = _VOICE.search(body)
        speaker = voice.group(1).strip() if voice else None
        clean = html.unescape(_TAGS.sub("", body)).strip()
        if clean:
            segments.append(TranscriptSegment(start, end, clean, speaker))
    return _carry_speakers(segments)


def parse_srt(text: str) -> list[TranscriptSegment]:
    segments = []
    for start, end, lines in _cues(text):
        body = html.unescape(_TAGS.sub("", " ".join(line.strip() for line in lines))).strip()
        speaker = None
        named = _SPEAKER_PREFIX.match(body)
        if named:
            speaker, body = named.group(1), named.group(2).strip()
        if body:
            segments.append(TranscriptSegment(start, end, body, speaker))
    return _carry_speakers(segments)


def _carry_speakers(segments: list[TranscriptSegment]) -> list[TranscriptSegment]:
    """A named speaker goes on speaking in the cues that follow until another is named."""
    current = None
    for segment in segments:
        if segment.speaker:
            current = segment.speaker
        else:
            segment.speaker = current
    return segments


def parse_json(text: str) -> list[TranscriptSegment]:
    """Podcasting 2.0 JSON. Word-level entries (the spec's own example) are grouped into phrases
    that keep every word's time, so a search hit still points at the word."""
    data = json.loads(text)
    raw = data["segments"] if isinstance(data, dict) else data
    segments: list[TranscriptSegment] = []
    for item in raw:
        body = html.unescape(str(item.get("body", ""))).strip()
        if not body:
            continue
        start = float(item.get("startTime", 0))
        end = float(item.get("endTime", start))
        speaker = item.get("speaker") or None
        word = Word(start, end, body) if " " not in body else None
        last = segments[-1] if segments else None
        joinable = (
            word is not None
            and last is not None
            and last.words
            and last.speaker == speaker
            and start - last.end < 1.5
            and len(last.words) < 24
            and not last.text.endswith((".", "?", "!"))
        )
        if joinable and last is not None and word is not None:
            last.words.append(word)
            last.text = f"{last.text} {body}"
            last.end = max(last.end, end)
        else:
            segments.append(TranscriptSegment(start, end, body, speaker, [word] if word else []))
    return segments


def parse_html(text: str) -> list[TranscriptSegment]:
    """The Podcasting 2.0 HTML format: <cite>Speaker:</cite> <time>m:ss</time> <p>text</p>."""
    segments: list[TranscriptSegment] = []
    speaker: str | None = None
    start = 0.0
    for tag, body in re.findall(r"<(cite|time|p)\b[^>]*>(.*?)</\1>", text, re.S | re.I):
        value = html.unescape(_TAGS.sub("", body)).strip()
        tag = tag.lower()
        if tag == "cite":
            speaker = value.rstrip(":").strip() or None
        elif tag == "time":
            with contextlib.suppress(ValueError):
                start = parse_timestamp(value)
        elif value:
            segments.append(TranscriptSegment(start, start, " ".join(value.split()), speaker))
    for current, following in itertools.pairwise(segments):
        current.end = max(current.start, following.start)
    return segments


def parse_text(text: str) -> list[TranscriptSegment]:
    """Plain text has no times: one segment per paragraph, all at 0 (found, but not placed)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    segments = []
    for paragraph in paragraphs:
        named = _SPEAKER_PREFIX.match(paragraph)
        speaker, body = (named.group(1), named.group(2)) if named else (None, paragraph)
        segments.append(TranscriptSegment(0.0, 0.0, body, speaker))
    return segments


def parse_chapters(data: bytes) -> list[Chapter]:
    """Podcasting 2.0 chapters JSON; entries with `toc: false` are not navigation points."""
    try:
        raw: Any = json.loads(data.decode("utf-8-sig"))
        entries = [c for c in raw["chapters"] if c.get("toc", True) is not False and c.get("title")]
        chapters = [Chapter(float(c["startTime"]), str(c["title"]).strip(), c.get("endTime")) for c in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TranscriptFormatError(f"cannot read chapters: {exc}") from exc
    chapters.sort(key=lambda c: c.start)
    for current, following in itertools.pairwise(chapters):
        if current.end is None:
            current.end = following.start
    return chapters


# --- the sidecar ---------------------------------------------------------------------------------


def sidecar_path(media_path: Path) -> Path:
    return media_path.with_name(media_path.name + ".transcript.json")


def save_json(transcript: Transcript, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(asdict(transcript), out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def load_json(path: Path) -> Transcript:
    data = json.loads(path.read_text(encoding="utf-8"))
    segments = [
        TranscriptSegment(s["start"], s["end"], s["text"], s.get("speaker"), [Word(**w) for w in s.get("words", [])])
        for s in data["segments"]
    ]
    chapters = [Chapter(**c) for c in data.get("chapters", [])]
    return Transcript(
        segments=segments,
        source=data.get("source", "whisper"),
        model=data.get("model"),
        language=data.get("language"),
        duration=data.get("duration"),
        chapters=chapters,
        format=data.get("format"),
        url=data.get("url"),
    )
