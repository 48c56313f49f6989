"""The sandbox LMS's own data: tenants, their 360Learning and iSpring content, and test knobs.

Remote ids are kept as the vendors spell them (`oid`: 24 hex digits, `*_uuid`: UUID text) next
to integer primary keys, so joins stay on integers. Seeded ids are deterministic
(``Tenant.object_id``). Tables that reach millions of rows (attempts, path session user stats,
iSpring results) carry only the indexes their read endpoints use.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models

from sandbox import constants as c


class Tenant(models.Model):
    """One fake LMS customer, reachable through its own client credentials."""

    name = models.CharField(max_length=200)
    client_id = models.CharField(max_length=100, unique=True)
    client_secret = models.CharField(max_length=200)
    company_id = models.CharField(max_length=100, unique=True, help_text="API v1 `company`")
    api_key = models.CharField(max_length=200, help_text="API v1 `apiKey`")
    ispring_client_id = models.CharField(max_length=100, unique=True)
    ispring_client_secret = models.CharField(max_length=200)
    # OAuth scopes granted to this tenant's tokens; empty means every scope.
    scopes = models.JSONField(default=list, blank=True)
    token_ttl_seconds = models.PositiveIntegerField(default=c.TOKEN_TTL_SECONDS)
    bulk_api_enabled = models.BooleanField(default=True)
    bulk_concurrency_limit = models.PositiveIntegerField(default=c.BULK_CONCURRENCY_LIMIT)
    bulk_batch_size = models.PositiveIntegerField(default=c.BULK_BATCH_SIZE)
    # A bulk operation stays at least this long in each state (and is always seen once).
    bulk_min_state_seconds = models.FloatField(default=0.0)
    id_prefix = models.CharField(max_length=6, help_text="first 6 hex digits of every id of this tenant")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.id_prefix:
            self.id_prefix = hashlib.sha256(self.client_id.encode()).hexdigest()[:6]
        super().save(*args, **kwargs)

    def object_id(self, kind: int, serial: int | None = None) -> str:
        """A 24-hex-digit id: tenant prefix, entity kind, serial (random when not given).

        Seeding passes the row's index, so the same seed gives the same ids; ids made at
        run time take a random serial with the top bit set, disjoint from seeded ones.
        """
        if serial is None:
            serial = secrets.randbits(63) | (1 << 63)
        return f"{self.id_prefix}{kind:02x}{serial:016x}"


# Entity kinds inside object ids.
KIND_GROUP = 0x01
KIND_USER = 0x02
KIND_CUSTOM_FIELD = 0x03
KIND_COURSE = 0x04
KIND_PATH = 0x05
KIND_SESSION = 0x06
KIND_ENROLLMENT = 0x07
KIND_ATTEMPT = 0x08
KIND_INTEGRATION = 0x09
KIND_BULK_OPERATION = 0x0A
KIND_CERTIFICATE = 0x0B
KIND_STEP = 0x0C
KIND_CERTIFICATE_OUTLINE = 0x0D


class Group(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    oid = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    public = models.BooleanField(default=False)
    custom = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A user custom field (v1 session stats list them by id, value and name)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    oid = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class User(models.Model):
    STATUSES = ("active", "invited", "deleted")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    oid = models.CharField(max_length=24, unique=True)
    mail = models.CharField(max_length=254)
    username = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=10, default="active")
    lang = models.CharField(max_length=10, default="en")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    job = models.CharField(max_length=100, blank=True)
    organization = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    primary_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    custom_fields = models.JSONField(default=dict, blank=True, help_text="{custom field oid: value}")
    created_at = models.DateTimeField()
    last_login_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Mail first: with tenant first, SQLite answers "a tenant's users by id" through this
        # index and sorts 100k rows instead of walking the primary key.
        constraints = [models.UniqueConstraint(fields=["mail", "tenant"], name="sandbox_user_unique_mail_tenant")]

    def __str__(self) -> str:
        return self.mail


class Integration(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    oid = models.CharField(max_length=24, unique=True)
    external_platform = models.CharField(max_length=200)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", db_index=False)
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_platform_logo_url = models.CharField(max_length=500, blank=True)
    external_platform_unicolor_logo_url = models.CharField(max_length=500, blank=True)
    default_completion = models.BooleanField(null=True, blank=True)
    default_progress = models.PositiveSmallIntegerField(null=True, blank=True)
    no_group_propagation = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.external_platform


class Course(models.Model):
    TYPES = ("elearning standard", "external", "native")
    STATUSES = ("archived", "deleted", "published")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    oid = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    source_lang = models.CharField(max_length=10, default="en")
    default_lang = models.CharField(max_length=10, default="en")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", db_index=False)
    co_author_oids = models.JSONField(default=list, blank=True)
    tag_oids = models.JSONField(default=list, blank=True)
    type = models.CharField(max_length=20, default="native")
    status = models.CharField(max_length=10, default="published")
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    version_number = models.PositiveIntegerField(default=0)
    collaborative_learning = models.BooleanField(default=False)
    translations = models.JSONField(default=list, blank=True)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    external_id = models.CharField(max_length=200, blank=True)
    # The external course as last upserted (launchUrl, sources, subjects, contentType, …).
    external = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["integration", "external_id"], name="sandbox_course_external")]

    def __str__(self) -> str:
        return self.name


class Path(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    oid = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=10, default="published")
    default_lang = models.CharField(max_length=10, default="en")
    source_lang = models.CharField(max_length=10, default="en")
    certificate_outline_oid = models.CharField(max_length=24, blank=True)
    options = models.JSONField(default=dict)
    steps = models.JSONField(default=list)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class PathSession(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    oid = models.CharField(max_length=24, unique=True)
    path = models.ForeignKey(Path, on_delete=models.CASCADE, related_name="sessions")
    name = models.CharField(max_length=300)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", db_index=False)
    main_instructor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    instructor_oids = models.JSONField(default=list, blank=True)
    registration_request_validation = models.CharField(max_length=40, default="disabled")
    user_limit = models.PositiveIntegerField(null=True, blank=True)
    is_audience_builder = models.BooleanField(default=False)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class PathSessionUserStat(models.Model):
    """One user's enrollment in a path session and where they stand (v2 user-stats, v1 stats)."""

    session = models.ForeignKey(PathSession, on_delete=models.CASCADE, related_name="user_stats")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    oid = models.CharField(max_length=24, help_text="the enrollment id")
    progress = models.PositiveSmallIntegerField(default=0)
    status_type = models.CharField(max_length=20)
    status_reason = models.CharField(max_length=20, blank=True)
    time_spent_ms = models.BigIntegerField(default=0)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField()
    unenrolled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    certificate_oid = models.CharField(max_length=24, blank=True)
    self_enrolled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user_id} in {self.session_id}: {self.status_type}"


