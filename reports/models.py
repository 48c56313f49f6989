"""The local cache of LMS statistics that reports read (never the LMS itself on page load).

Every cached row belongs to one ``Connection`` and is unique on ``(connection, remote_id)``:

- ``remote_id`` is the LMS's own id (360Learning ``_id``). iSpring module results have no id
  of their own, so theirs is a digest of their natural key (see ``ModuleResult``).
- a sync rewrites a row only when its remote content changed, so re-syncing an unchanged
  tenant writes nothing and "updated" counts mean changed; ``synced_at`` is when the row's
  content last changed here; ``gone_at`` is set once a
  complete listing no longer returns the row (deleted remotely, or left the session), and
  cleared if it comes back. Reports read ``Model.objects.current()``.

How a sync writes (``integrations.sync``): each cache model has a ``…Stage`` twin holding what
one ``SyncRun`` fetched, keyed ``(run_id, remote_id)``. Pages are written to the stage as they
arrive; when every listing of the run is complete the stage is merged into the cache in one
transaction, then dropped. A report therefore sees the cache as of the last completed run and
never half a run (nor half a session); a failed or killed run changes nothing but its stage.

Indexes follow the report queries (issue 9): per-session status breakdowns and per-learner
tables (``PathSessionUserStat``), course statistics by course, learner, group and completion
date (``CourseAttempt``), iSpring results by course, module and completion status
(``ModuleResult``), sessions by start date and path (``PathSession``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.models import Connection, SyncRun


class CachedQuerySet(models.QuerySet):
    def current(self) -> CachedQuerySet:
        """Rows the LMS still returns (``gone_at`` unset)."""
        return self.filter(gone_at__isnull=True)


class Cached(models.Model):
    """Columns every cached row has; see the module docstring."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", db_index=False)
    remote_id = models.CharField(max_length=40)
    synced_at = models.DateTimeField(help_text="When this row's content last changed in the cache.")
    gone_at = models.DateTimeField(null=True, blank=True, help_text="When the LMS stopped returning it.")

    objects = CachedQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["connection", "remote_id"], name="%(app_label)s_%(class)s_remote_id"),
        ]

    def __str__(self) -> str:
        return self.remote_id


class Staged(models.Model):
    """What one sync run fetched, before it is merged into the cache (see the module docstring)."""

    run_id = models.BigIntegerField()
    remote_id = models.CharField(max_length=40)

    class Meta:
        abstract = True
        constraints = [
            # Also dedupes a row a run sees twice (two listings, a repeated page): the last one wins.
            models.UniqueConstraint(fields=["run_id", "remote_id"], name="%(app_label)s_%(class)s_run_remote_id"),
        ]


# Groups ------------------------------------------------------------------------------------------
class GroupFields(models.Model):
    name = models.TextField()
    parent_remote_id = models.CharField(max_length=24, blank=True)
    public = models.BooleanField(default=False)
    custom = models.TextField(blank=True)

    class Meta:
        abstract = True


class LmsGroup(GroupFields, Cached):
    """A 360Learning group (``/api/v2/groups``)."""

    class Meta(Cached.Meta):
        verbose_name = "LMS group"

    def __str__(self) -> str:
        return self.name


