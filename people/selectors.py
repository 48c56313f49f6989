"""Reading people: who a learner record is elsewhere."""

from __future__ import annotations

from django.db.models import QuerySet

from lms_cache.models import LmsUser
from people.models import Person, PersonRecord


def counterparts(*, from_connection_id: int, to_connection_id: int) -> dict[str, LmsUser]:
    """The learner of ``to_connection`` each learner of ``from_connection`` is, by the first's
    remote id (its LMS's user id). Learners with no counterpart are absent; when a person has
    several records in ``to_connection`` (one shared e-mail), the first one is kept."""
    theirs = PersonRecord.objects.filter(connection_id=to_connection_id).select_related("user").order_by("user_id")
    by_person: dict[int, LmsUser] = {}
    for record in theirs.filter(
        person__in=PersonRecord.objects.filter(connection_id=from_connection_id).values("person_id")
    ):
        by_person.setdefault(record.person_id, record.user)
    ours = PersonRecord.objects.filter(connection_id=from_connection_id, person_id__in=by_person).values_list(
        "user__remote_id", "person_id"
    )
    return {remote_id: by_person[person_id] for remote_id, person_id in ours}


def person_records(person: Person) -> QuerySet[PersonRecord]:
    """A person's learner records with their connections, by connection name."""
    return person.records.select_related("user", "connection").order_by("connection__name", "user_id")
