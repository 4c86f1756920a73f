"""The Podcasting 2.0 JSON transcript: `{"version": "1.0.0", "segments": [{speaker, startTime, endTime, body}]}`."""

from __future__ import annotations

import html
import json

from catalog.models import Transcript, TranscriptSegment, Word
from catalog.transcripts.format import TranscriptFormat


def read(text: str) -> list[TranscriptSegment]:
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


def write(transcript: Transcript) -> str:
    segments = []
    for segment in transcript.segments:
        if segment.words:
            for word in segment.words:
                segments.append(_json_segment(segment.speaker, word.start, word.end, word.word.strip()))
        else:
            segments.append(_json_segment(segment.speaker, segment.start, segment.end, segment.text.strip()))
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1) + "\n"


def _json_segment(speaker: str | None, start: float, end: float, body: str) -> dict[str, object]:
    entry: dict[str, object] = {"startTime": round(start, 3), "endTime": round(end, 3), "body": body}
    if speaker:
        entry = {"speaker": speaker, **entry}
    return entry


FORMAT = TranscriptFormat(
    name="json",
    rank=0,
    mime_types=("application/json", "application/x-podcast-transcript+json"),
    extensions=(".json",),
    read=read,
    write=write,
    export_name="json",
)
