"""The local cache of LMS statistics: syncs write it (``integrations.sync``), reports read it
(never the LMS itself on page load).

The tables kept the ``reports_`` names they had when the ``reports`` app held these models
(``lms_cache/migrations/0001_initial.py`` moved them without touching a row).

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

from datetime import timedelta

from django.db import models


class CachedQuerySet(models.QuerySet):
    def current(self) -> CachedQuerySet:
        """Rows the LMS still returns (``gone_at`` unset)."""
        return self.filter(gone_at__isnull=True)


class Cached(models.Model):
    """Columns every cached row has; see the module docstring."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    remote_id = models.CharField(max_length=40)
    synced_at = models.DateTimeField(help_text="When this row's content last changed in the cache.")
    gone_at = models.DateTimeField(null=True, blank=True, help_text="When the LMS stopped returning it.")

    objects = CachedQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            # "reports_", not %(app_label)s: the name the constraint got when reports held the model.
            models.UniqueConstraint(fields=["connection", "remote_id"], name="reports_%(class)s_remote_id"),
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
            # "reports_" as above.
            models.UniqueConstraint(fields=["run_id", "remote_id"], name="reports_%(class)s_run_remote_id"),
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
        db_table = "reports_lmsgroup"  # created by reports; kept so the move rewrote no data
        verbose_name = "LMS group"

    def __str__(self) -> str:
        return self.name


class LmsGroupStage(GroupFields, Staged):
    class Meta(Staged.Meta):
        db_table = "reports_lmsgroupstage"  # created by reports; kept so the move rewrote no data

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


# Users -------------------------------------------------------------------------------------------
class UserFields(models.Model):
    mail = models.TextField(blank=True)
    username = models.TextField(blank=True)
    first_name = models.TextField(blank=True)
    last_name = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, help_text="360Learning: active | invited | deleted; iSpring Learn: active | inactive | ended"
    )
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
    """A 360Learning user (``/api/v2/users``) or an iSpring Learn one (``GET /users``: no group,
    the login as ``username``). ``group`` is the primary group; ``custom_fields``
    come from API v1 path-session stats (v2 has them only one user per call), so they stay
    empty without v1 credentials or for users in no synced session."""

    group = models.ForeignKey(LmsGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="users")
    custom_fields = models.JSONField(null=True, blank=True, help_text="{field name: value}, from API v1.")

    class Meta(Cached.Meta):
        db_table = "reports_lmsuser"  # created by reports; kept so the move rewrote no data
        verbose_name = "LMS user"
        indexes = [
            models.Index(fields=["connection", "mail"], name="reports_user_mail"),
            models.Index(fields=["connection", "last_name", "first_name"], name="reports_user_name"),
        ]

    def __str__(self) -> str:
        return " ".join(filter(None, (self.first_name, self.last_name))) or self.mail or self.remote_id


class LmsUserStage(UserFields, Staged):
    class Meta(Staged.Meta):
        db_table = "reports_lmsuserstage"  # created by reports; kept so the move rewrote no data

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
        db_table = "reports_course"  # created by reports; kept so the move rewrote no data
        indexes = [models.Index(fields=["connection", "name"], name="reports_course_name")]

    def __str__(self) -> str:
        return self.name


class CourseStage(CourseFields, Staged):
    class Meta(Staged.Meta):
        db_table = "reports_coursestage"  # created by reports; kept so the move rewrote no data

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
        db_table = "reports_path"  # created by reports; kept so the move rewrote no data

    def __str__(self) -> str:
        return self.name


class PathStage(PathFields, Staged):
    class Meta(Staged.Meta):
        db_table = "reports_pathstage"  # created by reports; kept so the move rewrote no data

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


#: How long after a session ends the LMS may still settle final statuses (such as
#: ``unsuccessful/sessionEnded``): syncs keep refreshing a session until then, and reports call
#: the numbers of a session synced this long after its end final.
ENDED_GRACE = timedelta(days=2)


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
    stats_run = models.ForeignKey(
        "integrations.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A plain id, not a key: deleting the run must not make it equal a NULL stats_run.
    learner_counts_run_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The sync whose learners PathSessionLearnerCount counts; reports read those counts "
        "only while it is also stats_run.",
    )

    class Meta(Cached.Meta):
        db_table = "reports_pathsession"  # created by reports; kept so the move rewrote no data
        indexes = [
            models.Index(fields=["connection", "start_date"], name="reports_session_start"),
            models.Index(fields=["path", "start_date"], name="reports_session_path"),
        ]

    def __str__(self) -> str:
        return self.name