class CourseAttempt(models.Model):
    """One attempt of a user on a course (a row of GET /api/v2/courses/stats)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    oid = models.CharField(max_length=24)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    path = models.ForeignKey(Path, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    path_session = models.ForeignKey(
        PathSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    lang = models.CharField(max_length=10, default="en")
    version_number = models.PositiveIntegerField(null=True, blank=True)
    first_activity_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    time_spent_ms = models.BigIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    result = models.CharField(max_length=10, blank=True, help_text="success | failed, as imported")

    class Meta:
        # (user, course) serves the userId filter and the import's "existing attempts" lookup.
        indexes = [models.Index(fields=["user", "course"], name="sandbox_attempt_user_course")]

    def __str__(self) -> str:
        return self.oid


class BulkOperation(models.Model):
    """An asynchronous bulk call; advances one state per read (see services.bulk_operation_advance)."""

    STATUSES = (c.BULK_PENDING, c.BULK_QUEUED, c.BULK_RUNNING, c.BULK_COMPLETED, c.BULK_ERROR)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    integration_oid = models.CharField(max_length=24)
    oid = models.CharField(max_length=24, unique=True)
    type = models.CharField(max_length=40)
    status = models.CharField(max_length=10, default=c.BULK_PENDING)
    input = models.JSONField(default=list)
    processed = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    # Fault knob: the operation stops in status "error" when it reaches this element.
    fail_at_index = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    progress_updated_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField()
    # Whether a read has shown the current state; the next state waits for that.
    state_seen = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.type} {self.oid} ({self.status})"


class BulkOperationResult(models.Model):
    operation = models.ForeignKey(BulkOperation, on_delete=models.CASCADE, related_name="results")
    index = models.PositiveIntegerField()
    status = models.CharField(max_length=10)
    resource_id = models.CharField(max_length=24, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operation", "index"], name="sandbox_bulk_result_unique_index")]

    def __str__(self) -> str:
        return f"{self.operation_id}#{self.index} {self.status}"


class AccessToken(models.Model):
    """An issued bearer token; only its SHA-256 is kept."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    api = models.CharField(max_length=20)  # constants.API_360 | constants.API_ISPRING
    client_id = models.CharField(max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.api} token of {self.client_id}"


