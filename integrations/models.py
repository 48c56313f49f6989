from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations import crypto, providers
from integrations.imports.kinds import KIND_CHOICES
from integrations.imports.readers import UNITS


class Connection(models.Model):
    """One LMS tenant the product talks to. Secrets are encrypted and never shown back."""

    name = models.CharField(max_length=100, unique=True)
    # A callable: the installed providers (``LMS_EXTRA_PROVIDERS`` included) without a migration each.
    provider = models.CharField(max_length=20, choices=providers.choices)
    base_url = models.URLField(max_length=300)
    client_id = models.CharField(max_length=200)
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    v1_company_id = models.CharField("v1 company id", max_length=100, blank=True)
    v1_api_key_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_error = models.TextField(blank=True)
    alert_after_failures = models.PositiveSmallIntegerField(
        default=3,
        help_text="Alert the admins when a sync or an import of this connection fails this many times in a row.",
    )
    stale_after_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Reports flag this connection's data as stale when its last sync is older."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Connection {self.pk} {self.name!r} {self.provider}>"

    @property
    def provider_spec(self) -> providers.ProviderSpec | None:
        """What the registry knows of this connection's provider (None: no longer installed)."""
        return providers.get_or_none(self.provider)

    @property
    def client_secret(self) -> str:
        return crypto.decrypt(self.client_secret_encrypted)

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_encrypted = crypto.encrypt(value)

    @property
    def v1_api_key(self) -> str:
        return crypto.decrypt(self.v1_api_key_encrypted)

    @v1_api_key.setter
    def v1_api_key(self, value: str) -> None:
        self.v1_api_key_encrypted = crypto.encrypt(value)

    @property
    def has_v1_credentials(self) -> bool:
        return bool(self.v1_company_id and self.v1_api_key_encrypted)

    @property
    def health(self) -> str:
        if self.last_check_ok is None:
            return "unchecked"
        return "healthy" if self.last_check_ok else "failing"


class Integration(models.Model):
    """Mirror of a 360Learning integration configuration (an external course platform)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="integrations")
    remote_id = models.CharField(max_length=24)
    external_platform = models.CharField(max_length=200)
    group_id = models.CharField(max_length=24)
    author_id = models.CharField(max_length=24)
    external_platform_logo_url = models.URLField(max_length=500, blank=True)
    external_platform_unicolor_logo_url = models.URLField(max_length=500, blank=True)
    default_completion = models.BooleanField(null=True)
    default_progress = models.PositiveSmallIntegerField(null=True, blank=True)
    no_group_propagation = models.BooleanField(null=True)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    pulled_at = models.DateTimeField(null=True, blank=True)
    removed_remotely_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the remote no longer has it; kept for its import history."
    )

    class Meta:
        ordering = ["connection__name", "external_platform"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "remote_id"], name="integration_unique_remote_id"),
        ]

    def __str__(self) -> str:
        return f"{self.external_platform} ({self.connection})"


class ImportState(models.TextChoices):
    DRAFT = "draft", "Draft (validated, not launched)"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused (LMS unavailable, retrying)"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Preparation(models.TextChoices):
    """Where a draft's file is between the upload and the preview (the worker reads it)."""

    READING = "reading", "Reading and checking the file"
    NEEDS_MAPPING = "needs-mapping", "Waiting for the column mapping"
    READY = "ready", "Ready to preview"
    REFUSED = "refused", "File refused"


#: What a record's source line counts: a CSV line, an XLSX row or a JSON record.
LINE_UNIT_CHOICES = [(unit, unit) for unit in dict.fromkeys(UNITS.values())]

ACTIVE_IMPORT_STATES = (ImportState.DRAFT, ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED)
FINISHED_IMPORT_STATES = (ImportState.COMPLETED, ImportState.FAILED, ImportState.CANCELLED)


