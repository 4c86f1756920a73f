"""English numbers in words and in digits, so "ten meters" finds "10 meters" and back.

Whisper writes "Go forward 10 meters" where a writer has "ten", and "2024" where a speaker said
"twenty twenty-four". The index keeps text as written; a query's numbers are searched in every
spelling (`spellings`), after `merge_numbers` finds them among its words:

- "ten" -> "10", "twenty four" / "twenty-four" -> "24", "three hundred and five" -> "305",
  "two thousand twenty four" -> "2024", "one point five" is left alone (only whole numbers);
- a year said in pairs: "nineteen ninety" -> "1990", "twenty twenty-four" -> "2024";
- ordinals: "tenth" -> "10th", "twenty first" -> "21st"; digits with separators: "1,000" -> "1000";
- "one" alone stays a word ("one of them" is not a number to anyone searching), as does "a hundred".
"""

from __future__ import annotations

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
    "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90,
    "hundredth": 100, "thousandth": 1000,
}  # fmt: skip
NUMBER_WORDS = frozenset(UNITS) | frozenset(TENS) | frozenset(SCALES) | frozenset(ORDINALS)
_ALONE_AS_WORD = {"one", "second"}  # "one of", "a second": words first

Word = tuple[str, int, int]  # (folded word, start, end)


def ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _is_number_word(word: str) -> bool:
    return word in UNITS or word in TENS or word in SCALES or word in ORDINALS


def _small(words: list[str], at: int) -> tuple[int, int, bool] | None:
    """A number below 100 at `at`: (value, words used, is ordinal)."""
    word = words[at]
    if word in TENS:
        nxt = words[at + 1] if at + 1 < len(words) else ""
        if nxt in UNITS and 0 < UNITS[nxt] < 10:
            return TENS[word] + UNITS[nxt], 2, False
        if nxt in ORDINALS and ORDINALS[nxt] < 10:
            return TENS[word] + ORDINALS[nxt], 2, True
        return TENS[word], 1, False
    if word in UNITS:
        return UNITS[word], 1, False
    if word in ORDINALS and ORDINALS[word] < 100:
        return ORDINALS[word], 1, True
    return None


def _number(words: list[str], at: int) -> tuple[int, int, bool] | None:
    """The longest number starting at `at`: (value, words used, is ordinal)."""
    first = _small(words, at)
    if first is None:
        return None
    value, used, ordinal = first
    # a year said in pairs: nineteen ninety, twenty twenty-four, twenty ten
    if not ordinal and 10 <= value <= 99 and at + used < len(words):
        pair = _small(words, at + used)
        if pair is not None and 10 <= pair[0] <= 99 and not (value >= 20 and used == 1 and pair[0] < 10):
            return value * 100 + pair[0], used + pair[1], pair[2]
    total, current = 0, value
    i = at + used
    while i < len(words) and not ordinal:
        word = words[i]
        if word == "and" and i + 1 < len(words) and _small(words, i + 1) and current and current % 100 == 0:
            i += 1
            continue
        if word in SCALES or (word in ORDINALS and ORDINALS[word] >= 100):
            scale = SCALES.get(word) or ORDINALS[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
            ordinal = word in ORDINALS
            i += 1
            continue
        if current % 100 == 0 and (small := _small(words, i)) is not None and (total or current):
            current += small[0]
            ordinal = small[2]
            i += small[1]
            continue
        break
    return total + current, i - at, ordinal


def merge_numbers(words: list[Word]) -> list[Word]:
    """Runs of number words become one digit token spanning them; digits lose their separators."""
    out: list[Word] = []
    texts = [word for word, _s, _e in words]
    i = 0
    while i < len(words):
        word, start, end = words[i]
        if word[:1].isdigit():
            out.append((word.replace(",", ""), start, end))
            i += 1
            continue
        found = _number(texts, i) if _is_number_word(word) else None
        if found is None or (found[1] == 1 and word in _ALONE_AS_WORD):
            out.append(words[i])
            i += 1
            continue
        value, used, ordinal = found
        text = f"{value}{ordinal_suffix(value)}" if ordinal else str(value)
        out.append((text, start, words[i + used - 1][2]))
        i += used
    return out


_UNIT_NAMES = {value: name for name, value in UNITS.items()}
_TEN_NAMES = {value: name for name, value in TENS.items()}
_ORDINAL_NAMES = {value: name for name, value in ORDINALS.items()}


def _below_hundred(n: int, ordinal: bool = False) -> list[str]:
    if n < 20:
        return [_ORDINAL_NAMES[n] if ordinal else _UNIT_NAMES[n]]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return [_ORDINAL_NAMES[n] if ordinal else _TEN_NAMES[n]]
    return [_TEN_NAMES[tens * 10], _ORDINAL_NAMES[unit] if ordinal else _UNIT_NAMES[unit]]


def _cardinal(n: int, with_and: bool) -> list[str]:
    """An integer below a million in words: 305 -> three hundred (and) five."""
    words: list[str] = []
    thousands, rest = divmod(n, 1000)
    if thousands:
        words += [*_cardinal(thousands, with_and), "thousand"]
    hundreds, rest = divmod(rest, 100)
    if hundreds:
        words += [_UNIT_NAMES[hundreds], "hundred"]
    if rest:
        if with_and and words:
            words.append("and")
        words += _below_hundred(rest)
    return words or ["zero"]


def spellings(value: int, ordinal: bool = False) -> list[list[str]]:
    """The ways a number is written or said, as word sequences: 2024 -> [2024], [twenty twenty four],
    [two thousand twenty four], [two thousand and twenty four]; 21st -> [21st], [twenty first]."""
    if ordinal:
        forms = [[f"{value}{ordinal_suffix(value)}"]]
        if 0 < value < 100:
            forms.append(_below_hundred(value, ordinal=True))
        return forms
    forms = [[str(value)]]
    if value >= 1000 and not 1100 <= value <= 2099:
        forms.append(f"{value:,}".split(","))  # "1,000" is the words 1 and 000 to the index
    if value < 1_000_000:
        forms += [_cardinal(value, False), _cardinal(value, True)]
    if 1100 <= value <= 2099 and value % 100 >= 10:  # a year said in pairs
        forms.append(_below_hundred(value // 100) + _below_hundred(value % 100))
    unique: dict[tuple[str, ...], None] = {tuple(form): None for form in forms}
    return [list(form) for form in unique]


def number_at(words: list[str], at: int) -> tuple[int, int, bool] | None:
    """A number starting at words[at] (words, or digits): (value, words used, ordinal)."""
    word = words[at]
    if word.isdecimal() and len(word) <= 9:  # not isdigit(): "²" is a digit int() cannot read
        return int(word), 1, False
    suffix = word[-2:]
    if word[:-2].isdecimal() and suffix in ("st", "nd", "rd", "th") and len(word) <= 11:
        return int(word[:-2]), 1, True
    if not _is_number_word(word):
        return None
    found = _number(words, at)
    if found is None or (found[1] == 1 and word in _ALONE_AS_WORD):
        return None
    return found
