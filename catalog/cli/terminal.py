"""Feed text made safe for a terminal: the one place that decides what of it may reach stdout and stderr.

Titles, bodies, URLs, transcripts and the reasons servers give for errors are written by strangers. Printed
as they are, an escape sequence turns the terminal red, sets its window title, rings its bell, or moves the
cursor to overwrite a line already printed; a bidi override shows text in an order other than the one stored.

- `clean` is for human output: escape sequences go whole (CSI `ESC [ ... m`, OSC `ESC ] ... BEL`, DCS, APC,
  two-byte escapes, their 8-bit C1 forms), then every other C0 and C1 control (BEL, backspace, carriage
  return, DEL...) and the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069). Newlines
  and tabs stay.
- `dumps` is for JSON: nothing is removed (a script gets the text as stored); json.dumps escapes C0
  controls as `\\u001b`, and `dumps` escapes the rest (DEL, C1, bidi, line separators) the same way.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

_STRING_END = r"(?:\x07|\x1b\\|\x9c)"  # BEL, or ST (`ESC \`, or its C1 form)
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI: colours, cursor movement, erasing
    rf"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*{_STRING_END}"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # two-byte escapes (ESC c resets the terminal) and charset choices
)
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_JSON_UNSAFE = re.compile(rf"[\x7f-\x9f{_BIDI}\u2028\u2029]")


def clean(text: str) -> str:
    """Text fit for a terminal: escape sequences and control characters dropped; newlines and tabs stay."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def dumps(data: Any) -> str:
    """JSON for stdout: every control and bidi character in a string escaped (`\\u001b`), none removed."""
    return escape_json(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def escape_json(document: str) -> str:
    """A JSON document with the characters json.dumps leaves raw under ensure_ascii=False escaped.
    They can only be inside strings (JSON's own syntax is ASCII), where `\\uXXXX` means the same."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


class CleanFormatter(logging.Formatter):
    """Log lines (`--verbose`) quote feed text too: they are cleaned like everything else printed."""

    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record))
