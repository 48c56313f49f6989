"""Every text the input layer shows to people, as templates that tests import.

Row reasons are ``str.format`` templates; ``{field}`` is the field name as the user's file says
it (flat name for CSV/XLSX, request path such as ``userIdentifier.value`` for JSON) and values
are shown with ``!r`` so blanks and stray quotes are visible.
"""

from __future__ import annotations

# --- row errors -------------------------------------------------------------------------------
REQUIRED = "{field} is required"
REQUIRED_ONE_OF = "one of {fields} is required"
BOTH_GIVEN = "give either {first} or {second}, not both"
EMPTY = "{field} must not be empty"
NOT_A_STRING = "{field} must be a string (got {type})"
NOT_AN_OBJECT = "{field} must be an object (got {type})"
NOT_A_LIST = "{field} must be a list (got {type})"
NOT_A_NUMBER = "{field} must be a number (got {value!r})"
NOT_A_WHOLE_NUMBER = "{field} must be a whole number (got {value})"
OUT_OF_RANGE = "{field} must be between {minimum} and {maximum} (got {value})"
BELOW_MINIMUM = "{field} must be at least {minimum}{unit} (got {value})"
NOT_A_BOOLEAN = "{field} must be true or false (got {value!r})"
NOT_A_DATE = "{field} must be an ISO 8601 date-time such as 2025-07-08T22:00:00Z (got {value!r})"
DATE_OUT_OF_RANGE = "{field} must be between {earliest} and {latest} (got {value})"
DATES_REVERSED = "firstActivityAt ({first}) is after lastActivityAt ({last})"
NOT_AN_EMAIL = "{field} must be an e-mail address (got {value!r})"
NOT_AN_OBJECT_ID = "{field} must be a 360Learning id: 24 hexadecimal characters (got {value!r})"
NOT_A_URL = "{field} must be an http or https URL (got {value!r})"
NOT_A_CHOICE = "{field} must be one of {choices} (got {value!r})"
UNKNOWN_LANG = "{field} must be a language code 360Learning supports, such as en, fr or pt_BR (got {value!r})"
LOGO_WITHOUT_SOURCE = "sourceLogoUrl has {logos} value(s) but sourceName only {names}"
DUPLICATE_LANG = "{field}: language {value!r} appears twice"
NOT_A_RECORD = "record must be a JSON object (got {type})"
DUPLICATE_SAME_VALUES = "duplicate of {unit} {line}: same values"
DUPLICATE_SAME_KEY = "duplicate of {unit} {line}: same {key}"
#: ``{key}`` of ``DUPLICATE_SAME_KEY`` per kind.
DUPLICATE_KEYS = {
    "stats": "course, user and firstActivityAt",
    "courses": "externalId",
    "archive-courses": "externalId",
}
V1_MISSING = "{field} is required by v2; the v1 record has no {sources} and no default was given"

#: Field name used for errors about the whole row (duplicates).
ROW_FIELD = "(row)"

# --- notes (kept rows, changed or completed on the way) --------------------------------------
NOTE_UNKNOWN_FIELD = "{field} is not a field of this request; not sent"
NOTE_V1_PROGRESS_FROM_COMPLETED = "progress set to 100 because the v1 record has completedAt (v1 rule)"
NOTE_V1_PROGRESS_REPLACED = "progress {value} replaced by 100 because the v1 record has completedAt (v1 rule)"
NOTE_V1_DEFAULT = "{field} defaulted to {value} (the v1 record has no {sources})"
NOTE_V1_LAST_ACTIVITY_DROPPED = (
    "v1 lastActivity {value} not sent: at progress 100, lastActivityAt is the completion date"
)
NOTE_V1_DERIVED = "{field} derived from v1 {source} {value} (the v1 record has no {missing})"
NOTE_V1_IGNORED_FIELD = "v1 field {field} has no v2 equivalent; not sent"
NOTE_V1_DURATION_ROUNDED = "duration {value} minutes rounded to {rounded} (v2 takes whole minutes)"
NOTE_V1_TRANSLATIONS = "translations added for v1 alternativeLanguages {langs} (default-language texts are used)"
NOTE_V1_AUTHORS_DROPPED = "v1 authors {value} not sent: v2 has no course authors list"

# --- file-level notes -------------------------------------------------------------------------
FILE_NOTE_V1 = "v1 {payload} payload converted to the v2 request shape"
FILE_NOTE_V1_TOP_LEVEL = "{field} of the v1 payload is not sent: v2 takes it from the integration configuration"
FILE_NOTE_EMPTY_ROWS = "{count} empty {unit}(s) skipped"
FILE_NOTE_DUPLICATE_HEADER = "column {column!r} appears more than once; only the first one is read"
FILE_NOTE_EXTRA_KEYS = "top-level key(s) {keys} ignored"

