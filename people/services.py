"""Matching people again, and the admins' link and unlink decisions (audited)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from integrations.models import AuditEntry
from integrations.services.audit import audit_record
from lms_cache.models import LmsUser
from people.matching import Decision, Record, mail_key, match
from people.models import LearnerLink, MatchState, Person, PersonRecord

BATCH = 2000
SAME_CONNECTION = "Both records are in the same LMS connection: a person has one record per connection."
SAME_RECORD = "Pick two different learner records."


@dataclass(frozen=True)
class RematchSummary:
    people: int
    created: int
    changed: int
    removed: int


def people_rematch(*, around: Iterable[int] | None = None) -> RematchSummary:
    """Group the cached learner records into people again (``people.matching``) and write only
    what changed. A person keeps its id while any of its records stays in it.

    ``around`` (learner record ids) rematches only the records that can be grouped with them
    (their people, their e-mails, the admins' decisions about them): what a link or an unlink
    changes, in a web request's bounded time. Without it, every record (after a users sync).
    """
    with transaction.atomic():
        state, _ = MatchState.objects.select_for_update().get_or_create(pk=1)
        users = LmsUser.objects.order_by("connection_id", "pk")
        if around is not None:
            users = users.filter(pk__in=_reachable(set(around)))
        rows = list(users.values_list("pk", "connection_id", "mail", "first_name", "last_name"))
        decisions = [
            Decision(first, second, same)
            for first, second, same in LearnerLink.objects.values_list("first_id", "second_id", "same_person")
        ]
        matched = match((Record(pk, mail) for pk, _, mail, _, _ in rows), decisions)
        summary = _write(rows, matched, everyone=around is None)
        state.rematched_at = timezone.now()
        state.save(update_fields=["rematched_at"])
    return summary


def _reachable(user_ids: set[int]) -> set[int]:
    """``user_ids`` and every record a rematch could group with them, to a fixed point."""
    found, frontier = set(user_ids), set(user_ids)
    while frontier:
        people = PersonRecord.objects.filter(user_id__in=frontier).values("person_id")
        keys = {mail_key(m) for m in LmsUser.objects.filter(pk__in=frontier).values_list("mail", flat=True)} - {""}
        linked = LearnerLink.objects.filter(Q(first_id__in=frontier) | Q(second_id__in=frontier))
        reached = set(PersonRecord.objects.filter(person_id__in=people).values_list("user_id", flat=True))
        reached |= set(
            LmsUser.objects.annotate(key=Lower(Trim("mail"))).filter(key__in=keys).values_list("pk", flat=True)
        )
        for first, second in linked.values_list("first_id", "second_id"):
            reached |= {first, second}
        frontier = reached - found
        found |= frontier
    return found


def _write(users: list[tuple], matched: dict[int, tuple[int, str]], *, everyone: bool) -> RematchSummary:
    now = timezone.now()
    records = PersonRecord.objects.all() if everyone else PersonRecord.objects.filter(user_id__in=matched)
    current = {
        user_id: (person_id, how) for user_id, person_id, how in records.values_list("user_id", "person_id", "matched")
    }
    members: dict[int, list[tuple]] = defaultdict(list)  # group root → users, by connection then pk
    for user in users:
        members[matched[user[0]][0]].append(user)
    person_ids: dict[int, int] = {}  # group root → person id
    claimed: set[int] = set()
    for root, group in members.items():
        for user in group:  # keep the id of a person one of its records already had
            person_id = current[user[0]][0] if user[0] in current else None
            if person_id is not None and person_id not in claimed:
                person_ids[root] = person_id
                claimed.add(person_id)
                break
    touched: set[int] = set()
    new_people = [root for root in members if root not in person_ids]
    for start in range(0, len(new_people), BATCH):
        roots = new_people[start : start + BATCH]
        made = Person.objects.bulk_create([_person(members[root], now) for root in roots])
        for root, person in zip(roots, made, strict=True):
            person_ids[root] = person.pk
    to_create, to_update = [], []
    for root, group in members.items():
        person_id = person_ids[root]
        for pk, connection_id, *_ in group:
            how = matched[pk][1]
            before = current.get(pk)
            if before is None:
                to_create.append(
                    PersonRecord(person_id=person_id, user_id=pk, connection_id=connection_id, matched=how)
                )
                touched.add(person_id)
            elif before != (person_id, how):
                to_update.append(
                    PersonRecord(person_id=person_id, user_id=pk, connection_id=connection_id, matched=how)
                )
                touched |= {person_id, before[0]}
    if to_update:
        ids = dict(PersonRecord.objects.filter(user_id__in=[r.user_id for r in to_update]).values_list("user_id", "pk"))
        for record in to_update:
            record.pk = ids[record.user_id]
        PersonRecord.objects.bulk_update(to_update, ["person", "matched"], batch_size=BATCH)
    PersonRecord.objects.bulk_create(to_create, batch_size=BATCH)
    removed = Person.objects.filter(records__isnull=True).delete()[1].get("people.Person", 0)
    new_ids = {person_ids[root] for root in new_people}
    updates = []
    for root, person_id in person_ids.items():
        if person_id in touched and person_id not in new_ids:
            person = _person(members[root], now)
            person.pk = person_id
            updates.append(person)
    Person.objects.bulk_update(
        updates, ["first_name", "last_name", "mail", "lms_count", "matched_at"], batch_size=BATCH
    )
    return RematchSummary(people=len(members), created=len(new_people), changed=len(updates), removed=removed)


def _person(group: list[tuple], now) -> Person:
    named = next((u for u in group if u[3] or u[4]), group[0])
    return Person(
        first_name=named[3],
        last_name=named[4],
        mail=named[2].strip(),
        lms_count=len({u[1] for u in group}),
        matched_at=now,
    )


# Links and unlinks ----------------------------------------------------------------------------
def _pair(first: LmsUser, second: LmsUser) -> tuple[LmsUser, LmsUser]:
    if first.pk == second.pk:
        raise ValueError(SAME_RECORD)
    if first.connection_id == second.connection_id:
        raise ValueError(SAME_CONNECTION)
    return (first, second) if first.pk < second.pk else (second, first)


def _describe(first: LmsUser, second: LmsUser) -> str:
    return f"{_record_label(first)} and {_record_label(second)}"


def _record_label(user: LmsUser) -> str:
    return f"{user} <{user.mail.strip()}> ({user.connection.name})"


def learner_link_decide(*, actor, first: LmsUser, second: LmsUser, same_person: bool) -> LearnerLink:
    """Record that two learner records of different connections are (or are not) one person,
    replacing an earlier decision on the same pair; audited; people are matched again.

    Raises ``ValueError`` for one record twice or two records of one connection.
    """
    first, second = _pair(first, second)
    with transaction.atomic():
        description = _describe(first, second)
        earlier = LearnerLink.objects.filter(first=first, second=second).first()
        before = {"same_person": earlier.same_person, "records": description} if earlier else {}
        link, created = LearnerLink.objects.update_or_create(
            first=first,
            second=second,
            defaults={"same_person": same_person, "decided_by": actor, "decided_at": timezone.now()},
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            instance=link,
            before=before,
            after={"same_person": same_person, "records": description},
        )
        people_rematch(around=[first.pk, second.pk])
    return link


def learner_link_forget(*, actor, link: LearnerLink) -> None:
    """Withdraw an admin's decision: the two records match by e-mail alone again. Audited."""
    with transaction.atomic():
        description = _describe(link.first, link.second)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            instance=link,
            before={"same_person": link.same_person, "records": description},
        )
        link.delete()
        people_rematch(around=[link.first_id, link.second_id])
