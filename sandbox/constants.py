"""Names, credentials, limits and messages of the sandbox LMS, in one place tests can import."""

from __future__ import annotations

import json
from pathlib import Path

# --- the demo tenant ----------------------------------------------------------------------------
# Not secrets: the sandbox is a fake remote server that only runs for the demo and the tests.
DEFAULT_TENANT_NAME = "Sandbox Learning Company"
DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_COMPANY_ID = "sandbox-company"  # API v1 `company`
DEFAULT_API_KEY = "sandbox-api-key"  # API v1 `apiKey`
DEFAULT_ISPRING_CLIENT_ID = "sandbox-ispring-client"
DEFAULT_ISPRING_CLIENT_SECRET = "sandbox-ispring-secret"

# --- where it is mounted (lms_admin/urls.py mounts sandbox.urls under /sandbox/) ----------------
URL_PREFIX = "/sandbox"
URL_PREFIX_360 = "/sandbox/360"  # a 360Learning connection's base URL is http://host:port/sandbox/360
URL_PREFIX_ISPRING = "/sandbox/ispring"  # an iSpring connection's base URL is http://host:port/sandbox/ispring

API_360 = "360learning"
API_ISPRING = "ispring"

# --- 360Learning API v2 -------------------------------------------------------------------------
API_VERSION = "v2.0"
API_VERSION_HEADER = "360-api-version"
TOKEN_TTL_SECONDS = 3600  # "authorizes access … for 1 hour" (POST /api/v2/oauth2/token)
BULK_CONCURRENCY_LIMIT = 2  # bulk operations not yet finished, per integration
BULK_BATCH_SIZE = 1000  # records applied per step of a running bulk operation
RETRY_AFTER_SECONDS = 1

BULK_PENDING = "pending"
BULK_QUEUED = "queued"
BULK_RUNNING = "running"
BULK_COMPLETED = "completed"
BULK_ERROR = "error"
BULK_UNFINISHED = (BULK_PENDING, BULK_QUEUED, BULK_RUNNING)
BULK_FINISHED = (BULK_COMPLETED, BULK_ERROR)

OP_IMPORT_COURSES = "importExternalCourses"
OP_ARCHIVE_COURSES = "archiveExternalCourses"
OP_IMPORT_STATISTICS = "importExternalStatistics"

RESULT_SUCCESS = "success"
RESULT_ERROR = "error"

# Detailed path statuses (SessionUserStatDTO.status.type) and their optional reasons.
STATUS_AWAITING_CORRECTION = "awaitingCorrection"
STATUS_LATE = "late"
STATUS_NOT_YET_STARTED = "notYetStarted"
STATUS_ON_TIME = "onTime"
STATUS_SESSION_NOT_OPENED = "sessionNotOpened"
STATUS_SUCCESSFUL = "successful"
STATUS_TO_RETAKE = "toRetake"
STATUS_UNSUCCESSFUL = "unsuccessful"
DETAILED_STATUSES = (
    STATUS_AWAITING_CORRECTION,
    STATUS_LATE,
    STATUS_NOT_YET_STARTED,
    STATUS_ON_TIME,
    STATUS_SESSION_NOT_OPENED,
    STATUS_SUCCESSFUL,
    STATUS_TO_RETAKE,
    STATUS_UNSUCCESSFUL,
)
REASON_MANDATORY_REPLAY = "mandatoryReplay"  # only with toRetake
REASON_SESSION_ENDED = "sessionEnded"  # only with unsuccessful
STATUS_REASONS = {STATUS_TO_RETAKE: REASON_MANDATORY_REPLAY, STATUS_UNSUCCESSFUL: REASON_SESSION_ENDED}

