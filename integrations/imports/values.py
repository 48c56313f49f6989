"""Checks and conversions of single values, compiled once at import time.

Each function takes the field name (for the reason text) and a value, and returns the value in
the exact type and form the request sends, or raises ``Invalid`` with a reason from
``messages``. Two families:

- ``*_cell`` functions read spreadsheet cells: strings (CSV) or openpyxl values (XLSX: int,
  float, bool, datetime, timedelta); numbers may be written ``50``, ``50.0``, ``50,5`` or
  ``50%``.
- ``*_json`` functions read decoded JSON and enforce JSON types as the schema does
  (``"50"`` is not a number, ``1`` is not a boolean).

Dates (both families): ISO 8601 extended format, ``YYYY-MM-DD[Thh[:mm[:ss[.fff]]]][Z|±hh[:mm]]``
(``T`` or a space between date and time). **A date-time without an offset is read as UTC**, and
so are XLSX date cells (Excel stores no zone); a bare date is midnight UTC. The sent form is
always UTC with milliseconds, ``2025-07-08T22:00:00.000Z``, as the document's examples.
Dates must fall between 1970-01-01 and 2100-01-01 (a typed year such as ``0225`` is a mistake,
not a learning record).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from integrations.imports import messages
from integrations.imports.kinds import LANGS


class Invalid(Exception):
    """A value breaks its field's rule; ``reason`` says how (a ``messages`` template, filled)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def type_name(value: object) -> str:
    """The JSON name of a decoded value's type, for reasons."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _plain(number: float) -> int | float:
    # 50.0 is sent as 50: integral values stay integers in the payload.
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _shown(number: float) -> str:
    return str(_plain(number))


# --- text ---------------------------------------------------------------------------------
def text_cell(field: str, value: Any) -> str:
    """A cell as stripped text (XLSX numbers without a spurious ``.0``); never empty."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = str(_plain(value))
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value).strip()
    if not text:
        raise Invalid(messages.EMPTY.format(field=field))
    return text


def text_json(field: str, value: Any) -> str:
    """A JSON string, stripped; never empty (the schema's ``minLength: 1``)."""
    if not isinstance(value, str):
        raise Invalid(messages.NOT_A_STRING.format(field=field, type=type_name(value)))
    text = value.strip()
    if not text:
        raise Invalid(messages.EMPTY.format(field=field))
    return text


# --- numbers --------------------------------------------------------------------------------
def _number_text(field: str, text: str) -> float:
    # Slow path: "50%", decimal comma ("50,5"). A comma followed by exactly three digits
    # ("3,600") could be a thousands separator: refused rather than guessed.
    raw = text
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if text.endswith("%"):
        text = text[:-1]
    if "," in text and "." not in text:
        head, _, tail = text.partition(",")
        if "," in tail or len(tail) == 3:
            raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=raw))
        text = f"{head}.{tail}"
    try:
        return float(text)
    except ValueError:
        raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=raw)) from None


def number_cell(field: str, value: Any) -> float:
    """A cell as a finite number. Raises ``Invalid``."""
    if type(value) is str:
        # Most cells are whole numbers: int() is exact and skips the float round trip.
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            number = _number_text(field, value)
    elif isinstance(value, bool):
        raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=value))
    elif isinstance(value, int | float):
        number = value
    elif isinstance(value, timedelta):  # an XLSX duration cell: milliseconds
        number = value.total_seconds() * 1000
    elif isinstance(value, time):
        number = ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond / 1000
    else:
        raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=value))
    if not math.isfinite(number):
        raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=value))
    return number


def number_json(field: str, value: Any) -> float:
    """A JSON number (not a boolean, not a numeric string). Raises ``Invalid``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=value))
    if not math.isfinite(value):
        raise Invalid(messages.NOT_A_NUMBER.format(field=field, value=value))
    return value


def in_range(field: str, number: float, minimum: float, maximum: float, *, whole: bool = False) -> int | float:
    """``number`` when ``minimum <= number <= maximum`` (and integral if ``whole``)."""
    if not minimum <= number <= maximum:
        raise Invalid(messages.OUT_OF_RANGE.format(field=field, minimum=minimum, maximum=maximum, value=_shown(number)))
    if type(number) is int:
        return number
    if whole and not float(number).is_integer():
        raise Invalid(messages.NOT_A_WHOLE_NUMBER.format(field=field, value=_shown(number)))
    return _plain(number)


def at_least(field: str, number: float, minimum: float, unit: str = "") -> int | float:
    """``number`` when ``number >= minimum``."""
    if number < minimum:
        raise Invalid(messages.BELOW_MINIMUM.format(field=field, minimum=minimum, unit=unit, value=_shown(number)))
    return number if type(number) is int else _plain(number)


# --- booleans -------------------------------------------------------------------------------
_TRUE = frozenset({"true", "t", "yes", "y", "1", "oui", "vrai"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "non", "faux"})


def boolean_cell(field: str, value: Any) -> bool:
    """A cell as a boolean: true/false, yes/no, 1/0 (any case), or an XLSX boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().casefold()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    raise Invalid(messages.NOT_A_BOOLEAN.format(field=field, value=value))