class IspringModuleResult(models.Model):
    """One learner's result on one course module (GET /learners/modules/results)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user_uuid = models.CharField(max_length=36)
    user_status = models.PositiveSmallIntegerField(default=c.ISPRING_USER_ACTIVE)
    department_uuid = models.CharField(max_length=36)
    course_uuid = models.CharField(max_length=36)
    module_uuid = models.CharField(max_length=36)
    module_title = models.CharField(max_length=300)
    course_item_uuid = models.CharField(max_length=36)
    enrollment_uuid = models.CharField(max_length=36, blank=True)
    access_date = models.DateTimeField()
    due_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    completion_date = models.DateTimeField(null=True, blank=True)
    time_spent_s = models.PositiveIntegerField(null=True, blank=True)
    completion_status = models.CharField(max_length=20)
    awarded_score = models.FloatField(null=True, blank=True)
    passing_score = models.FloatField(null=True, blank=True)
    progress = models.FloatField(null=True, blank=True)
    is_overdue = models.BooleanField(default=False)
    views_count = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_uuid} / {self.module_title}: {self.completion_status}"


class IspringUser(models.Model):
    """One iSpring Learn user profile (GET /users); ``IspringModuleResult.user_uuid`` is its ``user_uuid``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user_uuid = models.CharField(max_length=36)
    status = models.PositiveSmallIntegerField(default=c.ISPRING_USER_ACTIVE)
    role = models.CharField(max_length=30, default="learner")
    department_uuid = models.CharField(max_length=36)
    login = models.CharField(max_length=150)
    email = models.CharField(max_length=254, help_text="as the seed wrote it: case and spaces may differ from 360's")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user_uuid"], name="sandbox_ispringuser_unique_uuid")]

    def __str__(self) -> str:
        return self.login


class FaultRule(models.Model):
    """Make the next `remaining` matching calls of one client misbehave (tests, demo)."""

    client_id = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=20)  # one of constants.FAULT_KINDS
    remaining = models.PositiveIntegerField(default=1)
    method = models.CharField(max_length=10, blank=True, help_text="only this HTTP method (blank: any)")
    path_prefix = models.CharField(
        max_length=300, blank=True, help_text="only vendor paths starting so, e.g. /api/v2/bulk/"
    )
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="server_error: 500, 502, 503 or 504")
    retry_after = models.PositiveIntegerField(null=True, blank=True, help_text="seconds, for 429 and 503")
    delay_seconds = models.FloatField(default=0.0, help_text="slow: how long to wait before answering")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} ×{self.remaining} for {self.client_id}"


class RequestLog(models.Model):
    """Every call the sandbox answered, so tests can assert what a client sent and how often."""

    api = models.CharField(max_length=20)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500, help_text="the vendor path, without the /sandbox/… mount")
    query = models.TextField(blank=True)
    client_id = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.PositiveSmallIntegerField()
    body_sha256 = models.CharField(max_length=64, blank=True)
    fault = models.CharField(max_length=20, blank=True)
    bulk_operation_oid = models.CharField(max_length=24, blank=True)
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"
