"""Manager scope: which learners a reader's reports, exports and digests show.

The rule (also in the README):

- An L&D admin sees every learner.
- A manager sees the learners their ``ManagerScope`` selects: every learner when the scope says
  so; otherwise learners whose primary group is one of the scope's 360Learning groups (and
  their subgroups, unless switched off), and/or whose e-mail or API v1 custom field matches the
  scope's rule (is / contains / ends with a value, or the manager's own e-mail). With both
  groups and a rule, ``match`` keeps learners in either (any) or in both (all).
- A manager without a scope sees no learner (fail closed), and is told so.
- A row whose learner the cache does not know (a course attempt of a user not synced yet) is in
  no scope. iSpring Learn results carry no group, mail or custom field of their own: they are
  in scope when their learner's person (``people``: the same e-mail, or linked by hand) has a
  learner record in scope, such as their 360Learning learner in one of the scope's groups.
- What the LMS counts over a whole session (its own user-statuses counts, the sync snapshots
  of the trend) cannot be narrowed to a scope, so scoped readers are not shown it.

``reader_scope`` reads a user's scope once per request (``None``: every learner); the report
selectors apply it through ``Scope.q`` in one place (``reports.selectors.common.scoped``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import IContains, IEndsWith, IExact

from integrations.models import AuditEntry
from integrations.services.audit import audit_record, snapshot
from lms_admin.roles import MANAGER_GROUP, is_admin
from lms_cache.models import LmsGroup, LmsUser
from people.models import PersonRecord
from reports.models import ManagerScope

NO_SCOPE = "No scope has been set for you yet, so no learner is shown. Ask an L&D admin to set your scope."
MATCHED_ONLY = (
    "iSpring Learn results are shown for learners whose 360Learning record (same e-mail, or linked by an "
    "L&D admin) is in your scope."
)
WHOLE_SESSION_HIDDEN = (
    "360Learning counts and the trend cover every learner of the session, beyond your scope, so they are not shown."
)
RULE_INCOMPLETE = "Give the value to compare with, or compare with the manager's own e-mail."
CUSTOM_FIELD_MISSING = "Name the custom field the rule reads."
MANAGER_HAS_NO_MAIL = "This manager has no e-mail address to compare with."

OPERATORS = {
    ManagerScope.Operator.EQUALS: IExact,
    ManagerScope.Operator.CONTAINS: IContains,
    ManagerScope.Operator.ENDS_WITH: IEndsWith,
}


@dataclass(frozen=True)
class LearnerFields:
    """Where a row's learner facts are, as ORM paths from the row's model."""

    connection: str
    group: str
    mail: str
    custom_fields: str


USER_STAT_LEARNER = LearnerFields("connection_id", "group_remote_id", "mail", "custom_fields")
ATTEMPT_LEARNER = LearnerFields("connection_id", "user__group_remote_id", "user__mail", "user__custom_fields")
LMS_USER_LEARNER = LearnerFields("connection_id", "group_remote_id", "mail", "custom_fields")


@dataclass(frozen=True)
class MatchedLearner:
    """Where a row names its learner when the row carries none of the scope's facts (iSpring
    results): the connection and the learner's remote id, matched to a person (``people``)."""

    connection: str
    user_remote_id: str


MODULE_RESULT_LEARNER = MatchedLearner("connection_id", "user_id")


@dataclass(frozen=True)
class Rule:
    field: str  # ManagerScope.RuleField
    custom_field: str
    operator: str  # ManagerScope.Operator
    value: str

    def q(self, fields: LearnerFields) -> Q:
        lookup = OPERATORS[ManagerScope.Operator(self.operator)]
        if self.field == ManagerScope.RuleField.MAIL:
            return Q(lookup(F(fields.mail), self.value))
        return Q(lookup(KeyTextTransform(self.custom_field, fields.custom_fields), self.value))

    def describe(self) -> str:
        subject = "e-mail" if self.field == ManagerScope.RuleField.MAIL else f"custom field “{self.custom_field}”"
        return f"whose {subject} {ManagerScope.Operator(self.operator).label} “{self.value}”"


@dataclass(frozen=True)
class Scope:
    """The learners a scoped reader sees. An empty scope (no group, no rule) selects none."""

    groups: frozenset[tuple[int, str]] = frozenset()  # (connection id, group remote id)
    rule: Rule | None = None
    match_all: bool = False
    description: str = NO_SCOPE

    @property
    def empty(self) -> bool:
        return not self.groups and self.rule is None

    def q(self, fields: LearnerFields) -> Q:
        """The rows (of a model reached through ``fields``) whose learner is in scope."""
        parts = []
        if self.groups:
            by_connection: dict[int, list[str]] = defaultdict(list)
            for connection_id, remote_id in sorted(self.groups):
                by_connection[connection_id].append(remote_id)
            group_q = Q()
            for connection_id, remote_ids in by_connection.items():
                group_q |= Q(**{fields.connection: connection_id, f"{fields.group}__in": remote_ids})
            parts.append(group_q)
        if self.rule is not None:
            parts.append(self.rule.q(fields))
        if not parts:
            return Q(pk__in=[])
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if self.match_all else combined | part
        return combined

    def apply(self, queryset: QuerySet, fields: LearnerFields | MatchedLearner | None) -> QuerySet:
        """``queryset`` narrowed to the scope; rows with no learner fields (``None``) are in none."""
        if fields is None or self.empty:
            return queryset.none()
        if isinstance(fields, MatchedLearner):
            records = PersonRecord.objects.filter(
                person_id__in=self.people(),
                connection_id=OuterRef(fields.connection),
                user__remote_id=OuterRef(fields.user_remote_id),
            )
            return queryset.filter(Exists(records))
        return queryset.filter(self.q(fields))

    def people(self) -> QuerySet:
        """The ids of the people with a learner record in scope (a subquery)."""
        users = LmsUser.objects.filter(self.q(LMS_USER_LEARNER)) if not self.empty else LmsUser.objects.none()
        return PersonRecord.objects.filter(user__in=users).values("person_id")


