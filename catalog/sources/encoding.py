"""The character encoding of a feed document: the declared one when the bytes read cleanly in it,
else detected (charset-normalizer), so a KOI8-R feed with no declaration is Russian, not mojibake.

feedparser falls back to windows-1252 when the declared (or default UTF-8) encoding fails, which
reads any bytes, so the failure was silent: "ëÁË ÐÅÒÅÖÉÔØ" for "Как пережить". Here the document
is decoded with the declared encoding first; only when that fails is the encoding detected, and the
document handed to feedparser as UTF-8 with its declaration saying so. When nothing reads it
cleanly, the caller gets a warning that `catalog status` shows.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_DECLARATION = re.compile(rb"^(\s*<\?xml[^>]*?\bencoding\s*=\s*)([\"'])([A-Za-z0-9._:-]+)\2", re.I)
_XML_START = re.compile(rb"^\s*<\?xml\b", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
# The legacy encodings of a language (the feed's <language>), tried in order before detection,
# which guesses poorly on the few hundred letters of a short feed (Greek read as Cyrillic).
LEGACY_ENCODINGS = {
    "el": ("cp1253", "iso8859_7"), "ru": ("cp1251", "koi8_r"), "uk": ("cp1251", "koi8_u"), "bg": ("cp1251",),
    "sr": ("cp1251",), "ja": ("shift_jis", "euc_jp", "iso2022_jp"), "zh": ("gb18030", "big5"), "ko": ("euc_kr",),
    "tr": ("cp1254",), "pl": ("cp1250", "iso8859_2"), "cs": ("cp1250", "iso8859_2"), "sk": ("cp1250", "iso8859_2"),
    "hu": ("cp1250", "iso8859_2"), "ar": ("cp1256",), "he": ("cp1255",), "th": ("cp874",), "vi": ("cp1258",),
    "fa": ("cp1256",), "ur": ("cp1256",),
}  # fmt: skip
_LANGUAGE = re.compile(rb"<(?:\w+:)?language>\s*([A-Za-z]{2,3})|xml:lang\s*=\s*[\"']([A-Za-z]{2,3})", re.I)
# Undeclared Latin text is windows-1252 on the web (the WHATWG default, and feedparser's own
# fallback): among the guesses that read the bytes equally cleanly, it wins over a Baltic or
# Vietnamese code page that merely scores a little higher on letter statistics.
WEB_DEFAULT = ("cp1252", "latin_1", "iso8859_15")
EQUALLY_CLEAN = 0.005  # chaos (0..1) within which two guesses read the bytes equally cleanly


@dataclass
class Decoded:
    body: bytes  # what feedparser should parse
    content_type: str | None  # the Content-Type to tell feedparser (None: the response's own)
    detected: str | None = None  # the encoding found when the declared one failed
    warning: str | None = None  # nothing read the document cleanly


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP header names, else the XML declaration's, else None (UTF-8 by default)."""
    found = _CHARSET.search(content_type or "")
    if found:
        return found.group(1)
    declared = _DECLARATION.match(body[:1024])
    return declared.group(3).decode("ascii") if declared else None


def readable_as(body: bytes, encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
        body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return False
    return True


def decode_feed(body: bytes, content_type: str | None) -> Decoded:
    """`body` as feedparser should get it: unchanged when it reads cleanly in its declared encoding
    (or UTF-8), else transcoded to UTF-8 from the detected one."""
    if body.startswith(_BOMS):
        return Decoded(body, None)
    declared = declared_encoding(body, content_type)
    if readable_as(body, declared or "utf-8"):
        return Decoded(body, None)
    said = f"declared {declared}" if declared else "no encoding declared"
    found = _by_language(body) or _detected(body)
    if found is None:
        warning = f"the text is not valid {declared or 'UTF-8'} ({said}) and its encoding could not be detected"
        return Decoded(body, None, warning=warning + ": some characters may be wrong")
    encoding, decoded = found
    text = decoded.encode("utf-8")
    if _DECLARATION.match(text):
        text = _DECLARATION.sub(rb"\1\2utf-8\2", text, count=1)
    elif not _XML_START.match(text):
        text = b'<?xml version="1.0" encoding="utf-8"?>\n' + text
    mime = (content_type or "application/xml").split(";")[0].strip() or "application/xml"
    return Decoded(text, f"{mime}; charset=utf-8", detected=encoding)


def _likeliest(matches: list[Any]) -> Any | None:
    """charset-normalizer's best guess, but the web's default among the equally clean ones."""
    if not matches:
        return None
    cleanest = min(match.chaos for match in matches)
    clean = [match for match in matches if match.chaos <= cleanest + EQUALLY_CLEAN]
    default = next((match for match in clean if match.encoding in WEB_DEFAULT), None)
    return default or max(clean, key=lambda match: match.coherence)


def _by_language(body: bytes) -> tuple[str, str] | None:
    """(encoding, text) in the first legacy encoding of the feed's language that reads it cleanly."""
    found = _LANGUAGE.search(body[:4096])
    language = (found.group(1) or found.group(2)).decode("ascii").lower() if found else ""
    readable = [encoding for encoding in LEGACY_ENCODINGS.get(language, ()) if readable_as(body, encoding)]
    if len(readable) > 1:  # single-byte code pages read any bytes: the one whose letters make sense
        from charset_normalizer import from_bytes

        best = _likeliest(list(from_bytes(body, cp_isolation=readable)))
        readable = [best.encoding] if best is not None else readable
    return (readable[0], body.decode(readable[0])) if readable else None


def _detected(body: bytes) -> tuple[str, str] | None:
    """(encoding, text) as charset-normalizer reads it, None when no encoding reads it cleanly."""
    from charset_normalizer import from_bytes  # only for the documents that need it

    best = _likeliest(list(from_bytes(body)))
    return (best.encoding, str(best)) if best is not None else None