class ImportRun(models.Model):
    """One launch of an import into one integration: its file, its validated records, its chunks.

    The worker that executes a run holds a lease (``lease_owner``/``lease_expires_at``) taken
    with a conditional UPDATE, so several workers on several machines never run it twice
    at once, and a run whose worker died is resumed once the lease lapses.

    A run is executed in short steps, one task each (integrations.tasks.import_run_execute):
    between two steps the lease is held for the next one, due at ``next_step_at``, and the
    next task claims it by its number (``steps``), so a task delivered twice works once.
    """

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="import_runs")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source_name = models.CharField(max_length=255)
    source_file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    source_format = models.CharField(max_length=20, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    v1_defaults = models.JSONField(
        default=dict, blank=True, help_text="Values supplied for what a v1 payload lacks (V1Defaults, as JSON)."
    )
    # The mapping step (preparation needs-mapping): the file's columns, the suggested
    # {column: field} mapping, and the requirements no column meets.
    source_columns = models.JSONField(default=list, blank=True, help_text="The file's column names, in its order.")
    suggested_mapping = models.JSONField(default=dict, blank=True)
    missing_columns = models.JSONField(
        default=list, blank=True, help_text="What the file has no column for (one label per requirement)."
    )
    # Read from the file once it is ready.
    line_unit = models.CharField(
        max_length=10, choices=LINE_UNIT_CHOICES, default="line", help_text="What a record's source line counts."
    )
    file_notes = models.JSONField(default=list, blank=True, help_text="What the reader noticed (skipped rows, …).")
    predicted_effects = models.JSONField(
        default=dict, blank=True, help_text="{predicted effect: records}, most frequent first."
    )
    learners_looked_up = models.PositiveIntegerField(
        default=0, help_text="Learner e-mails missing from the cache that were looked up in the LMS."
    )
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    follows = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followers",
        help_text="A run prepared together with this earlier one, launched after it ends (its courses exist then).",
    )
    state = models.CharField(max_length=20, choices=ImportState.choices, default=ImportState.DRAFT)
    preparation = models.CharField(max_length=20, choices=Preparation.choices, default=Preparation.READY)
    source_size = models.PositiveBigIntegerField(default=0, help_text="Bytes of the uploaded file.")
    bytes_read = models.PositiveBigIntegerField(default=0, help_text="How far the worker has read the file.")
    rows_read = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    total_records = models.PositiveIntegerField(default=0)
    invalid_records = models.PositiveIntegerField(default=0)
    skipped_records = models.PositiveIntegerField(default=0, help_text="Valid, but already imported: not sent.")
    succeeded_records = models.PositiveIntegerField(default=0)
    failed_records = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_step_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next step is due (empty while one runs, and once finished)."
    )
    steps = models.PositiveIntegerField(default=0, help_text="Steps taken: the next one claims the next number.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["integration", "-created_at"]),
            models.Index(fields=["state", "lease_expires_at"]),
        ]
        constraints = [
            # The same file launched twice while the first is still active is one run,
            # whichever process receives the second upload.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(state__in=["queued", "running", "paused"]) & ~models.Q(idempotency_key=""),
                name="importrun_one_active_per_content",
            ),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.get_kind_display()})"

    @property
    def valid_records(self) -> int:
        return self.total_records - self.invalid_records

    @property
    def percent_read(self) -> int:
        """How far the worker has read the file (99 at most until it is ready)."""
        if self.preparation == Preparation.READY:
            return 100
        return min(99, int(100 * self.bytes_read / self.source_size)) if self.source_size else 0

    @property
    def status_label(self) -> str:
        """The state a person reads in lists: a draft says where its file is."""
        if self.state == ImportState.DRAFT and self.preparation != Preparation.READY:
            return self.get_preparation_display()
        return self.get_state_display()

    @property
    def records_to_send(self) -> int:
        return self.valid_records - self.skipped_records

    @property
    def done_records(self) -> int:
        return self.succeeded_records + self.failed_records

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_IMPORT_STATES

    @property
    def percent_done(self) -> int:
        return int(100 * self.done_records / self.records_to_send) if self.records_to_send else 100


class ChunkState(models.TextChoices):
    PENDING = "pending", "Not sent yet"
    SENDING = "sending", "Sending"
    UNCERTAIN = "uncertain", "Sent, answer lost (reconciling)"
    SENT = "sent", "Sent (bulk operation pending)"
    QUEUED = "queued", "Queued in 360Learning"
    RUNNING = "running", "Running in 360Learning"
    COMPLETED = "completed", "Completed"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled (never sent)"


class ImportChunk(models.Model):
    """≤ the API limit of records sent in one bulk call. One audit row per remote call:
    the operation id is stored before any polling, so a chunk is never sent twice."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=ChunkState.choices, default=ChunkState.PENDING)
    record_count = models.PositiveIntegerField()
    operation_id = models.CharField(max_length=24, blank=True)
    remote_status = models.CharField(max_length=20, blank=True)
    progress_index = models.PositiveIntegerField(default=0)
    send_attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="importchunk_unique_index")]

    def __str__(self) -> str:
        return f"Chunk {self.index + 1} of import #{self.run_id}"

    @property
    def is_finished(self) -> bool:
        return self.state in (ChunkState.COMPLETED, ChunkState.ERROR, ChunkState.CANCELLED)

    @property
    def display_state(self) -> str:
        """What the progress page says: a pending chunk with a reason is waiting, for a slot or to retry."""
        if self.state == ChunkState.PENDING and self.last_error:
            return "Waiting for a slot" if self.last_error.startswith("Waiting for a slot") else "Waiting to retry"
        return self.get_state_display()


class RecordStatus(models.TextChoices):
    INVALID = "invalid", "Invalid (not sent)"
    SKIPPED = "skipped", "Skipped (already imported)"
    PENDING = "pending", "Pending"
    SUCCESS = "success", "Success"
    ERROR = "error", "Error"


class ImportRecord(models.Model):
    """One source row: its payload as sent (or why it is invalid) and its remote outcome."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="records")
    chunk = models.ForeignKey(ImportChunk, null=True, blank=True, on_delete=models.SET_NULL, related_name="records")
    position = models.PositiveIntegerField(
        help_text="Order among the run's valid records; chunk index = position // limit."
    )
    source_line = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RecordStatus.choices, default=RecordStatus.PENDING)
    payload = models.JSONField(null=True, blank=True)
    source = models.JSONField(default=dict, blank=True, help_text="The original cells, for the error CSV.")
    field = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="How a v1 value was converted or defaulted.")
    resource_id = models.CharField(max_length=100, blank=True)
    payload_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    prediction = models.JSONField(
        default=dict, blank=True, help_text="What 360Learning is expected to do with it: {effect, target}."
    )

    class Meta:
        ordering = ["run", "source_line", "pk"]
        indexes = [
            models.Index(fields=["run", "status"]),
            models.Index(fields=["chunk", "position"]),
        ]

    def __str__(self) -> str:
        return f"Line {self.source_line} of import #{self.run_id}"

    @property
    def payload_json(self) -> str:
        import json

        return json.dumps(self.payload, ensure_ascii=False) if self.payload is not None else ""


