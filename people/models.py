"""People: learner records of every connection grouped into persons (see ``people.matching``).

``Person`` and ``PersonRecord`` are derived: ``people.services.people_rematch`` rewrites them
from the users cache and the admins' ``LearnerLink`` decisions, which are the only facts kept
here. A person's id survives a rematch when its records stay together.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from people.matching import MATCHED_BY_HAND, MATCHED_BY_MAIL, UNMATCHED


class Person(models.Model):
    """One human across the connected LMSs. Name and e-mail are those of its first record
    with a name (by connection, then record), for display and sorting."""

    first_name = models.TextField(blank=True)
    last_name = models.TextField(blank=True)
    mail = models.TextField(blank=True, help_text="Trimmed, as its first record spells it.")
    lms_count = models.PositiveSmallIntegerField(default=1, help_text="How many connections know this person.")
    matched_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="people_person_name"),
            models.Index(fields=["mail"], name="people_person_mail"),
        ]

    def __str__(self) -> str:
        return " ".join(filter(None, (self.first_name, self.last_name))) or self.mail or f"Person {self.pk}"


class PersonRecord(models.Model):
    """One learner record (a cached ``LmsUser``) of a person, and how it was matched."""

    class Matched(models.TextChoices):
        MAIL = MATCHED_BY_MAIL, "Same e-mail"
        HAND = MATCHED_BY_HAND, "Linked by hand"
        ALONE = UNMATCHED, "In one LMS only"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="records")
    user = models.OneToOneField("lms_cache.LmsUser", on_delete=models.CASCADE, related_name="person_record")
    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE, related_name="+")
    matched = models.CharField(max_length=10, choices=Matched.choices)

    class Meta:
        indexes = [models.Index(fields=["connection", "person"], name="people_record_connection")]

    def __str__(self) -> str:
        return f"{self.user} in {self.person}"


class LearnerLink(models.Model):
    """An L&D admin's decision that two learner records are the same person (``same_person``)
    or are not, whatever their e-mails say. ``first`` is the record with the smaller id."""

    first = models.ForeignKey("lms_cache.LmsUser", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("lms_cache.LmsUser", on_delete=models.CASCADE, related_name="+")
    same_person = models.BooleanField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="people_link_pair"),
            models.CheckConstraint(condition=models.Q(first__lt=models.F("second")), name="people_link_ordered"),
        ]

    def __str__(self) -> str:
        verb = "same person as" if self.same_person else "not the same person as"
        return f"{self.first} {verb} {self.second}"


class MatchState(models.Model):
    """One row: locked while people are rematched, so two rematches never interleave."""

    rematched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"People matched at {self.rematched_at}"
