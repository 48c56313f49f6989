"""360Learning API v2 client: Core API reads, integration configurations, Bulk API.

Contracts: ``../shared/openapi/360learning-core-api.json`` and
``../shared/openapi/360learning-bulk-api.json`` (each call below names its operationId).

- Auth: OAuth2 client credentials (``POST /api/v2/oauth2/token``, JSON body), token kept
  in a ``TokenStore`` and refreshed before it expires; a ``401`` on a call gets one fresh
  token and one more try.
- Every call sends ``360-api-version: v2.0``.
- Listings are generators that follow ``Link: <url>; rel="next"`` page by page and yield
  frozen dataclasses; only one page is held in memory at a time.
- Filters are keyword arguments ``<field>_<operator>`` (``completed_at_gte=datetime``,
  ``course_id_in=[...]``) turned into bracket parameters (``completedAt[gte]=...``);
  each listing accepts only the filters its operation documents (``TypeError`` otherwise).
  ``in``/``nin`` values are sent as repeated parameters (``courseId[in]=a&courseId[in]=b``,
  deepObject with explode as the spec declares).
- Bulk calls refuse batches over the documented limits before sending (``BatchTooLarge``,
  a ``BadRequest`` and ``ValueError``), are never retried once they may have reached the
  server, and return the bulk operation id from the ``202`` ``Location`` header.

What the calls take and give lives beside this module: ``resources`` (the records listings
yield), ``bulk_inputs`` (what bulk calls send), ``filters`` (the documented filters of each
listing). No Django imports here: the Django layer passes credentials and a token store in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests

from integrations.clients.errors import AuthError, BadResponse, BatchTooLarge
from integrations.clients.parsing import (
    OBJECT_ID_RE,
    Fields,
    check_object_id,
    json_list,
)
from integrations.clients.transport import (
    CredentialsClient,
    Transport,
)

# Documented maxItems of each bulk ``input`` array: defined once with the import kinds, which
# the import chunks by and tests/integrations/imports/test_kinds.py checks against the document.
from integrations.imports.kinds import COURSES_ARCHIVE_LIMIT, COURSES_UPSERT_LIMIT, STATS_IMPORT_LIMIT
from integrations.providers.learning360.bulk_inputs import ExternalCourse, ExternalCourseStat, without_nulls
from integrations.providers.learning360.filters import (
    BULK_OPERATIONS_FILTERS,
    COURSE_STATS_FILTERS,
    COURSES_FILTERS,
    INTEGRATIONS_FILTERS,
    PATH_SESSIONS_FILTERS,
    PATHS_FILTERS,
    USER_STATS_FILTERS,
    USERS_FILTERS,
    filter_params,
)
from integrations.providers.learning360.resources import (
    BulkOperation,
    BulkResult,
    Course,
    CourseStat,
    Group,
    Integration,
    Path,
    PathSession,
    PathSessionStatusCounts,
    PathSessionUserStat,
    User,
)

EU_BASE_URL = "https://app.360learning.com"
US_BASE_URL = "https://app.us.360learning.com"
API_VERSION = "v2.0"

T = TypeVar("T")


class Learning360Transport(Transport):
    """360Learning error shapes: ``{"error": {"code", "message"}}`` and ``{"error": "invalid_token"}``."""

    # 503 bulkAPIDisabled: "The bulk API is temporarily disabled" - the request was refused.
    refusal_codes = frozenset({"bulkAPIDisabled"})


def _check_batch(records: Sequence[object], limit: int, what: str) -> None:
    if len(records) == 0:
        raise ValueError(f"{what}: empty batch")
    if len(records) > limit:
        raise BatchTooLarge(
            f"{what}: {len(records)} records exceed the documented limit of {limit:,}; split the batch",
            code="batchTooLarge",
        )


# The client ------------------------------------------------------------------------------
class Learning360Client(CredentialsClient):
    """360Learning API v2 for one platform (one ``client_id``).

    Not thread-safe (one ``requests.Session``): create one client per thread or task.
    Every method raises ``LmsError`` subclasses (see ``errors.py``); arguments that could
    never be valid (malformed ids, unknown filters, over-limit batches) raise
    ``ValueError``/``TypeError`` before anything is sent.
    """

    transport_class = Learning360Transport
    name = "360Learning"
    provider = "360learning"

    def __repr__(self) -> str:
        return f"<Learning360Client {self.base_url} client_id={self.client_id!r}>"

    # Plumbing ----------------------------------------------------------------------------
    def _fetch_token(self, client_secret: str) -> tuple[str, float]:
        # Reference: v2.authentication.GenerateTokenController_generateToken (360learning-core-api.json)
        response = self._transport.request(
            "POST",
            self._transport.url("/api/v2/oauth2/token"),
            # Asking for a token changes nothing remotely: safe to retry.
            idempotent=True,
            json={"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": client_secret},
            headers={"360-api-version": API_VERSION, "Accept": "application/json"},
        )
        return self._token_from(
            self._transport.decode_json(response), "360Learning POST /api/v2/oauth2/token", token_type_required=True
        )

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "360-api-version": API_VERSION,
            "Accept": "application/json",
        }

    def _send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        expected: tuple[int, ...] = (200,),
        params: list[tuple[str, str]] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One authenticated call; on a 401 one fresh token and one more try (a 401
        means the remote refused the request, so even a bulk call is safe to resend)."""
        token = self._tokens.token()
        try:
            return self._transport.request(
                method,
                url,
                idempotent=idempotent,
                expected=expected,
                params=params,
                json=json,
                headers=self._headers(token),
            )
        except AuthError as exc:
            if exc.status != 401 or exc.code not in (None, "invalid_token"):
                raise
        token = self._tokens.refresh(token)
        return self._transport.request(
            method,
            url,
            idempotent=idempotent,
            expected=expected,
            params=params,
            json=json,
            headers=self._headers(token),
        )

    def _paginate(self, path: str, params: list[tuple[str, str]], parse: Callable[[Fields], T]) -> Iterator[T]:
        """Yield parsed records page by page, following ``Link rel="next"`` until absent.

        Each page is parsed completely before its first record is yielded, so a contract
        mismatch fails the page before the caller writes half of it.
        """
        url: str | None = self._transport.url(path)
        page_params: list[tuple[str, str]] | None = params
        visited: set[str] = set()
        while url is not None:
            response = self._send("GET", url, idempotent=True, params=page_params)
            where = self._transport.describe("GET", url)
            records = [
                parse(Fields(item, f"{where} item {index}"))
                for index, item in enumerate(json_list(self._transport.decode_json(response), where))
            ]
            next_url = self._transport.next_link(response)
            visited.add(response.url)
            if next_url is not None and next_url in visited:
                raise BadResponse(f"{where}: the next-page link points back to a page already read")
            del response
            # The next link carries the filters itself.
            url, page_params = next_url, None
            yield from records

    def _path(self, template: str, **ids: str) -> str:
        for name, value in ids.items():
            check_object_id(value, name)
        return template.format(**{k: quote(v, safe="") for k, v in ids.items()})

    def _get_object(self, path: str, parse: Callable[[Fields], T]) -> T:
        url = self._transport.url(path)
        response = self._send("GET", url, idempotent=True)
        return parse(Fields(self._transport.decode_json(response), self._transport.describe("GET", url)))

    def _operation_id(self, response: requests.Response) -> str:
        """The bulk operation id from a 202's ``Location: .../api/v2/bulk/operations/{id}``."""
        where = self._transport.describe(response.request.method or "?", response.url)
        location = response.headers.get("Location", "")
        segments = urlsplit(location).path.rstrip("/").split("/")
        if len(segments) < 2 or segments[-2] != "operations" or not OBJECT_ID_RE.match(segments[-1]):
            # The operation was accepted; we just cannot track it. The caller reconciles
            # (GET /api/v2/bulk/operations) rather than resending.
            raise BadResponse(
                f"{where}: HTTP 202 without a bulk operation URL in Location",
                status=response.status_code,
                may_have_been_applied=True,
            )
        return segments[-1]

    def _parse_applied(self, response: requests.Response, parse: Callable[[Fields], T]) -> T:
        """Parse the answer to a state-changing call: if it is unreadable, the change
        still happened, so the error says it may have been applied."""
        where = self._transport.describe(response.request.method or "?", response.url)
        try:
            return parse(Fields(self._transport.decode_json(response, may_have_been_applied=True), where))
        except BadResponse as exc:
            exc.may_have_been_applied = True
            raise

    # Core API reads ----------------------------------------------------------------------
    def users(self, **filters: object) -> Iterator[User]:
        """All users, 500 a page. Filters: ``mail_{eq,ne,in,nin}``,
        ``username_{eq,ne,in,nin}``, ``status_{eq,ne}``."""
        params = filter_params(filters, USERS_FILTERS)
        # Reference: v2.users.GetUsersController_getUsers (360learning-core-api.json)
        return self._paginate("/api/v2/users", params, User.from_json)

    def groups(self) -> Iterator[Group]:
        """All groups, 500 a page (the operation has no filters)."""
        # Reference: v2.groups.GetGroupsController_getGroups (360learning-core-api.json)
        return self._paginate("/api/v2/groups", [], Group.from_json)

    def courses(self, **filters: object) -> Iterator[Course]:
        """All courses, 500 a page. Filters: ``created_at_{lt,gte}``, ``modified_at_{lt,gte}``,
        ``status_eq``, ``type_eq``, ``author_id_eq``, ``group_id_eq``, ``original_author_id_eq``,
        ``tag_ids_in``, ``co_author_ids_in``, ``source_lang_{eq,in}``, ``collaborative_learning_eq``."""
        params = filter_params(filters, COURSES_FILTERS)
        # Reference: v2.courses.GetCoursesController_getCourses (360learning-core-api.json)
        return self._paginate("/api/v2/courses", params, Course.from_json)

    def course_stats(self, **filters: object) -> Iterator[CourseStat]:
        """All course attempts, 500 a page. Filters: ``completed_at_{lt,gte}``,
        ``course_id_{eq,ne,in,nin}``, ``user_id_{eq,ne,in,nin}``."""
        params = filter_params(filters, COURSE_STATS_FILTERS)
        # Reference: v2.courses.GetAllCourseStatsController_getAllCourseStats (360learning-core-api.json)
        return self._paginate("/api/v2/courses/stats", params, CourseStat.from_json)

    def paths(self, **filters: object) -> Iterator[Path]:
        """All paths, 200 a page. Filters: ``created_at_{lt,gte}``, ``modified_at_{lt,gte}``, ``status_eq``."""
        params = filter_params(filters, PATHS_FILTERS)
        # Reference: v2.paths.GetPathsController_getPaths (360learning-core-api.json)
        return self._paginate("/api/v2/paths", params, Path.from_json)

    def path_sessions(self, **filters: object) -> Iterator[PathSession]:
        """All path sessions of the platform, 500 a page. Filters: ``created_at``,
        ``modified_at``, ``start_date``, ``end_date`` (``_lt``/``_gte``),
        ``session_id_{eq,ne,in,nin}``, ``path_id_{eq,ne,in,nin}``."""
        params = filter_params(filters, PATH_SESSIONS_FILTERS)
        # Reference: v2.paths.GetAllPathSessionsController_getAllPathSessions (360learning-core-api.json)
        return self._paginate("/api/v2/paths/sessions", params, PathSession.from_json)

    def path_session_user_stats(
        self, path_id: str, session_id: str, **filters: object
    ) -> Iterator[PathSessionUserStat]:
        """Per-learner statistics of a path session, 2,000 a page. Filters:
        ``completed_at_{lt,gte}``, ``user_id_{eq,ne,in,nin}``.
        Raises ``NotFound`` (pathNotFound, sessionNotFound), ``BadRequest`` (sessionNotBelongToPath)."""
        path = self._path(
            "/api/v2/paths/{path_id}/sessions/{session_id}/user-stats", path_id=path_id, session_id=session_id
        )
        params = filter_params(filters, USER_STATS_FILTERS)
        # Reference: v2.paths.GetUserStatsController_getUserStats (360learning-core-api.json)
        return self._paginate(path, params, PathSessionUserStat.from_json)

    def path_session_user_statuses(self, path_id: str, session_id: str) -> PathSessionStatusCounts:
        """Counts of learners per detailed status and certificates issued for a path session.
        Raises ``NotFound`` (pathNotFound, sessionNotFound), ``BadRequest`` (sessionNotBelongToPath)."""
        path = self._path(
            "/api/v2/paths/{path_id}/sessions/{session_id}/user-statuses", path_id=path_id, session_id=session_id
        )
        # Reference: v2.paths.v2.paths.GetSessionStatsController_getSessionStats (360learning-core-api.json)
        return self._get_object(path, PathSessionStatusCounts.from_json)

    # Integrations ------------------------------------------------------------------------
    def integrations(self, **filters: object) -> Iterator[Integration]:
        """All integration configurations, 100 a page. Filters: ``external_platform_{eq,ne,in,nin}``."""
        params = filter_params(filters, INTEGRATIONS_FILTERS)
        # Reference: v2.integrations.GetIntegrationsController_getIntegrations (360learning-core-api.json)
        return self._paginate("/api/v2/integrations", params, Integration.from_json)

    def integration_create(
        self,
        *,
        external_platform: str,
        group_id: str,
        author_id: str,
        default_completion: bool | None = None,
        default_progress: int | None = None,
        no_group_propagation: bool | None = None,
        external_platform_logo_url: str | None = None,
        external_platform_unicolor_logo_url: str | None = None,
    ) -> Integration:
        """Create an integration configuration; returns it with its remote id.

        Never retried once sent: a lost answer raises ``RemoteUnavailable`` with
        ``may_have_been_applied=True`` (re-read ``integrations(external_platform_eq=...)``
        to reconcile). Raises ``BadRequest`` (duplicateExternalPlatform,
        integrationsLimitReached, reservedPlatformName), ``NotFound`` (groupNotFound, userNotFound).
        """
        check_object_id(group_id, "group_id")
        check_object_id(author_id, "author_id")
        body = without_nulls(
            {
                "externalPlatform": external_platform,
                "groupId": group_id,
                "authorId": author_id,
                "defaultCompletion": default_completion,
                "defaultProgress": default_progress,
                "noGroupPropagation": no_group_propagation,
                "externalPlatformLogoUrl": external_platform_logo_url,
                "externalPlatformUnicolorLogoUrl": external_platform_unicolor_logo_url,
            }
        )
        url = self._transport.url("/api/v2/integrations")
        # Reference: v2.integrations.CreateIntegrationController_createIntegration (360learning-core-api.json)
        response = self._send("POST", url, idempotent=False, expected=(201,), json=body)
        return self._parse_applied(response, Integration.from_json)

    _EDITABLE = {
        "external_platform": "externalPlatform",
        "group_id": "groupId",
        "author_id": "authorId",
        "default_completion": "defaultCompletion",
        "default_progress": "defaultProgress",
        "no_group_propagation": "noGroupPropagation",
        "external_platform_logo_url": "externalPlatformLogoUrl",
        "external_platform_unicolor_logo_url": "externalPlatformUnicolorLogoUrl",
    }

    def integration_edit(self, integration_id: str, **changes: object) -> Integration:
        """PATCH the given fields of an integration configuration (others stay unchanged).

        ``changes`` take the snake_case names of ``integration_create``'s arguments.
        Not retried once sent (see ``integration_create``). Raises ``NotFound``
        (integrationNotFound, groupNotFound, userNotFound), ``BadRequest``.
        """
        path = self._path("/api/v2/integrations/{integration_id}", integration_id=integration_id)
        unknown = set(changes) - set(self._EDITABLE)
        if unknown:
            raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
        if not changes:
            raise ValueError("integration_edit needs at least one change")
        for key in ("group_id", "author_id"):
            if key in changes:
                check_object_id(changes[key], key)  # type: ignore[arg-type]
        body = {self._EDITABLE[k]: v for k, v in changes.items()}
        url = self._transport.url(path)
        # Reference: v2.integrations.EditIntegrationController_editIntegration (360learning-core-api.json)
        response = self._send("PATCH", url, idempotent=False, json=body)
        # The 200 body is a BaseIntegrationDTO, which has no _id.
        return self._parse_applied(response, lambda f: Integration.from_json(f, id=integration_id))

    def integration_delete(self, integration_id: str) -> None:
        """Delete an integration configuration (the remote archives its content).

        Not retried once sent. Raises ``NotFound`` (integrationNotFound), ``BadRequest``
        (reservedPlatformName).
        """
        url = self._transport.url(self._path("/api/v2/integrations/{integration_id}", integration_id=integration_id))
        # Reference: v2.integrations.DeleteIntegrationController_deleteIntegration (360learning-core-api.json)
        self._send("DELETE", url, idempotent=False, expected=(204,))

    # Bulk API ----------------------------------------------------------------------------
    def bulk_courses_upsert(self, integration_id: str, courses: Sequence[ExternalCourse | Mapping[str, Any]]) -> str:
        """Queue an upsert of up to 10,000 external courses; returns the bulk operation id.

        Records are ``ExternalCourse``s or mappings already in the API's shape.
        Raises ``BatchTooLarge`` (over 10,000, nothing sent), ``ValueError`` (empty),
        ``RateLimited`` (bulkOperationsConcurrencyLimitReached, not applied) and
        ``RemoteUnavailable`` (``may_have_been_applied`` False for bulkAPIDisabled, True
        when the answer was lost). Never retried once sent.
        """
        _check_batch(courses, COURSES_UPSERT_LIMIT, "courses upsert")
        path = self._path("/api/v2/bulk/integrations/{integration_id}/courses", integration_id=integration_id)
        body = {"input": [c.to_json() if isinstance(c, ExternalCourse) else dict(c) for c in courses]}
        # Reference: v2.bulk.integrations.ImportExternalCoursesController_importExternalCourses (360learning-bulk-api.json)
        response = self._send("PUT", self._transport.url(path), idempotent=False, expected=(202,), json=body)
        return self._operation_id(response)

    def bulk_courses_archive(self, integration_id: str, external_ids: Sequence[str]) -> str:
        """Queue the archiving of up to 1,000 external courses by ``externalId``; returns
        the bulk operation id. Raises as ``bulk_courses_upsert`` (limit 1,000)."""
        if isinstance(external_ids, str):
            raise TypeError("external_ids must be a sequence of strings")
        _check_batch(external_ids, COURSES_ARCHIVE_LIMIT, "courses archive")
        path = self._path("/api/v2/bulk/integrations/{integration_id}/courses", integration_id=integration_id)
        body = {"input": [{"externalId": external_id} for external_id in external_ids]}
        # Reference: v2.bulk.integrations.ArchiveExternalCoursesController_archiveExternalCourses (360learning-bulk-api.json)
        response = self._send("DELETE", self._transport.url(path), idempotent=False, expected=(202,), json=body)
        return self._operation_id(response)

    def bulk_stats_import(self, integration_id: str, stats: Sequence[ExternalCourseStat | Mapping[str, Any]]) -> str:
        """Queue an import of up to 10,000 learner statistics; returns the bulk operation id.
        Raises as ``bulk_courses_upsert`` (limit 10,000)."""
        _check_batch(stats, STATS_IMPORT_LIMIT, "stats import")
        path = self._path("/api/v2/bulk/integrations/{integration_id}/stats", integration_id=integration_id)
        body = {"input": [s.to_json() if isinstance(s, ExternalCourseStat) else dict(s) for s in stats]}
        # Reference: v2.bulk.integrations.ImportExternalStatisticsController_importExternalStatistics (360learning-bulk-api.json)
        response = self._send("POST", self._transport.url(path), idempotent=False, expected=(202,), json=body)
        return self._operation_id(response)

    def bulk_operation(self, operation_id: str) -> BulkOperation:
        """The current state of a bulk operation. Raises ``NotFound`` (bulkOperationNotFound)."""
        path = self._path("/api/v2/bulk/operations/{operation_id}", operation_id=operation_id)
        # Reference: v2.bulk.operations.GetBulkOperationController_getBulkOperation (360learning-bulk-api.json)
        return self._get_object(path, BulkOperation.from_json)

    def bulk_operations(self, **filters: object) -> Iterator[BulkOperation]:
        """All bulk operations, 20 a page, to reconcile after a lost answer. Filters:
        ``created_at_{lt,gte}``, ``status_eq``, ``type_eq``."""
        params = filter_params(filters, BULK_OPERATIONS_FILTERS)
        # Reference: v2.bulk.operations.GetBulkOperationsController_getBulkOperations (360learning-bulk-api.json)
        return self._paginate("/api/v2/bulk/operations", params, BulkOperation.from_json)

    def bulk_operation_results(self, operation_id: str) -> Iterator[BulkResult]:
        """One result per input record, in input order, for a ``completed`` or ``error`` operation.

        The contract returns them in one body (no ``Link`` header documented); a ``Link``
        would still be followed. Raises ``BadRequest`` (bulkOperationNotRun), ``NotFound``.
        """
        path = self._path("/api/v2/bulk/operations/{operation_id}/results", operation_id=operation_id)
        counter = itertools.count()
        # Reference: v2.bulk.operations.GetBulkOperationResultsController_getBulkOperationResults (360learning-bulk-api.json)
        return self._paginate(path, [], lambda f: BulkResult.from_json(f, index=next(counter)))
