"""Transcripts from publishers and for export: one module per format behind one registry, chapters,
the sidecar JSON kept beside media files, and the publisher-transcript fetcher."""

from catalog.transcripts.chapters import parse_chapters
from catalog.transcripts.registry import EXPORT_NAMES, FORMATS, export, format_for, parse_transcript

__all__ = ["EXPORT_NAMES", "FORMATS", "export", "format_for", "parse_chapters", "parse_transcript"]
