"""Language codes: one normaliser for what feeds write (`en-US`, `EN_gb`, `de`) and what Whisper takes."""

from __future__ import annotations


def language_code(value: str | None) -> str | None:
    """'en-US' or 'EN_gb' from a feed's <language> to Whisper's 'en'."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) in (2, 3) and code.isalpha() else None
