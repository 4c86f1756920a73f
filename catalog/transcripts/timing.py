"""Clock times in transcript files: read ('01:02:03.500', '02:03,5', '65.2') and written (HH:MM:SS.mmm)."""

from __future__ import annotations


def parse_timestamp(value: str) -> float:
    """'01:02:03.500', '02:03,5', '1:05' or '65.2' to seconds. Raises ValueError on anything else."""
    parts = value.strip().replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def clock(seconds: float, separator: str) -> str:
    """HH:MM:SS<separator>mmm: '.' for WebVTT, ',' for SRT."""
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
