"""Reading the dates feeds really write: RFC 822 and ISO 8601, and the shapes found beside them.

What is read (`parse_date`), always to an aware UTC datetime:

- ISO 8601 / W3DTF (`2023-03-06T08:00:00+01:00`, `2023-03-06 08:00`, `20230306`, `2023-03`);
- numeric dates: year first with `/`, `-` or `.` (`2020/1/10 14:33:00`); day first when dotted
  (`06.03.2023`, the German and European convention: nobody writes month-first with dots); with `/` or
  `-` and the year last, only when the order cannot be mistaken: one of the first two numbers is over
  12 (`29/01/2021`, `01/29/2021`) or both are the same. `03/06/2023` could be 3 June or 6 March, so it
  is not read;
- month names, full or abbreviated (any unambiguous prefix of 3+ letters, accents optional), in
  English, Portuguese, Spanish, French, German, Italian and Dutch, day before month (`Seg, 24 Set
  2018`, `5 de marzo de 2023`, `6. März 2023`) or month before day (`Friday, January 29, 2021`); a
  leading weekday in any of those languages is skipped, not checked; two-digit years are 2000-2049
  and 1950-1999;
- times `08:00`, `08:00:00`, `8h00`, with `AM`/`PM` (`a.m.`), then a zone: `Z`, `+0100`, `+01:00`,
  `-03`, `GMT+1`, or a known abbreviation (RFC 822's `GMT`, `EST`...`PDT`, so `CST` is US Central;
  `IST` is India, +05:30; European and a few others, see `_ZONES`). No zone means UTC, and so does a
  zone name of 3-5 letters we do not know (RFC 2822 4.3 says to read those as -0000; feedparser
  does the same).

Anything else is not read: a date is either read for sure or left to the caller's fallback (the time
the item was first seen). Years before 1900 are placeholders (`0001-01-01`), never a publication date.

feedparser's own handlers run after ours (`feedparser_handler`, registered by feed_parser.py). Its
ISO 8601 handler matches only a prefix: `2020/1/10` is read as the year 2020 alone, with the *current*
month and day 1 (hence 2020-11-01 when synced in November). So a text starting with a digit that we
cannot read is answered with `UNREADABLE`, which stops feedparser's handlers and which `utc_iso`
turns into None.
"""

from __future__ import annotations

import calendar
import re
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

UTC = timezone.utc
FIRST_YEAR = 1900  # earlier dates are placeholders
# What feedparser_handler answers for a text it must not let feedparser guess at: a valid 9-tuple (so
# feedparser stops looking), in year 1 (so utc_iso reads it as no date).
UNREADABLE = time.struct_time((1, 1, 1, 0, 0, 0, 0, 1, 0))