class LmsGroupStage(GroupFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


# Users -------------------------------------------------------------------------------------------
class UserFields(models.Model):
    mail = models.TextField(blank=True)
    username = models.TextField(blank=True)
    first_name = models.TextField(blank=True)
    last_name = models.TextField(blank=True)
    status = models.CharField(max_length=20, help_text="active | invited | deleted")
    lang = models.CharField(max_length=20, blank=True)
    job = models.TextField(blank=True)
    organization = models.TextField(blank=True)
    custom = models.TextField(blank=True, help_text="The user's free 'custom' field (UserDTO).")
    group_remote_id = models.CharField(max_length=24, blank=True, help_text="Primary group.")
    last_login_at = models.DateTimeField(null=True, blank=True)
    to_be_deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class LmsUser(UserFields, Cached):
    """A 360Learning user (``/api/v2/users``). ``group`` is the primary group; ``custom_fields``
    come from API v1 path-session stats (v2 has them only one user per call), so they stay
    empty without v1 credentials or for users in no synced session."""

    group = models.ForeignKey(LmsGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="users")
    custom_fields = models.JSONField(null=True, blank=True, help_text="{field name: value}, from API v1.")

    class Meta(Cached.Meta):
        verbose_name = "LMS user"
        indexes = [
            models.Index(fields=["connection", "mail"], name="reports_user_mail"),
            models.Index(fields=["connection", "last_name", "first_name"], name="reports_user_name"),
        ]

    def __str__(self) -> str:
        return " ".join(filter(None, (self.first_name, self.last_name))) or self.mail or self.remote_id


class LmsUserStage(UserFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


# Courses -----------------------------------------------------------------------------------------
class CourseFields(models.Model):
    name = models.TextField()
    status = models.CharField(max_length=20, help_text="published | archived | deleted")
    type = models.CharField(max_length=30, help_text="native | external | elearning standard")
    lang = models.CharField(max_length=20, help_text="Default language.")
    source_lang = models.CharField(max_length=20, blank=True)
    external_platform = models.TextField(blank=True)
    author_remote_id = models.CharField(max_length=24, blank=True)
    group_remote_id = models.CharField(max_length=24, blank=True)
    duration_minutes = models.FloatField(null=True, blank=True)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_modified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Course(CourseFields, Cached):
    """A 360Learning course (``/api/v2/courses``, every status). ``external_id`` is known for the
    external courses this product imported (from the import's per-record results)."""

    external_id = models.TextField(blank=True, default="", db_default="")

    class Meta(Cached.Meta):
        indexes = [models.Index(fields=["connection", "name"], name="reports_course_name")]

    def __str__(self) -> str:
        return self.name


class CourseStage(CourseFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


# Paths and path sessions -------------------------------------------------------------------------
class PathFields(models.Model):
    name = models.TextField()
    status = models.CharField(max_length=20, help_text="published | archived")
    lang = models.CharField(max_length=20)
    author_remote_id = models.CharField(max_length=24, blank=True)
    group_remote_id = models.CharField(max_length=24, blank=True)
    certificate_id = models.CharField(max_length=24, blank=True)
    course_remote_ids = models.JSONField(default=list, blank=True, help_text="Course steps, in order.")
    step_count = models.PositiveIntegerField(default=0)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_modified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Path(PathFields, Cached):
    """A 360Learning path (``/api/v2/paths``)."""

    class Meta(Cached.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class PathStage(PathFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


class PathSessionFields(models.Model):
    path_remote_id = models.CharField(max_length=24)
    name = models.TextField()
    group_remote_id = models.CharField(max_length=24, blank=True)
    main_instructor_remote_id = models.CharField(max_length=24, blank=True)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True, blank=True)
    user_limit = models.PositiveIntegerField(null=True, blank=True)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_modified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class PathSession(PathSessionFields, Cached):
    """A path session (``/api/v2/paths/sessions``) and where its learners' statistics stand.

    ``enrolled_count`` and ``stats_synced_at`` describe the user stats currently cached for it
    (set when they are swapped in); ``stats_run`` is the sync that brought them. The same sync
    stores their counts (``PathSessionLearnerCount``) and sets ``learner_counts_run_id``; a
    session synced before those counts existed has none, and reports count its learners live.
    """

    path = models.ForeignKey(
        Path, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions", db_index=False
    )
    enrolled_count = models.PositiveIntegerField(default=0, db_default=0)
    stats_synced_at = models.DateTimeField(null=True, blank=True)
    stats_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A plain id, not a key: deleting the run must not make it equal a NULL stats_run.
    learner_counts_run_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The sync whose learners PathSessionLearnerCount counts; reports read those counts "
        "only while it is also stats_run.",
    )

    class Meta(Cached.Meta):
        indexes = [
            models.Index(fields=["connection", "start_date"], name="reports_session_start"),
            models.Index(fields=["path", "start_date"], name="reports_session_path"),
        ]

    def __str__(self) -> str:
        return self.name


class PathSessionStage(PathSessionFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


# Path-session user stats -------------------------------------------------------------------------
DETAILED_STATUSES = (
    "notYetStarted",
    "onTime",
    "late",
    "awaitingCorrection",
    "successful",
    "toRetake",
    "unsuccessful",
    "sessionNotOpened",
)
#: The reason a status may carry (360Learning DetailedStatus.reason).
STATUS_REASONS = {"toRetake": ("mandatoryReplay",), "unsuccessful": ("sessionEnded",)}


class UserStatFields(models.Model):
    session_remote_id = models.CharField(max_length=24)
    user_remote_id = models.CharField(max_length=24)
    # Names, mail and group as the report shows them: API v1 where configured, else the users cache.
    first_name = models.TextField(blank=True)
    last_name = models.TextField(blank=True)
    mail = models.TextField(blank=True)
    group_remote_id = models.CharField(max_length=24, blank=True, help_text="The learner's primary group.")
    status_type = models.CharField(max_length=30, help_text="Detailed status type (360Learning DetailedStatus).")
    status_reason = models.CharField(max_length=30, blank=True, help_text="mandatoryReplay | sessionEnded | ''")
    progress = models.IntegerField(default=0)
    score = models.IntegerField(null=True, blank=True)
    time_spent_ms = models.BigIntegerField(default=0)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    self_enrolled = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True, help_text="First activity.")
    completed_at = models.DateTimeField(null=True, blank=True)
    unenrolled_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    certificate_id = models.CharField(max_length=24, blank=True)
    has_certificate = models.BooleanField(default=False)
    # API v1 enrichment; empty without v1 credentials.
    has_v1 = models.BooleanField(default=False)
    custom_fields = models.JSONField(default=dict, blank=True, help_text="{field name: value}, from API v1.")
    v1_status = models.CharField(max_length=30, blank=True, help_text="v1 userStatus: onTime | late | completed | …")
    v1_result = models.CharField(max_length=20, blank=True, help_text="v1 result: successful | unsuccessful | retake")

    class Meta:
        abstract = True


class PathSessionUserStat(UserStatFields, Cached):
    """One learner's statistics in one path session (``…/user-stats``, enriched by API v1).

    ``remote_id`` is the enrollment's ``_id``. ``last_activity_at`` is not in either API: it
    is the learner's latest activity on the session's courses, from the cached course attempts
    (``integrations.sync.derived``).
    """

    session = models.ForeignKey(PathSession, on_delete=models.CASCADE, related_name="user_stats", db_index=False)
    user = models.ForeignKey(
        LmsUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta(Cached.Meta):
        indexes = [
            # The breakdown (GROUP BY status, reason) and the status/reason filters of the learner table.
            models.Index(fields=["session", "status_type", "status_reason"], name="reports_userstat_status"),
            models.Index(fields=["session", "last_name", "first_name"], name="reports_userstat_name"),
            models.Index(fields=["session", "group_remote_id"], name="reports_userstat_group"),
            models.Index(fields=["session", "user_remote_id"], name="reports_userstat_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_remote_id} in {self.session_remote_id}: {self.status_type}"


class PathSessionUserStatStage(UserStatFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


class PathSessionStatusCounts(models.Model):
    """A path session's counts per detailed status as the LMS reports them (``…/user-statuses``),
    with v1's ``userStatus`` counts where API v1 is configured. One row per session."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.OneToOneField(PathSession, on_delete=models.CASCADE, related_name="lms_counts")
    awaiting_correction = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    not_yet_started = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    session_not_opened = models.PositiveIntegerField(default=0)
    successful = models.PositiveIntegerField(default=0)
    to_retake = models.PositiveIntegerField(default=0)
    unsuccessful = models.PositiveIntegerField(default=0)
    certificates = models.PositiveIntegerField(default=0)
    v1_user_status = models.JSONField(default=dict, blank=True, help_text="v1 userStatus counts, when known.")
    fetched_at = models.DateTimeField()
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    FIELD_BY_STATUS = {
        "awaitingCorrection": "awaiting_correction",
        "late": "late",
        "notYetStarted": "not_yet_started",
        "onTime": "on_time",
        "sessionNotOpened": "session_not_opened",
        "successful": "successful",
        "toRetake": "to_retake",
        "unsuccessful": "unsuccessful",
    }

    class Meta:
        verbose_name_plural = "path session status counts"

    def __str__(self) -> str:
        return f"Counts of {self.session_id}"

    def by_status(self) -> dict[str, int]:
        """Counts keyed by the remote detailed-status names, in report order."""
        return {status: getattr(self, self.FIELD_BY_STATUS[status]) for status in DETAILED_STATUSES}

    @property
    def enrolled(self) -> int:
        return sum(self.by_status().values())


class PathSessionLearnerCount(models.Model):
    """How many learners of a path session are in one detailed status and reason, and how many of
    them have a certificate, as the sync that last refreshed the session counted them
    (``integrations.sync.derived.learner_counts_store``, in the merge's transaction).

    Per status and reason, one row per primary group (``group_remote_id``; "" for learners in
    none) and one row for the whole session (``whole_session``: the sum of its group rows). Reports read the whole-
    session rows for readers who see every learner and sum the rows of a manager's groups for a
    scope made of groups only, instead of counting up to 100k learner rows on each page view.
    Valid while ``PathSession.learner_counts_run_id`` equals ``PathSession.stats_run_id``.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(PathSession, on_delete=models.CASCADE, related_name="learner_counts", db_index=False)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    whole_session = models.BooleanField(help_text="Counts every learner of the session, whatever their group.")
    group_remote_id = models.CharField(max_length=24, blank=True, help_text="The learners' primary group.")
    status_type = models.CharField(max_length=30)
    status_reason = models.CharField(max_length=30, blank=True)
    learners = models.PositiveIntegerField()
    certificates = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["session", "whole_session", "group_remote_id"], name="reports_learnercount_group")
        ]

    def __str__(self) -> str:
        group = "whole session" if self.whole_session else f"group {self.group_remote_id or '(none)'}"
        return f"{self.session_id}, {group}: {self.status_type} {self.status_reason}".rstrip() + f" = {self.learners}"


class PathSessionSnapshot(models.Model):
    """A session's status counts after one sync, for trends: local counts per detailed status
    and reason (``{type: {reason or "": n}}``), the LMS's own counts, and their differences."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(PathSession, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    taken_at = models.DateTimeField()
    enrolled = models.PositiveIntegerField()
    certificates = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    lms_counts = models.JSONField(default=dict, help_text="{type: n, 'certificates': n} from user-statuses.")
    differences = models.JSONField(default=dict, blank=True, help_text="{name: {'local': n, 'lms': m}}")

    class Meta:
        indexes = [models.Index(fields=["session", "taken_at"], name="reports_snapshot_session")]

    def __str__(self) -> str:
        return f"Snapshot of {self.session_id} at {self.taken_at:%Y-%m-%d %H:%M}"

    def counts_by_type(self) -> dict[str, int]:
        return {status: sum(reasons.values()) for status, reasons in self.counts.items()}


# Course attempts -----------------------------------------------------------------------------------
class AttemptFields(models.Model):
    course_remote_id = models.CharField(max_length=24)
    user_remote_id = models.CharField(max_length=24)
    lang = models.CharField(max_length=20, blank=True)
    time_spent_ms = models.BigIntegerField(default=0)
    progress = models.IntegerField(default=0)
    score = models.IntegerField(null=True, blank=True)
    first_activity_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version_number = models.IntegerField(null=True, blank=True)
    path_remote_id = models.CharField(max_length=24, blank=True)
    session_remote_id = models.CharField(max_length=24, blank=True)

    class Meta:
        abstract = True


class CourseAttempt(AttemptFields, Cached):
    """One attempt of one learner on one course (a row of ``/api/v2/courses/stats``).

    Filter by group through ``user__group``. ``course`` and ``user`` are linked once those
    rows are cached (a course-stats sync may run before the users sync).
    """

    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts", db_index=False
    )
    user = models.ForeignKey(
        LmsUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts", db_index=False
    )

    class Meta(Cached.Meta):
        indexes = [
            models.Index(fields=["course", "completed_at"], name="reports_attempt_course"),
            models.Index(fields=["user", "completed_at"], name="reports_attempt_user"),
            models.Index(fields=["connection", "completed_at"], name="reports_attempt_completed"),
            # An import's preview looks up the attempts of each learner of the file by remote id
            # (the user link may not be made yet): without it, one scan of every attempt a batch.
            models.Index(fields=["connection", "user_remote_id"], name="reports_attempt_learner"),
        ]


class CourseAttemptStage(AttemptFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


# iSpring Learn module results ----------------------------------------------------------------------
class ModuleResultFields(models.Model):
    user_id = models.CharField(max_length=36)
    user_status = models.PositiveSmallIntegerField(help_text="1 active, 3 blocked (the listing it came from).")
    course_id = models.CharField(max_length=36)
    module_id = models.CharField(max_length=36)
    module_title = models.TextField()
    course_item_id = models.CharField(max_length=36)
    enrollment_id = models.CharField(max_length=36, blank=True)
    access_date = models.DateTimeField()
    due_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    completion_date = models.DateTimeField(null=True, blank=True)
    completion_status = models.CharField(max_length=20)
    time_spent_s = models.IntegerField(null=True, blank=True)
    progress = models.FloatField(null=True, blank=True)
    awarded_score = models.FloatField(null=True, blank=True)
    passing_score = models.FloatField(null=True, blank=True)
    is_overdue = models.BooleanField(default=False)
    views_count = models.IntegerField(null=True, blank=True)

    class Meta:
        abstract = True


class ModuleResult(ModuleResultFields, Cached):
    """One learner's result on one iSpring module (``/learners/modules/results``).

    iSpring gives results no id: ``remote_id`` is a digest of (user, module, course item,
    enrollment), the natural key. The answer carries no department.
    """

    class Meta(Cached.Meta):
        indexes = [
            models.Index(
                fields=["connection", "course_id", "module_id", "completion_status"], name="reports_result_module"
            ),
            models.Index(fields=["connection", "completion_status"], name="reports_result_status"),
            models.Index(fields=["connection", "user_id"], name="reports_result_user"),
            models.Index(fields=["connection", "completion_date"], name="reports_result_completed"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.module_title}: {self.completion_status}"


class ModuleResultStage(ModuleResultFields, Staged):
    class Meta(Staged.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


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