# Error codes the documents define ({"error": {"code", "message"}}) and the bare OAuth ones.
ERROR_INVALID_TOKEN = "invalid_token"
ERROR_INVALID_CLIENT = "invalid_client"
ERROR_INVALID_REQUEST = "invalid_request"
ERROR_UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
ERROR_NON_EXISTING_USER = "non_existing_user"
ERROR_INVALID_SCOPE = "invalid_scope"
ERROR_TOO_MANY_REQUESTS = "tooManyRequests"
ERROR_INVALID_INPUT = "invalidInput"
ERROR_INPUT_TOO_LONG = "inputTooLong"
ERROR_CONCURRENCY_LIMIT = "bulkOperationsConcurrencyLimitReached"
ERROR_BULK_API_DISABLED = "bulkAPIDisabled"
ERROR_BULK_OPERATION_NOT_FOUND = "bulkOperationNotFound"
ERROR_BULK_OPERATION_NOT_RUN = "bulkOperationNotRun"
ERROR_INTEGRATION_NOT_FOUND = "integrationNotFound"
ERROR_DUPLICATE_EXTERNAL_PLATFORM = "duplicateExternalPlatform"
ERROR_RESERVED_PLATFORM_NAME = "reservedPlatformName"
ERROR_GROUP_NOT_FOUND = "groupNotFound"
ERROR_USER_NOT_FOUND = "userNotFound"
ERROR_PATH_NOT_FOUND = "pathNotFound"
ERROR_SESSION_NOT_FOUND = "sessionNotFound"
ERROR_SESSION_NOT_BELONG_TO_PATH = "sessionNotBelongToPath"
# The documents are silent on these two; the sandbox answers 400 in the documents' usual shape.
ERROR_INVALID_API_VERSION = "invalidApiVersion"
ERROR_INVALID_QUERY = "invalidQuery"

# 360Learning reserves its own platform names for native content.
RESERVED_PLATFORM_NAMES = ("360learning", "360Learning")

# Per-record messages of bulk operation results.
MSG_USER_NOT_FOUND = "No user matches userIdentifier {type} {value!r}."
MSG_USER_DELETED = "The user matching userIdentifier {type} {value!r} is deleted."
MSG_COURSE_NOT_FOUND = "No course matches courseIdentifier {type} {value!r} in this integration."
MSG_ACTIVITY_ORDER = "lastActivityAt is earlier than firstActivityAt."
MSG_COMPLETED_ATTEMPT = (
    "Every attempt of this user on this course is completed and one ends after firstActivityAt; "
    "set forceNew to true to record a new attempt."
)
MSG_AUTHOR_NOT_FOUND = "authorId {value!r} does not match any user."
MSG_ARCHIVE_NOT_FOUND = "No external course with externalId {value!r} in this integration."
MSG_OPERATION_FAILED = "The bulk operation stopped at element {index}: internal error while processing it."
MSG_INTEGRATION_GONE = "The integration of this bulk operation was deleted while it ran."

# --- 360Learning API v1 (path session stats) ----------------------------------------------------
V1_SESSION_NOT_FOUND = "session_not_found"
V1_UNAUTHORIZED = "unauthorized"
V1_BAD_REQUEST = "bad_request"

# --- iSpring Learn ------------------------------------------------------------------------------
ISPRING_TOKEN_TTL_SECONDS = 3600
ISPRING_DEFAULT_PAGE_SIZE = 1000
ISPRING_MAX_PAGE_SIZE = 1000
ISPRING_USER_ACTIVE = 1
ISPRING_USER_BLOCKED = 3
ISPRING_USER_STATUSES = (ISPRING_USER_ACTIVE, ISPRING_USER_BLOCKED)
# From the vendor's schema (the sandbox's copy), not from the product's vocabulary: the sandbox
# stands for the remote LMS, so a word the product gets wrong must not pass its tests.
ISPRING_COMPLETION_STATUSES: tuple[str, ...] = tuple(
    json.loads((Path(__file__).resolve().parent / "openapi" / "ispring" / "CompletionStatus.json").read_text())["enum"]
)
# The collections show numeric codes in {"code", "message"} error bodies.
ISPRING_TOKEN_ERROR_CODE = 8150
ISPRING_RESULTS_ERROR_CODE = 8122

# --- fault knobs --------------------------------------------------------------------------------
FAULT_RATE_LIMIT = "rate_limit"  # 429 with Retry-After
FAULT_SERVER_ERROR = "server_error"  # 500, 502, 503 or 504
FAULT_SLOW = "slow"  # sleep, then answer normally
FAULT_EXPIRED_TOKEN = "expired_token"  # the presented token expires now: 401
FAULT_MALFORMED_BODY = "malformed_body"  # 200 with a truncated body, nothing applied
FAULT_BULK_ERROR = "bulk_error"  # the bulk operation created by the call ends in status error
FAULT_KINDS = (
    FAULT_RATE_LIMIT,
    FAULT_SERVER_ERROR,
    FAULT_SLOW,
    FAULT_EXPIRED_TOKEN,
    FAULT_MALFORMED_BODY,
    FAULT_BULK_ERROR,
)
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
MALFORMED_JSON_BODY = b'[{"_id": "507f1f77bcf86cd7994'
MALFORMED_XML_BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<response><results><result><userId>114dba08'