_MONTH_NAMES = {
    1: "january janeiro enero janvier januar janner gennaio januari",
    2: "february fevereiro febrero fevrier februar febbraio februari",
    3: "march marco marzo mars marz maerz maart mrz mrt",
    4: "april abril avril aprile",
    5: "may maio mayo mai maggio mei",
    6: "june junho junio juin juni giugno",
    7: "july julho julio juillet juli luglio",
    8: "august agosto aout augustus",
    9: "september setembro septiembre setiembre septembre settembre",
    10: "october outubro octubre octobre oktober ottobre",
    11: "november novembro noviembre novembre",
    12: "december dezembro diciembre decembre dezember dicembre",
}
_WEEKDAY_NAMES = {
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "pt": "segunda terca quarta quinta sexta sabado domingo",
    "es": "lunes martes miercoles jueves viernes sabado domingo",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag",
    "it": "lunedi martedi mercoledi giovedi venerdi sabato domenica",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
}
_WEEKDAYS = [name for names in _WEEKDAY_NAMES.values() for name in names.split()]
# Words that sit between the parts of a date: "5 de marzo de 2023", "29th", "1er", "segunda-feira".
_FILLER = {
    "de",
    "del",
    "of",
    "the",
    "le",
    "den",
    "der",
    "st",
    "nd",
    "rd",
    "th",
    "er",
    "o",
    "a",
    "feira",
    "at",
    "um",
    "as",
}
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "west": 60, "bst": 60,
    "cet": 60, "cest": 120, "met": 60, "mest": 120, "mez": 60, "mesz": 120, "eet": 120, "eest": 180, "msk": 180,
    "ist": 330, "pkt": 300, "sgt": 480, "hkt": 480, "awst": 480, "jst": 540, "kst": 540,
    "acst": 570, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
    "akst": -540, "akdt": -480, "hst": -600, "ast": -240, "adt": -180, "nst": -210, "ndt": -150,
    "brt": -180, "brst": -120, "art": -180,
}  # fmt: skip
_TIME = re.compile(
    r"(?<![\d:])(?P<h>\d{1,2})[:h](?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\b\.?)?(?![\d:])"
)
_ZONE = re.compile(
    r"(?P<name>[a-z]{1,5})?\s*(?:(?P<sign>[+-])(?P<hh>\d{1,2})(?::?(?P<mm>\d{2}))?)?\s*(?P<after>[a-z]{1,5})?"
)
_NUMERIC = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})\.?")


def _fold(text: str) -> str:
    """Lower case without accents: `Mär` and `mar`, `Fév.` and `fev.` are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _prefix_table(names: dict[int, str]) -> dict[str, int]:
    """Every name and every prefix of 3+ letters of one, unless the prefix starts two different months."""
    table: dict[str, int] = {}
    clashes: set[str] = set()
    for number, words in names.items():
        for word in words.split():
            for end in range(3, len(word) + 1):
                prefix = word[:end]
                if table.get(prefix, number) != number:
                    clashes.add(prefix)
                table[prefix] = number
    return {prefix: number for prefix, number in table.items() if prefix not in clashes}


_MONTHS = _prefix_table(_MONTH_NAMES)


def _is_weekday(word: str) -> bool:
    return len(word) >= 2 and any(name.startswith(word) for name in _WEEKDAYS)


def parse_date(text: str) -> datetime | None:
    """The moment `text` names, as an aware UTC datetime; None unless it can be read for sure."""
    text = " ".join(text.split())
    if not text or len(text) > 80:
        return None
    found: datetime | None
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        found = _parse_loose(_fold(text))
    if found is None:
        return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    found = found.astimezone(UTC).replace(microsecond=0)  # stored to the second
    return found if FIRST_YEAR <= found.year <= 9998 else None


def _parse_loose(text: str) -> datetime | None:
    text = re.sub(r"\([^)]*\)", " ", text).replace(",", " ")  # "+0000 (UTC)", "Friday, January 29, 2021"
    text = " ".join(re.sub(r"(?<=\d)t(?=\d)", " ", text).split())
    clock = _TIME.search(text)
    if clock is None:
        day_part, hour, minute, second, offset = text, 0, 0, 0, 0
    else:
        day_part, rest = text[: clock.start()], text[clock.end() :].strip()
        year_after = re.match(r"(\d{4})\b\s*", rest)  # asctime: "Mon Mar  6 08:00:00 2023"
        if year_after:
            day_part, rest = f"{day_part} {year_after.group(1)}", rest[year_after.end() :]
        hour, minute, second = int(clock["h"]), int(clock["m"]), int(clock["s"] or 0)
        if clock["ampm"]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if clock["ampm"] == "p" else 0)
        zone = _zone_minutes(rest)
        if zone is None:
            return None
        offset = zone
    day = _day(day_part.strip())
    if day is None:
        return None
    try:
        naive = datetime(*day, hour, minute, second)
    except ValueError:
        return None
    return naive.replace(tzinfo=timezone(timedelta(minutes=offset)))


def _zone_minutes(text: str) -> int | None:
    """Minutes east of UTC for what follows the time: nothing (UTC), an offset, a known name or both."""
    found = _ZONE.fullmatch(text)
    if found is None:
        return None
    names = [name for name in (found["name"], found["after"]) if name]
    if any(name not in _ZONES and not 3 <= len(name) <= 5 for name in names):
        return None
    if found["sign"]:
        hours, minutes = int(found["hh"]), int(found["mm"] or 0)
        if hours > 14 or minutes > 59:
            return None
        return (hours * 60 + minutes) * (-1 if found["sign"] == "-" else 1)
    if found["after"]:
        return None  # "GMT EST": two names, no offset
    return _ZONES.get(names[0], 0) if names else 0  # unknown names: UTC, as RFC 2822 says


def _day(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of the date part, numeric or with a month name."""
    first, _space, rest = text.partition(" ")
    if rest[:1].isdigit() and _is_weekday(first.rstrip(".")):
        text = rest  # "Fri, 2006/09/15"
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        first, separator, middle, last = numeric.groups()
        return _numeric_day(first, separator, int(middle), last)
    if re.fullmatch(r"\d{4}-\d{2}", text):  # W3DTF year and month
        return int(text[:4]), int(text[5:]), 1
    words = [word for word in re.findall(r"[a-z]+|\d+", text) if word not in _FILLER]
    if len(words) == 4 and _is_weekday(words[0]):
        words = words[1:]
    if len(words) != 3:
        return None
    months = [i for i, word in enumerate(words) if word in _MONTHS]
    numbers = [word for word in words if word.isdecimal()]
    if len(months) != 1 or len(numbers) != 2:
        return None
    month = _MONTHS[words[months[0]]]
    if months[0] == 0:  # January 29 2021
        day, year = numbers
    elif months[0] == 1 and len(numbers[0]) == 4:  # 2023 mar 06
        year, day = numbers
    elif months[0] == 1:  # 24 set 2018
        day, year = numbers
    else:
        return None
    if len(day) > 2 or len(year) not in (2, 4):
        return None
    return _full_year(year), month, int(day)