class ImportLedgerEntry(models.Model):
    """A record 360Learning accepted, by the hash of its exact payload, per integration.

    Re-uploading the same file or overlapping rows is detected before anything is sent.
    The first acceptance is kept: it answers "imported on … by run #…".
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="ledger")
    payload_sha256 = models.CharField(max_length=64)
    run = models.ForeignKey(ImportRun, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "payload_sha256"], name="importledger_unique_payload")
        ]

    def __str__(self) -> str:
        return f"{self.payload_sha256[:12]} accepted by {self.integration} on {self.accepted_at:%Y-%m-%d}"


class BulkSlotBudget(models.Model):
    """How many bulk operations this product keeps in flight at once for one integration,
    across every run, worker and user. A 429 from the LMS shrinks it; calm periods grow it
    back to ``ceiling``."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="slot_budget")
    budget = models.PositiveSmallIntegerField()
    ceiling = models.PositiveSmallIntegerField()
    shrunk_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.budget}/{self.ceiling} bulk slots for {self.integration}"


class ImportMapping(models.Model):
    """The column mapping an admin chose for an integration and kind, offered next time."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="import_mappings")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "kind"], name="importmapping_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} mapping for {self.integration}"


class SyncKind(models.TextChoices):
    USERS = "users", "Users"
    COURSES = "courses", "Courses"
    PATHS = "paths", "Paths"
    SESSIONS = "sessions", "Path sessions and user stats"
    COURSE_STATS = "course-stats", "Course statistics"
    MODULE_RESULTS = "module-results", "iSpring module results"


class SyncState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    """One sync of one kind of cached statistics from one connection.

    At most one run per connection and kind is queued or running at a time (a partial
    unique constraint, so it holds across every process). ``cursor`` is where an
    incremental sync started from; the cursor of the last *completed* run is where the
    next one starts, so a failed run never moves it forward.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=20, choices=SyncKind.choices)
    state = models.CharField(max_length=20, choices=SyncState.choices, default=SyncState.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    full_refresh = models.BooleanField(default=False)
    cursor = models.JSONField(default=dict, blank=True, help_text="Where this run started (incremental kinds).")
    next_cursor = models.JSONField(default=dict, blank=True, help_text="Where the next run starts, once completed.")
    source_api = models.CharField(max_length=20, blank=True, help_text="e.g. 360Learning v2, v2 + v1, iSpring v3")
    pages = models.PositiveIntegerField(default=0)
    rows_inserted = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_removed = models.PositiveIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    reconciliation = models.JSONField(
        default=dict, blank=True, help_text="Per session: local counts that differ from the LMS's own counts."
    )
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["connection", "kind", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind"],
                condition=models.Q(state__in=["queued", "running"]),
                name="syncrun_one_active_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"Sync #{self.pk} ({self.get_kind_display()})"

    @property
    def has_differences(self) -> bool:
        return bool(self.reconciliation)

    @property
    def is_finished(self) -> bool:
        return self.state in (SyncState.COMPLETED, SyncState.FAILED)


class Alert(models.Model):
    """Something an admin must look at: repeated failures, or the LMS's counts disagreeing with
    the cache. At most one open alert per connection and key; it resolves itself when the next
    run succeeds."""

    class Kind(models.TextChoices):
        SYNC_FAILURES = "sync-failures", "Sync failing"
        IMPORT_FAILURES = "import-failures", "Import failing"
        RECONCILIATION = "reconciliation", "Counts differ from the LMS"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=100, help_text="What it is about, e.g. the sync kind or integration.")
    message = models.TextField()
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "key"],
                condition=models.Q(resolved_at__isnull=True),
                name="alert_one_open_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.connection}"


class AuditEntry(models.Model):
    """Who created, changed or deleted which connection or integration, and what changed.

    ``changes`` maps a field name to ``[old, new]``; secret fields only ever record
    ``"(changed)"``, never a value.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(
        max_length=150, help_text="Kept when the user is deleted; 'command line' for commands."
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display().lower()} {self.object_type} {self.object_repr}"
