"""Column mapping of tabular files: which file column feeds which flat field.

Headers are matched to fields after normalisation (case, spaces, ``_``, ``-``, ``.`` and other
punctuation ignored), first to the field's own name, then to its aliases (``kinds.FIELDS``).
Course translations are recognised from headers ``<field><sep><lang>`` (``name_fr``,
``Description (pt-BR)``, ``subjects.de``) and map to ``translations.<lang>.<field>``.

A ``ColumnMapping`` serialises to a JSON object ``{column: field}`` so the caller can remember
it per integration and pass it back to ``suggest_mapping(..., remembered=...)`` for the next file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping as MappingABC
from dataclasses import dataclass

from integrations.imports import messages
from integrations.imports.kinds import (
    FIELDS,
    LANGS,
    REQUIREMENTS,
    TRANSLATED_FIELDS,
    Kind,
    Requirement,
    as_kind,
    is_field,
    translation_field,
)

_NOT_ALNUM = re.compile(r"[\W_]+")


def normalise_header(header: str) -> str:
    """The comparison key of a header: casefolded letters and digits only (``E-mail`` → ``email``)."""
    return _NOT_ALNUM.sub("", header.casefold())


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """File column → flat field, in the file's column order.

    Invariants (checked by ``from_json`` and ``suggest_mapping``): each field comes from at most
    one column; fields are valid for the kind the mapping was made for.
    """

    pairs: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, str]:
        """``{column: field}``, JSON-serialisable."""
        return dict(self.pairs)

    @classmethod
    def from_json(cls, data: MappingABC[str, str | None], *, kind: Kind | str) -> ColumnMapping:
        """A mapping from ``{column: field}``; ``None``/empty fields mean "not imported".

        Raises ``ValueError`` for a field unknown to ``kind`` or a field mapped twice.
        """
        kind = as_kind(kind)
        pairs: list[tuple[str, str]] = []
        seen: dict[str, str] = {}
        for column, field in data.items():
            if not field:
                continue
            if not is_field(kind, field):
                raise ValueError(messages.MAPPING_UNKNOWN_FIELD.format(field=field, kind=kind.value))
            if field in seen:
                raise ValueError(messages.MAPPING_FIELD_TWICE.format(field=field, first=seen[field], second=column))
            seen[field] = column
            pairs.append((str(column), field))
        return cls(tuple(pairs))

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(field for _, field in self.pairs)

    def field_of(self, column: str) -> str | None:
        return next((f for c, f in self.pairs if c == column), None)

    def column_of(self, field: str) -> str | None:
        return next((c for c, f in self.pairs if f == field), None)

    def restricted_to(self, headers: Iterable[str]) -> ColumnMapping:
        """The pairs whose column is among ``headers`` (a remembered mapping on a new file)."""
        present = set(headers)
        return ColumnMapping(tuple(p for p in self.pairs if p[0] in present))


#: The brief's name for the type; ``ColumnMapping`` avoids shadowing ``typing.Mapping``.
Mapping = ColumnMapping


def _alias_table(kind: Kind) -> dict[str, tuple[int, str]]:
    # normalised spelling -> (rank, field): rank 0 is a field's own name, then alias order.
    table: dict[str, tuple[int, str]] = {}
    for spec in FIELDS[kind]:
        for rank, spelling in enumerate((spec.name, *spec.aliases)):
            key = normalise_header(spelling)
            if key not in table or rank < table[key][0]:
                table[key] = (rank, spec.name)
    return table


_ALIASES = {kind: _alias_table(kind) for kind in Kind}
_TRANSLATABLE = {normalise_header(f): f for f in TRANSLATED_FIELDS} | {"title": "name", "url": "launchUrl"}
_LANG_KEYS = {normalise_header(code): code for code in LANGS}
# Longest language keys first so "name_en_GB" is en_GB, not "nameen" + "gb".
_LANG_KEYS_BY_LENGTH = sorted(_LANG_KEYS, key=len, reverse=True)


def _translation(key: str) -> str | None:
    for lang_key in _LANG_KEYS_BY_LENGTH:
        if key.endswith(lang_key) and len(key) > len(lang_key):
            base = _TRANSLATABLE.get(key[: -len(lang_key)])
            if base:
                return translation_field(_LANG_KEYS[lang_key], base)
    return None


def suggest_mapping(
    headers: Iterable[str], kind: Kind | str, *, remembered: ColumnMapping | None = None
) -> ColumnMapping:
    """The best guess of which column feeds which field.

    ``remembered`` (a mapping the admin confirmed before) wins for the columns this file still
    has; the other columns are matched by name and alias. Each field gets one column at most:
    when several headers match a field, its own name beats an alias and an earlier alias beats a
    later one, then the leftmost column wins. Unmatched columns are left out (not imported).
    """
    kind = as_kind(kind)
    headers = tuple(headers)
    chosen: dict[str, str] = {}  # column -> field
    taken: set[str] = set()
    if remembered is not None:
        for column, field in remembered.restricted_to(headers).pairs:
            if is_field(kind, field) and field not in taken and column not in chosen:
                chosen[column] = field
                taken.add(field)
    candidates: list[tuple[int, int, str, str]] = []  # (rank, position, field, column)
    aliases = _ALIASES[kind]
    for position, column in enumerate(headers):
        if column in chosen or not column.strip():
            continue
        key = normalise_header(column)
        if key in aliases:
            rank, field = aliases[key]
            candidates.append((rank, position, field, column))
        elif kind is Kind.COURSES and (field := _translation(key)):
            candidates.append((0, position, field, column))
    for _, _, field, column in sorted(candidates):
        if field not in taken and column not in chosen:
            chosen[column] = field
            taken.add(field)
    return ColumnMapping(tuple((c, chosen[c]) for c in dict.fromkeys(headers) if c in chosen))


def missing_required(mapping: ColumnMapping, kind: Kind | str) -> tuple[Requirement, ...]:
    """The requirements of ``kind`` that no mapped column satisfies (empty: ready to validate)."""
    fields = mapping.fields
    return tuple(r for r in REQUIREMENTS[as_kind(kind)] if not fields.intersection(r.fields))