def _numeric_day(first: str, separator: str, middle: int, last: str) -> tuple[int, int, int] | None:
    if len(first) == 4 and len(last) <= 2:
        return int(first), middle, int(last)  # year first: Y/M/D whatever the separator
    if len(last) != 4 or len(first) > 2:
        return None  # two-digit years are too ambiguous without a month name
    year, leading = int(last), int(first)
    if separator == ".":
        return year, middle, leading  # dotted: day first
    if leading == middle or (leading > 12 and middle <= 12):
        return year, middle, leading  # D/M/Y
    if middle > 12 and leading <= 12:
        return year, leading, middle  # M/D/Y
    return None


def _full_year(digits: str) -> int:
    year = int(digits)
    if len(digits) == 2:
        year += 2000 if year < 50 else 1900
    return year


def feedparser_handler(text: str) -> time.struct_time | None:
    """A date handler for `feedparser.registerDateHandler`: the UTC 9-tuple of what we can read.

    None for a text we cannot read and that starts with a letter (feedparser's own handlers may then
    try: Greek, Hungarian, Perforce...); `UNREADABLE` for one that starts with a digit, which
    feedparser's ISO 8601 handler would read from a prefix only.
    """
    if not isinstance(text, str):
        return None
    found = parse_date(text)
    if found is not None:
        return found.utctimetuple()
    return UNREADABLE if text.strip()[:1].isdigit() else None


def utc_iso(parsed: Any) -> str | None:
    """ISO 8601 (UTC) text of a UTC 9-tuple as feedparser stores it (`published_parsed`); None for no
    date, `UNREADABLE`, a placeholder before 1900 or a tuple that is not a date."""
    if not parsed:
        return None
    try:
        found = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    return found.isoformat() if found.year >= FIRST_YEAR else None
