"""A move of one LMS's learning history into a 360Learning integration.

A move proposes external courses from the iSpring Learn courses in the cache (``MoveCourse``:
the admin may rename them, change their launch URL or leave them out), then writes them and the
learners' statistics as two files read into two draft imports (``courses_run``, then
``stats_run``, which follows it). Rows that cannot be sent are kept as ``MoveLeftOut`` with
their line, field and reason. Sending launches the courses import, then the statistics import
once the first has ended (``moves.services.move_advance``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.imports.kinds import COURSES_FIELDS, STATS_FIELDS


class MoveState(models.TextChoices):
    PROPOSED = "proposed", "Courses proposed"
    PREVIEWING = "previewing", "Preparing the preview"
    PREVIEWED = "previewed", "Previewed (nothing sent)"
    SENDING_COURSES = "sending-courses", "Sending courses"
    SENDING_STATS = "sending-stats", "Sending learner statistics"
    DONE = "done", "Done"


SENDING_STATES = (MoveState.SENDING_COURSES, MoveState.SENDING_STATS)


class HistoryMove(models.Model):
    source = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The iSpring Learn connection whose cached module results are moved.",
    )
    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="+")
    default_lang = models.CharField(max_length=10, default="en")
    launch_url = models.URLField(
        max_length=500, help_text="Where learners open the moved courses, unless a course says."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=20, choices=MoveState.choices, default=MoveState.PROPOSED)
    courses_run = models.ForeignKey(
        "integrations.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stats_run = models.ForeignKey(
        "integrations.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preview_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preview_requested_at = models.DateTimeField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    course_rows = models.PositiveIntegerField(default=0, help_text="Courses written to the courses file.")
    stat_rows = models.PositiveIntegerField(default=0, help_text="Statistics written to the statistics file.")
    left_out_rows = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="What the last step said (nothing to send, …).")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Move #{self.pk} into {self.integration}"

    @property
    def is_sending(self) -> bool:
        return self.state in SENDING_STATES

    @property
    def runs(self) -> list:
        return [run for run in (self.courses_run, self.stats_run) if run is not None]


class MoveCourse(models.Model):
    """An iSpring Learn course proposed as an external course."""

    move = models.ForeignKey(HistoryMove, on_delete=models.CASCADE, related_name="courses")
    position = models.PositiveIntegerField()
    source_course_id = models.CharField(max_length=36, help_text="The iSpring Learn course id.")
    external_id = models.CharField(max_length=255)
    proposed_name = models.TextField()
    name = models.TextField()
    launch_url = models.URLField(max_length=500)
    include = models.BooleanField(default=True)
    modules = models.PositiveIntegerField(default=0)
    learners = models.PositiveIntegerField(default=0, help_text="Learners with a result on it.")

    class Meta:
        ordering = ["move", "position"]
        constraints = [
            models.UniqueConstraint(fields=["move", "source_course_id"], name="movecourse_unique_course"),
        ]

    def __str__(self) -> str:
        return self.name


class MoveLeftOut(models.Model):
    """A row the move does not send, with why: its line in the file it would have been in."""

    class File(models.TextChoices):
        COURSES = "courses", "Courses"
        STATS = "stats", "Learner statistics"

    move = models.ForeignKey(HistoryMove, on_delete=models.CASCADE, related_name="left_out")
    file = models.CharField(max_length=10, choices=File.choices)
    line = models.PositiveIntegerField()
    course = models.TextField(blank=True)
    learner = models.TextField(blank=True, help_text="The learner's iSpring Learn e-mail (or id without one).")
    field = models.CharField(max_length=100)
    reason = models.TextField()

    class Meta:
        ordering = ["move", "file", "line"]

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason}"

    @property
    def field_label(self) -> str:
        """The field as the import pages name it ("Learner e-mail", not ``userMail``)."""
        specs = COURSES_FIELDS if self.file == self.File.COURSES else STATS_FIELDS
        return next((spec.label for spec in specs if spec.name == self.field), self.field)
