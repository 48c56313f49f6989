"""People across the sandbox's two tenants over real HTTP: after ``sync_lms users`` on both
connections, people are exactly the seed's (``sandbox.seeding.ispring_person``): learner ``i``
of iSpring Learn is 360Learning user ``i`` unless the seed made them iSpring-only, whatever the
case and spaces of their e-mail; 360Learning users beyond the iSpring learners stand alone.
Links and unlinks by hand regroup them, are audited, and survive the next sync."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from integrations.models import AuditEntry
from lms_cache.models import LmsUser
from people.models import LearnerLink, Person, PersonRecord
from people.services import RematchSummary, learner_link_decide, learner_link_forget, people_rematch
from sandbox import models as remote, seeding

pytestmark = pytest.mark.django_db(transaction=True)


def _sync_users(*connections) -> None:
    for connection in connections:
        call_command("sync_lms", "users", "--connection", connection.name, stdout=StringIO(), stderr=StringIO())


def expected_people(tenant_id: int) -> tuple[set[tuple[str, str]], set[str]]:
    """From the seed alone: the (360Learning user id, iSpring user id) pairs that are one
    person, and the ids of the iSpring-only learners."""
    users_360 = list(remote.User.objects.filter(tenant=tenant_id).order_by("pk").values_list("oid", flat=True))
    learners = remote.IspringUser.objects.filter(tenant=tenant_id).order_by("pk").values_list("user_uuid", flat=True)
    pairs, ispring_only = set(), set()
    for i, learner in enumerate(learners):
        if seeding.ispring_person(i) == seeding.ISPRING_ONLY:
            ispring_only.add(learner)
        else:
            pairs.add((users_360[i], learner))
    return pairs, ispring_only


def _people() -> dict[int, dict[int, str]]:
    """{person id: {connection id: remote id}}."""
    people: dict[int, dict[int, str]] = {}
    for person_id, connection_id, remote_id in PersonRecord.objects.values_list(
        "person_id", "connection_id", "user__remote_id"
    ):
        people.setdefault(person_id, {})[connection_id] = remote_id
    return people


def test_people_match_across_the_two_tenants_exactly_as_the_seed_intended(connection_360, connection_ispring, sandbox):
    _sync_users(connection_360, connection_ispring)

    pairs, ispring_only = expected_people(sandbox.tenant.pk)
    people = _people().values()
    both = {(p[connection_360.pk], p[connection_ispring.pk]) for p in people if len(p) == 2}
    only_ispring = {p[connection_ispring.pk] for p in people if set(p) == {connection_ispring.pk}}
    only_360 = {p[connection_360.pk] for p in people if set(p) == {connection_360.pk}}
    cached_360 = set(LmsUser.objects.filter(connection=connection_360).values_list("remote_id", flat=True))
    # Every variation of the seed shows up: same e-mail, upper case, spaces, iSpring only.
    assert {seeding.ispring_person(i) for i in range(len(pairs) + len(ispring_only))} == {
        seeding.SAME_MAIL,
        seeding.MAIL_UPPER,
        seeding.MAIL_SPACED,
        seeding.ISPRING_ONLY,
    }
    assert both == {(u, i) for u, i in pairs if u in cached_360}
    assert only_ispring == ispring_only | {i for u, i in pairs if u not in cached_360}
    assert only_360 == cached_360 - {u for u, _ in pairs}
    assert all(len(p) <= 2 for p in people)
    kinds = dict(PersonRecord.objects.values_list("user__remote_id", "matched"))
    assert {kinds[i] for _, i in both} == {PersonRecord.Matched.MAIL}
    assert {kinds[i] for i in only_ispring} == {PersonRecord.Matched.ALONE}


def test_links_and_unlinks_by_hand_regroup_people_are_audited_and_survive_a_sync(
    connection_360, connection_ispring, sandbox, alice
):
    _sync_users(connection_360, connection_ispring)
    pairs, ispring_only = expected_people(sandbox.tenant.pk)
    users = {(u.connection_id, u.remote_id): u for u in LmsUser.objects.all()}
    matched_360, matched_ispring = sorted(pairs)[0]
    by_mail = users[(connection_360.pk, matched_360)], users[(connection_ispring.pk, matched_ispring)]
    person_id = by_mail[0].person_record.person_id
    lone = users[(connection_ispring.pk, sorted(ispring_only)[0])]
    lone_360 = next(
        u for (conn, rid), u in users.items() if conn == connection_360.pk and rid not in {p for p, _ in pairs}
    )

    learner_link_decide(actor=alice, first=by_mail[0], second=by_mail[1], same_person=False)
    learner_link_decide(actor=alice, first=lone, second=lone_360, same_person=True)

    people = _people()
    # Each decision rematched only the records around it, to the same result as a full rematch.
    assert people_rematch() == RematchSummary(people=len(people), created=0, changed=0, removed=0)
    assert {connection_360.pk: matched_360} in people.values()
    assert {connection_ispring.pk: matched_ispring} in people.values()
    assert person_id in people  # the person kept its id with the record it kept
    linked = lone.person_record
    linked.refresh_from_db()
    assert people[linked.person_id] == {connection_ispring.pk: lone.remote_id, connection_360.pk: lone_360.remote_id}
    assert linked.matched == PersonRecord.Matched.HAND
    entries = list(AuditEntry.objects.filter(object_type="learner link").order_by("pk"))
    assert [(e.actor_name, e.action, e.changes["same_person"][1]) for e in entries] == [
        ("alice", "create", False),
        ("alice", "create", True),
    ]
    assert lone.mail.strip() in entries[1].changes["records"][1]

    _sync_users(connection_360, connection_ispring)

    assert _people() == people

    learner_link_forget(actor=alice, link=LearnerLink.objects.get(same_person=False))

    assert {connection_360.pk: matched_360, connection_ispring.pk: matched_ispring} in _people().values()
    assert AuditEntry.objects.filter(object_type="learner link", action="delete").count() == 1


def test_rematching_unchanged_records_writes_nothing(connection_360, connection_ispring):
    _sync_users(connection_360, connection_ispring)
    before = list(Person.objects.order_by("pk").values())

    summary = people_rematch()

    assert (summary.created, summary.changed, summary.removed) == (0, 0, 0)
    assert list(Person.objects.order_by("pk").values()) == before


def test_the_same_connection_twice_or_one_record_twice_is_refused(connection_360, alice):
    _sync_users(connection_360)
    first, second = LmsUser.objects.filter(connection=connection_360)[:2]

    with pytest.raises(ValueError, match="same LMS connection"):
        learner_link_decide(actor=alice, first=first, second=second, same_person=True)
    with pytest.raises(ValueError, match="two different"):
        learner_link_decide(actor=alice, first=first, second=first, same_person=True)
    assert not LearnerLink.objects.exists() and not AuditEntry.objects.filter(object_type="learner link").exists()
