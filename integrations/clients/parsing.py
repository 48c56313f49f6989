"""Reading remote JSON into typed values at the edge, failing closed.

``Fields`` wraps one decoded JSON object and hands out typed values; anything missing,
mistyped or outside an enum raises ``BadResponse`` naming the operation and the field
(never the value: bodies may hold personal data). Unknown extra fields are ignored,
since the vendor schemas do not forbid additional properties.

``None`` (JSON ``null``) counts as absent for optional fields: 360Learning v1 documents
``null`` scores and completion dates, and v2 omits them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from integrations.clients.errors import BadResponse

OBJECT_ID_RE = re.compile(r"^[a-fA-F0-9]{24}$")


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 date-time; naive values are taken as UTC (both vendors document UTC).

    Raises ``ValueError`` when ``value`` is not ISO 8601.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.sssZ`` in UTC, the format 360Learning documents for filters and input.

    Raises ``ValueError`` for naive datetimes: guessing a time zone would shift filters silently.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def check_object_id(value: str, name: str) -> str:
    """Return ``value`` when it is a 24-hex-digit ObjectId; raise ``ValueError`` otherwise.

    Ids go into URL paths: checking them keeps ``../`` and ``?`` out of request paths.
    """
    if not isinstance(value, str) or not OBJECT_ID_RE.match(value):
        raise ValueError(f"{name} must be a 24-hex-digit id")
    return value


class Fields:
    """Typed access to one JSON object; ``where`` names it in error messages."""

    __slots__ = ("data", "where")

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise BadResponse(f"{where}: expected a JSON object, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def _fail(self, key: str, expected: str) -> BadResponse:
        return BadResponse(f"{self.where}: field {key!r} must be {expected}")

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise BadResponse(f"{self.where}: required field {key!r} is missing")
        return value

    # Strings -----------------------------------------------------------------------------
    def string(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_string(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.string(key)

    def object_id(self, key: str) -> str:
        value = self.string(key)
        if not OBJECT_ID_RE.match(value):
            raise self._fail(key, "a 24-hex-digit id")
        return value

    def opt_object_id(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.object_id(key)

    def enum(self, key: str, allowed: Collection[str]) -> str:
        value = self.string(key)
        if value not in allowed:
            raise self._fail(key, "one of " + ", ".join(sorted(allowed)))
        return value

    def opt_enum(self, key: str, allowed: Collection[str]) -> str | None:
        return None if self.data.get(key) is None else self.enum(key, allowed)

    # Numbers -----------------------------------------------------------------------------
    def integer(self, key: str) -> int:
        value = self._get(key, True)
        # bool is an int subclass in Python; JSON true is not a number.
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self._fail(key, "an integer")
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def number(self, key: str) -> float:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return None if self.data.get(key) is None else self.number(key)

    # Booleans ----------------------------------------------------------------------------
    def boolean(self, key: str) -> bool:
        value = self._get(key, True)
        if not isinstance(value, bool):
            raise self._fail(key, "a boolean")
        return value

    def opt_boolean(self, key: str) -> bool | None:
        return None if self.data.get(key) is None else self.boolean(key)

    # Dates -------------------------------------------------------------------------------
    def date_time(self, key: str) -> datetime:
        value = self.string(key)
        try:
            return parse_datetime(value)
        except ValueError:
            raise self._fail(key, "an ISO 8601 date-time") from None

    def opt_date_time(self, key: str) -> datetime | None:
        return None if self.data.get(key) is None else self.date_time(key)

    def date_time_list(self, key: str) -> tuple[datetime, ...]:
        items = self.array(key, required=False)
        try:
            if not all(isinstance(item, str) for item in items):
                raise ValueError(key)
            return tuple(parse_datetime(item) for item in items)
        except ValueError:
            raise self._fail(key, "a list of ISO 8601 date-times") from None

    # Containers --------------------------------------------------------------------------
    def array(self, key: str, *, required: bool = True) -> list[Any]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def strings(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        items = self.array(key, required=required)
        if not all(isinstance(item, str) for item in items):
            raise self._fail(key, "a list of strings")
        return tuple(items)

    def obj(self, key: str) -> Fields:
        return Fields(self._get(key, True), f"{self.where}.{key}")

    def opt_obj(self, key: str) -> Fields | None:
        return None if self.data.get(key) is None else self.obj(key)

    def objects(self, key: str, *, required: bool = True) -> Iterator[Fields]:
        for index, item in enumerate(self.array(key, required=required)):
            yield Fields(item, f"{self.where}.{key}[{index}]")

    def int_mapping(self, key: str) -> dict[str, int]:
        """An object whose values are all non-negative integers (status counts)."""
        counts = self.obj(key)
        result: dict[str, int] = {}
        for name in counts.data:
            value = counts.integer(name)
            if value < 0:
                raise counts._fail(name, "a non-negative integer")
            result[name] = value
        return result


def json_list(data: Any, where: str) -> list[Any]:
    """The decoded body of a listing page; raise ``BadResponse`` unless it is a JSON array."""
    if not isinstance(data, list):
        raise BadResponse(f"{where}: expected a JSON array, got {type(data).__name__}")
    return data


def frozen_mapping(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view for opaque remote echoes kept on records (bulk result inputs)."""
    return MappingProxyType(dict(data))