def boolean_json(field: str, value: Any) -> bool:
    """A JSON boolean."""
    if isinstance(value, bool):
        return value
    raise Invalid(messages.NOT_A_BOOLEAN.format(field=field, value=value))


# --- dates ----------------------------------------------------------------------------------
_DATE_SEPARATORS = frozenset("Tt ")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _canonical(moment: datetime) -> str:
    # %-formatting measured faster than strftime, f-strings and isoformat(timespec=...).
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )


def _in_bounds(field: str, moment: datetime, shown: object) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise Invalid(
            messages.DATE_OUT_OF_RANGE.format(field=field, earliest="1970-01-01", latest="2100-01-01", value=shown)
        )
    return moment


def datetime_value(field: str, value: Any) -> tuple[datetime, str]:
    """``(aware UTC datetime, "YYYY-MM-DDThh:mm:ss.sssZ")`` for an ISO 8601 string, or for an
    XLSX ``datetime``/``date`` cell (read as UTC). Raises ``Invalid``."""
    if isinstance(value, str):
        text = value.strip()
        # Fast path: already in the sent form; parsing still checks the calendar (no 2025-02-30).
        if len(text) == 24 and text[23] == "Z" and text[10] == "T" and text[19] == ".":
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise Invalid(messages.NOT_A_DATE.format(field=field, value=value)) from None
            return _in_bounds(field, moment, text), text
        # The extended calendar form "YYYY-MM-DD" must open the text, then nothing or a time
        # after T/t/space; fromisoformat (C: digits, ranges, offsets) checks the rest. This
        # refuses what fromisoformat alone would accept but people do not mean: week dates
        # ("2025-W28-2"), basic format ("20250708"), any character as separator.
        size = len(text)
        if size < 10 or text[4] != "-" or text[7] != "-" or (size > 10 and text[10] not in _DATE_SEPARATORS):
            raise Invalid(messages.NOT_A_DATE.format(field=field, value=value))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:  # lower-case "t"/"z" are valid ISO 8601 but not for fromisoformat
                moment = datetime.fromisoformat(text.upper())
            except ValueError:
                raise Invalid(messages.NOT_A_DATE.format(field=field, value=value)) from None
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        raise Invalid(messages.NOT_A_DATE.format(field=field, value=value))
    # Naive means UTC (documented above); aware values are converted.
    tzinfo = moment.tzinfo
    if tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    _in_bounds(field, moment, value)
    return moment, _canonical(moment)


def canonical_datetime(value: datetime | str) -> str:
    """The sent form of a datetime or ISO string (naive read as UTC); raises ``ValueError``."""
    try:
        return datetime_value("date", value)[1]
    except Invalid as error:
        raise ValueError(error.reason) from None


# --- identifiers, URLs, enums ----------------------------------------------------------------
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
# Pragmatic address check: one @, no spaces or quotes, dotted domain of letters/digits/hyphens
# (Unicode letters allowed: internationalised domains are valid addresses).
_EMAIL = re.compile(r"[^\s@\"(),:;<>\[\\\]]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+")
_URL = re.compile(r"(?i)https?://[^\s/?#@]+(?:[/?#]\S*)?")
EMAIL_MAX_LENGTH = 254


def object_id(field: str, value: str) -> str:
    """A 24-hex-digit 360Learning id."""
    if not _OBJECT_ID.fullmatch(value):
        raise Invalid(messages.NOT_AN_OBJECT_ID.format(field=field, value=value))
    return value


def email(field: str, value: str) -> str:
    """An e-mail address (kept as written)."""
    if len(value) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(value):
        raise Invalid(messages.NOT_AN_EMAIL.format(field=field, value=value))
    return value


def url(field: str, value: str) -> str:
    """An absolute http(s) URL with a host and no whitespace."""
    if not _URL.fullmatch(value):
        raise Invalid(messages.NOT_A_URL.format(field=field, value=value))
    return value


def _key(value: str) -> str:
    return value.strip().casefold().replace("-", "_")


_LANG_BY_KEY = {_key(code): code for code in LANGS}


def lang(field: str, value: str) -> str:
    """A language code of the schema's enum; case and ``-``/``_`` are forgiven (``pt-br`` → ``pt_BR``)."""
    code = _LANG_BY_KEY.get(_key(value))
    if code is None:
        raise Invalid(messages.UNKNOWN_LANG.format(field=field, value=value))
    return code


def choices(values: tuple[str, ...]) -> dict[str, str]:
    """A case-insensitive lookup table for ``choice``."""
    return {_key(v): v for v in values}


def choice(field: str, value: str, table: dict[str, str]) -> str:
    """The enum member ``value`` names (any case), from a ``choices`` table."""
    member = table.get(_key(value))
    if member is None:
        raise Invalid(messages.NOT_A_CHOICE.format(field=field, choices=", ".join(table.values()), value=value))
    return member
