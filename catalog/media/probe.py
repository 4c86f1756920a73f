"""Looking inside downloaded media: duration and streams, read from the container header.

The duration is checked before anything is decoded, so a 12-hour livestream recording is
refused in milliseconds instead of filling memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.errors import MediaError, TooLongError


@dataclass
class MediaInfo:
    duration: float | None
    has_audio: bool
    has_video: bool


def probe(path: Path) -> MediaInfo:
    """Streams and duration from the container; raises MediaError when there is no audio."""
    import av  # imported late: it pulls in numpy, and `catalog sync` must start fast

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            has_audio = any(stream.type == "audio" for stream in container.streams)
            has_video = any(stream.type == "video" for stream in container.streams)
            duration = container.duration / av.time_base if container.duration else None
            if duration is None:
                for stream in container.streams.audio:
                    if stream.duration and stream.time_base:
                        duration = float(stream.duration * stream.time_base)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{path.name}: cannot read as audio/video: {exc}") from exc
    if not has_audio:
        raise MediaError(f"{path.name}: has no audio track to transcribe")
    return MediaInfo(duration, has_audio, has_video)


def check_duration(info: MediaInfo, limit_minutes: float, source: str) -> None:
    if info.duration is not None and info.duration > limit_minutes * 60:
        raise TooLongError(
            f"{source}: {info.duration / 60:.0f} minutes long, over the {limit_minutes:g} minute limit",
            hint="raise max_duration_minutes in feeds.yaml to accept it",
        )