class PathSessionStage(PathSessionFields, Staged):
    class Meta(Staged.Meta):
        db_table = "reports_pathsessionstage"  # created by reports; kept so the move rewrote no data

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
        db_table = "reports_pathsessionuserstat"  # created by reports; kept so the move rewrote no data
        indexes = [
            # The breakdown (GROUP BY status, reason) and the status/reason filters of the learner table.
            models.Index(fields=["session", "status_type", "status_reason"], name="reports_userstat_status"),
            models.Index(fields=["session", "last_name", "first_name"], name="reports_userstat_name"),
            models.Index(fields=["session", "group_remote_id"], name="reports_userstat_group"),
            models.Index(fields=["session", "user_remote_id"], name="reports_userstat_user"),
            # One learner's sessions across the connection (the Learners report, a page of people
            # at a time, and its shared-status filter): without it, a scan of every learner row.
            models.Index(fields=["connection", "user_remote_id"], name="lms_cache_userstat_learner"),
        ]

    def __str__(self) -> str:
        return f"{self.user_remote_id} in {self.session_remote_id}: {self.status_type}"


class PathSessionUserStatStage(UserStatFields, Staged):
    class Meta(Staged.Meta):
        db_table = "reports_pathsessionuserstatstage"  # created by reports; kept so the move rewrote no data

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"


class PathSessionStatusCounts(models.Model):
    """A path session's counts per detailed status as the LMS reports them (``…/user-statuses``),
    with v1's ``userStatus`` counts where API v1 is configured. One row per session."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+", db_index=False
    )
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
    sync_run = models.ForeignKey(
        "integrations.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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
        db_table = "reports_pathsessionstatuscounts"  # created by reports; kept so the move rewrote no data
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

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    session = models.ForeignKey(PathSession, on_delete=models.CASCADE, related_name="learner_counts", db_index=False)
    sync_run = models.ForeignKey(
        "integrations.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    whole_session = models.BooleanField(help_text="Counts every learner of the session, whatever their group.")
    group_remote_id = models.CharField(max_length=24, blank=True, help_text="The learners' primary group.")
    status_type = models.CharField(max_length=30)
    status_reason = models.CharField(max_length=30, blank=True)
    learners = models.PositiveIntegerField()
    certificates = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "reports_pathsessionlearnercount"  # created by reports; kept so the move rewrote no data
        indexes = [
            models.Index(fields=["session", "whole_session", "group_remote_id"], name="reports_learnercount_group")
        ]

    def __str__(self) -> str:
        group = "whole session" if self.whole_session else f"group {self.group_remote_id or '(none)'}"
        return f"{self.session_id}, {group}: {self.status_type} {self.status_reason}".rstrip() + f" = {self.learners}"


class PathSessionSnapshot(models.Model):
    """A session's status counts after one sync, for trends: local counts per detailed status
    and reason (``{type: {reason or "": n}}``), the LMS's own counts, and their differences."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    session = models.ForeignKey(PathSession, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    sync_run = models.ForeignKey(
        "integrations.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField()
    enrolled = models.PositiveIntegerField()
    certificates = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    lms_counts = models.JSONField(default=dict, help_text="{type: n, 'certificates': n} from user-statuses.")
    differences = models.JSONField(default=dict, blank=True, help_text="{name: {'local': n, 'lms': m}}")

    class Meta:
        db_table = "reports_pathsessionsnapshot"  # created by reports; kept so the move rewrote no data
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
        db_table = "reports_courseattempt"  # created by reports; kept so the move rewrote no data
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
        db_table = "reports_courseattemptstage"  # created by reports; kept so the move rewrote no data

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
    time_spent_seconds = models.IntegerField(null=True, blank=True)
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
        db_table = "reports_moduleresult"  # created by reports; kept so the move rewrote no data
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
        db_table = "reports_moduleresultstage"  # created by reports; kept so the move rewrote no data

    def __str__(self) -> str:
        return f"{self.remote_id} staged by sync #{self.run_id}"
