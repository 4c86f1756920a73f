"""The JSON sidecar a sync keeps beside each media file: the Whisper transcript, written before it is indexed.

So a crash between transcribing and indexing never costs a second Whisper pass: the next run indexes the sidecar.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from catalog.files import atomic_write_bytes
from catalog.models import Chapter, Transcript, TranscriptSegment, Word


def sidecar_path(media_path: Path) -> Path:
    return media_path.with_name(media_path.name + ".transcript.json")


def save_json(transcript: Transcript, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(asdict(transcript), ensure_ascii=False).encode("utf-8"))


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
