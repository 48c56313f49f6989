"""What reports keep of their own: managers' scopes, e-mail digests and background exports.

The LMS data they read is ``lms_cache.models`` (which syncs write); these point at it by key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.models import SyncRun
from lms_cache.models import Course, LmsGroup, PathSession


# Manager scope -------------------------------------------------------------------------------------
class ManagerScope(models.Model):
    """Which learners one manager's reports, exports and digests show (``reports.scopes``).

    ``every_learner`` shows them all. Otherwise a learner is in scope when their primary group is
    one of ``groups`` (with its subgroups when ``include_subgroups``) and/or their field matches
    the rule; ``match`` says which when both are set. A manager with no scope sees no learner.
    """

    class RuleField(models.TextChoices):
        NONE = "", "No rule"
        MAIL = "mail", "Learner's e-mail"
        CUSTOM = "custom", "Custom field (API v1)"

    class Operator(models.TextChoices):
        EQUALS = "equals", "is"
        CONTAINS = "contains", "contains"
        ENDS_WITH = "ends_with", "ends with"

    class Match(models.TextChoices):
        ANY = "any", "in one of the groups, or matching the rule"
        ALL = "all", "in one of the groups, and matching the rule"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_scope")
    every_learner = models.BooleanField(default=False, help_text="See every learner of every connection.")
    groups = models.ManyToManyField(LmsGroup, blank=True, related_name="+", help_text="360Learning groups.")
    include_subgroups = models.BooleanField(default=True, help_text="Learners of the groups' subgroups too.")
    rule_field = models.CharField(max_length=10, choices=RuleField.choices, default="", blank=True)
    rule_custom_field = models.CharField(max_length=200, blank=True, help_text="The custom field's name.")
    rule_operator = models.CharField(max_length=10, choices=Operator.choices, default=Operator.EQUALS)
    rule_value = models.CharField(max_length=254, blank=True)
    rule_value_is_manager_mail = models.BooleanField(
        default=False, help_text="Compare with the manager's own e-mail address instead of a fixed value."
    )
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ANY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "manager scope"

    def __str__(self) -> str:
        return f"Scope of {self.user}"


# Digests ---------------------------------------------------------------------------------------------
class DigestSubscription(models.Model):
    """A reader's e-mail digest of what changed in some path sessions and courses
    (``reports.digests``). ``next_due_at`` is the next scheduled send, in UTC."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    sessions = models.ManyToManyField(PathSession, blank=True, related_name="+")
    courses = models.ManyToManyField(Course, blank=True, related_name="+")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="Weekly digests: 0 is Monday.")
    send_at = models.TimeField(help_text="Local time of day, in time_zone.")
    time_zone = models.CharField(max_length=64)
    next_due_at = models.DateTimeField()
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveSmallIntegerField(default=0, help_text="Failed sends in a row.")
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["next_due_at"], name="reports_digest_due")]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} digest #{self.pk} of {self.user}"

    @property
    def active(self) -> bool:
        return self.unsubscribed_at is None


class DigestChange(models.Model):
    """One learner's change in a subscribed session or course, recorded by the sync that saw
    it and kept until the subscription's next digest has taken it into account.

    Sessions: ``old_status`` → ``new_status`` are detailed status types (``old_status`` empty
    for a learner new to the session). Courses: ``new_status`` is ``completed`` for an attempt
    that became completed."""

    subscription = models.ForeignKey(DigestSubscription, on_delete=models.CASCADE, related_name="changes")
    session = models.ForeignKey(PathSession, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user_remote_id = models.CharField(max_length=24)
    old_status = models.CharField(max_length=30, blank=True)
    new_status = models.CharField(max_length=30)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_remote_id}: {self.old_status or '—'} → {self.new_status}"


# Background exports ----------------------------------------------------------------------------------
class ReportExport(models.Model):
    """One report export written by a worker rather than inside the web request
    (``reports.background_exports``): too many rows to finish well within the web timeout.

    The worker re-builds the table from ``query`` under the owner's scope at run time, so a
    file holds exactly what the same link would have streamed. It writes to a temporary file
    and renames it into ``file_path`` (relative to ``EXPORT_FILES_DIR``) only when complete;
    a worker that dies leaves its lease to lapse and the export is written again from row 0.
    Only the owner ever sees or downloads an export.
    """

    class Report(models.TextChoices):
        SESSIONS = "sessions", "Path sessions"
        PATH_SESSION_LEARNERS = "path-session-learners", "Learners of a path session"
        COURSE_STATS = "course-stats", "Course statistics"
        ATTEMPTS = "attempts", "Course attempts"
        MODULE_RESULTS = "module-results", "iSpring module results"
        MODULE_RESULT_ROWS = "module-result-rows", "iSpring module results, one row per result"
        LEARNERS = "learners", "Learners across connections"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Deleted (expired)"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports")
    report = models.CharField(max_length=30, choices=Report.choices)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    query = models.TextField(blank=True, help_text="The report's filters, as the export link's query string.")
    sidecar = models.BooleanField(default=False, help_text="With the provenance row above the header.")
    session = models.ForeignKey(PathSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    request_key = models.CharField(
        max_length=64, help_text="Digest of what was asked (report, format, session, filters, sidecar)."
    )
    filters_text = models.TextField(blank=True, help_text="The filters in words, as the page showed them.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_written = models.BigIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True, help_text="The name the download is given.")
    file_path = models.CharField(max_length=255, blank=True, help_text="Where the file is, in EXPORT_FILES_DIR.")
    file_size = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed, in plain words.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started writing it.")
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="reports_export_owner"),
            models.Index(fields=["state", "expires_at"], name="reports_export_state"),
        ]
        constraints = [
            # A double click or a reload joins the export already under way, even when two
            # requests race: only one active export per owner and request.
            models.UniqueConstraint(
                fields=["owner", "request_key"],
                condition=models.Q(state__in=["queued", "running"]),
                name="reports_export_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_report_display()} ({self.get_file_format_display()}) export #{self.pk} of {self.owner}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED, self.State.EXPIRED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.state == self.State.DONE else 0
        return min(100, self.rows_written * 100 // self.rows_total)
