"""Transcript files: the JSON sidecar a sync keeps beside each media file.

The sidecar is written (atomically) before the transcript is indexed, so a crash between the
two never costs a second Whisper pass: the next run indexes the sidecar.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from catalog.models import Chapter, Transcript, TranscriptSegment, Word


def sidecar_path(media_path: Path) -> Path:
    return media_path.with_name(media_path.name + ".transcript.json")


def save_json(transcript: Transcript, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(asdict(transcript), out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def load_json(path: Path) -> Transcript:
    data = json.loads(path.read_text(encoding="utf-8"))
    segments = [
        TranscriptSegment(
            s["start"], s["end"], s["text"], s.get("speaker"), [Word(**w) for w in s.get("words", [])]
        )
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
    )
