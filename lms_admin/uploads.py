"""Uploads: a file over ``IMPORT_MAX_UPLOAD_BYTES`` is refused while it arrives.

Django writes an upload to a temporary file before any view runs; without this handler a
10 GB upload would fill the disk first and be refused afterwards. The handler counts each
file's bytes and skips the file past the limit (its bytes are read off the socket and
dropped). It notes the field on the request so the form can say why the file is missing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

#: ``request.<this>``: the names of the file fields skipped for their size.
OVERSIZED_FIELDS = "oversized_upload_fields"


class SizeLimitedUploadHandler(FileUploadHandler):
    def new_file(self, field_name, *args, **kwargs) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > settings.IMPORT_MAX_UPLOAD_BYTES:
            if self.request is not None:
                oversized = getattr(self.request, OVERSIZED_FIELDS, set())
                oversized.add(self.field_name)
                setattr(self.request, OVERSIZED_FIELDS, oversized)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file


def oversized_fields(request) -> set[str]:
    """The file fields of ``request`` that were skipped for being over the limit."""
    return getattr(request, OVERSIZED_FIELDS, set())
