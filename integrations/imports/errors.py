"""Errors about a whole input file (row problems are ``RowError``s in the report, never raised)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.imports import messages

if TYPE_CHECKING:
    from integrations.imports.kinds import Requirement
    from integrations.imports.mapping import ColumnMapping


class ImportFileError(ValueError):
    """The file cannot be read as an import at all (format, encoding, JSON syntax, shape).

    ``str(error)`` is a sentence for the admin; nothing of it was validated or kept.
    """


class MappingIncomplete(ImportFileError):
    """A tabular file's columns leave required fields unmapped: show the mapping step.

    Carries what that step needs: the file's ``headers``, the ``suggested`` mapping (to pre-fill
    the form) and the ``missing`` requirements.
    """

    def __init__(
        self,
        *,
        headers: tuple[str, ...],
        suggested: ColumnMapping,
        missing: tuple[Requirement, ...],
    ) -> None:
        self.headers = headers
        self.suggested = suggested
        self.missing = missing
        super().__init__(messages.MAPPING_INCOMPLETE.format(missing=", ".join(r.label for r in missing)))