def in_scope(queryset: QuerySet, scope: Scope | None, fields: LearnerFields | MatchedLearner | None) -> QuerySet:
    """``queryset`` narrowed to ``scope``; unchanged for ``None`` (every learner)."""
    return queryset if scope is None else scope.apply(queryset, fields)


def _with_subgroups(groups: list[LmsGroup]) -> set[tuple[int, str]]:
    """The groups and every group below them, from the cached group tree (one query)."""
    keys = {(g.connection_id, g.remote_id) for g in groups}
    children: dict[tuple[int, str], list[str]] = defaultdict(list)
    rows = LmsGroup.objects.current().filter(connection_id__in={g.connection_id for g in groups})
    for connection_id, remote_id, parent in rows.values_list("connection_id", "remote_id", "parent_remote_id"):
        if parent:
            children[(connection_id, parent)].append(remote_id)
    todo = list(keys)
    while todo:
        connection_id, remote_id = todo.pop()
        for child in children[(connection_id, remote_id)]:
            if (connection_id, child) not in keys:
                keys.add((connection_id, child))
                todo.append((connection_id, child))
    return keys


def _rule(row: ManagerScope, manager_mail: str) -> Rule | None:
    value = manager_mail if row.rule_value_is_manager_mail else row.rule_value
    if row.rule_field and value:
        return Rule(row.rule_field, row.rule_custom_field, row.rule_operator, value)
    return None


def scope_from_row(row: ManagerScope | None, *, manager_mail: str) -> Scope | None:
    """The ``Scope`` a stored scope selects (``None``: every learner)."""
    if row is None:
        return Scope()
    if row.every_learner:
        return None
    groups = list(row.groups.all())
    keys = {(g.connection_id, g.remote_id) for g in groups}
    if row.include_subgroups and groups:
        keys = _with_subgroups(groups)
    match_all = row.match == ManagerScope.Match.ALL
    return Scope(frozenset(keys), _rule(row, manager_mail), match_all, scope_describe(row, manager_mail))


def scope_describe(row: ManagerScope | None, manager_mail: str) -> str:
    """A stored scope in words (no query beyond its groups, which may be prefetched)."""
    if row is None:
        return NO_SCOPE
    if row.every_learner:
        return "Every learner"
    names = sorted((g.name for g in row.groups.all()), key=str.casefold)
    return _describe(
        names,
        _rule(row, manager_mail),
        match_all=row.match == ManagerScope.Match.ALL,
        include_subgroups=row.include_subgroups,
    )


def _describe(group_names: list[str], rule: Rule | None, *, match_all: bool, include_subgroups: bool) -> str:
    """“Learners in Sales or Support (with their subgroups), or whose e-mail ends with …”."""
    parts = []
    if group_names:
        parts.append(f"in {' or '.join(group_names)}" + (" (with their subgroups)" if include_subgroups else ""))
    if rule is not None:
        parts.append(rule.describe())
    if not parts:
        return NO_SCOPE
    return "Learners " + (" and " if match_all else ", or ").join(parts)


def reader_scope(*, user) -> Scope | None:
    """The scope of what ``user`` may see in reports (``None``: every learner). Admins see every
    learner; so does a manager whose scope says so. Two or three queries."""
    if is_admin(user):
        return None
    row = ManagerScope.objects.filter(user=user).first()
    return scope_from_row(row, manager_mail=user.email)


# Managing scopes (admins) ----------------------------------------------------------------------------
def manager_list() -> QuerySet:
    """Every user with the Manager role, with their scope and its groups."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(groups__name=MANAGER_GROUP)
        .distinct()
        .select_related("report_scope")
        .prefetch_related("report_scope__groups__connection")
        .order_by("username")
    )


SCOPE_FIELDS = [
    "every_learner",
    "include_subgroups",
    "rule_field",
    "rule_custom_field",
    "rule_operator",
    "rule_value",
    "rule_value_is_manager_mail",
    "match",
]


def _audited(scope: ManagerScope) -> dict:
    values = snapshot(scope, SCOPE_FIELDS)
    values["groups"] = ", ".join(sorted(f"{g.name} ({g.remote_id})" for g in scope.groups.all())) if scope.pk else ""
    return values


@transaction.atomic
def manager_scope_update(*, manager, values: dict, groups: list[LmsGroup], actor) -> ManagerScope:
    """Set ``manager``'s scope to ``values`` (``SCOPE_FIELDS``) and ``groups``, recorded in the
    audit log (who, when, what changed)."""
    scope, created = ManagerScope.objects.select_for_update().get_or_create(user=manager)
    before = {} if created else _audited(scope)
    for name in SCOPE_FIELDS:
        setattr(scope, name, values[name])
    scope.save()
    scope.groups.set(groups)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        instance=scope,
        before=before,
        after=_audited(scope),
    )
    return scope