# --- whole-file errors (``ImportFileError`` messages) -----------------------------------------
FILE_EMPTY = "the file is empty"
FILE_NO_HEADER = "the file has no header row"
FILE_NOT_UTF8 = "the file is not UTF-8 text (first undecodable byte near line {line}); save it as CSV UTF-8"
FILE_BINARY = "the file is not a CSV, JSON or XLSX file"
FILE_LEGACY_XLS = "legacy .xls workbooks are not supported; save the file as .xlsx"
FILE_BAD_XLSX = "the file is not a readable .xlsx workbook ({detail})"
FILE_CSV_ERROR = "the CSV file cannot be read at line {line}: {detail}"
FILE_BAD_JSON = "the file is not valid JSON at line {line}, column {column}: {detail}"
FILE_JSON_SHAPE = (
    'a JSON import must be an array of records, an object {{"input": [...]}}, or a v1 payload '
    '{{"statistics": [...]}} / {{"externalCourses": [...]}}'
)
FILE_JSON_RECORD_TOO_LARGE = "record {record} is larger than {limit} characters"
FILE_WRONG_KIND = "this file is a v1 {payload} payload; it cannot be imported as {kind}"
FILE_BAD_ENCODING = (
    "the file is not valid {encoding} text (first undecodable character near line {line}); save it as CSV UTF-8"
)
FILE_NO_BOM = (
    "the file looks like {encoding} text without a byte order mark, which cannot be read reliably; in Excel, use "
    'File > Save As and choose "CSV UTF-8 (Comma delimited) (*.csv)"'
)
FILE_OTHER_FORMAT = "the file is {what}, not a CSV, XLSX or JSON file"
FILE_PLAIN_TEXT = (
    "the file is plain text, not a CSV, XLSX or JSON file: its first line has no column separator "
    "(comma, semicolon or tab)"
)
#: ``{what}`` of ``FILE_OTHER_FORMAT``, by the format the file's first bytes show.
OTHER_FORMATS = {
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "webp": "a WebP image",
    "pdf": "a PDF document",
    "rtf": "an RTF document",
    "gzip": "a gzip archive",
    "7z": "a 7-Zip archive",
    "rar": "a RAR archive",
}
FILE_JSON_TOO_DEEP = (
    "the JSON file nests arrays or objects too deeply at line {line}, column {column}; an import record is an "
    "object only a few levels deep"
)
FILE_OUT_OF_MEMORY = "reading the file needs more memory than the server has; split it into smaller files"
FILE_XLSX_TOO_LARGE = (
    "the workbook unpacks to {size}; at most {limit} is read: delete unused sheets, pictures or formatting, or save "
    "the sheet as CSV UTF-8"
)
FILE_XLSX_BOMB = (
    "the workbook part {member} unpacks from {compressed} to {size} ({ratio}:1); spreadsheets do not compress that "
    "much, so the file is refused as a possible zip bomb: save the sheet again from your spreadsheet program, or "
    "as CSV UTF-8"
)
FILE_XLSX_TOO_MANY_STRINGS = (
    "the workbook's table of texts ({member}) unpacks to {size}; at most {limit} is read: split the file, or save "
    "the sheet as CSV UTF-8"
)
FILE_XLSX_TOO_MANY_COLUMNS = (
    "the sheet has data in column {column} (cell {cell}); at most {limit} columns are read: delete the unused columns"
)
FILE_XLSX_TOO_MANY_ROWS = (
    "the sheet has data in row {row}; at most {limit} rows are read: delete the unused rows or split the file"
)
#: ``{detail}`` of ``FILE_BAD_XLSX`` for a damaged or crafted workbook.
XLSX_DAMAGED_ZIP = "it is damaged or incomplete: its ZIP archive cannot be unpacked"
XLSX_BAD_XML = "one of its parts is not well-formed XML"
XLSX_UNREADABLE = "it holds content that is damaged or that no spreadsheet program writes"
MAPPING_INCOMPLETE = "map a column to {missing} before validating"
MAPPING_UNKNOWN_FIELD = "{field!r} is not a field of the {kind} import"
MAPPING_FIELD_TWICE = "{field!r} is mapped from both {first!r} and {second!r}"
FILE_TOO_LARGE = (
    "the file is {size}; files up to {limit} are accepted: split it into several files, or ask your administrator "
    "to raise IMPORT_MAX_UPLOAD_MB"
)
