"""Deterministic, realistic sandbox tenants, fast enough for 100k users and 1M course attempts.

Same ``seed`` and ``anchor`` → same rows and ids. Small tables go through ``bulk_create``; the
big ones (users, path session user stats, course attempts, iSpring results) are written with
``executemany`` on SQLite and ``COPY`` on PostgreSQL, with primary keys assigned here so
foreign keys need no read-back. Everything runs in one transaction.
"""

from __future__ import annotations

import json
import math
import random
import time
import unicodedata
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max

from sandbox import constants as c
from sandbox.models import (
    KIND_ATTEMPT,
    KIND_CERTIFICATE,
    KIND_CERTIFICATE_OUTLINE,
    KIND_COURSE,
    KIND_CUSTOM_FIELD,
    KIND_ENROLLMENT,
    KIND_GROUP,
    KIND_INTEGRATION,
    KIND_PATH,
    KIND_SESSION,
    KIND_STEP,
    KIND_USER,
    BulkOperation,
    BulkOperationResult,
    Course,
    CourseAttempt,
    CustomField,
    Group,
    Integration,
    IspringModuleResult,
    IspringUser,
    Path,
    PathSession,
    PathSessionUserStat,
    Tenant,
    User,
)
from sandbox.tenants import tenant_default

SEEDED_INTEGRATION_PLATFORM = "Sandbox Academy"
SEEDED_EXTERNAL_ID_FORMAT = "SA-{:05d}"
MAIL_DOMAIN = "sandbox-learning.example"

# iSpring Learn's users and 360Learning's: who is the same person -------------------------------
#: The iSpring tenant has ``L`` learners (``ispring_learner_count``), each with module results.
#: Learner ``i`` is 360Learning user ``i`` (same first and last name, same e-mail) unless
#: ``ispring_person(i)`` says otherwise; 360Learning users ``L`` and beyond are in 360Learning only.
ISPRING_PERSON_CYCLE = 6
#: ``i % 6 == 4``: in iSpring Learn only (a name and e-mail 360Learning does not have).
ISPRING_ONLY = "ispring-only"
#: ``i % 6 == 1``: the 360Learning e-mail in upper case.
MAIL_UPPER = "mail-upper"
#: ``i % 6 == 2``: the 360Learning e-mail with a space on either side.
MAIL_SPACED = "mail-spaced"
#: Otherwise: exactly the 360Learning e-mail.
SAME_MAIL = "same-mail"
ISPRING_ONLY_DOMAIN = "ispring-only.example"


def ispring_learner_count(*, users: int, ispring_results: int) -> int:
    """How many iSpring users ``seed`` creates (each has at least one module result)."""
    return 0 if ispring_results <= 0 else max(1, min(users, ispring_results // 3 + 1))


def ispring_person(index: int) -> str:
    """How iSpring learner ``index`` relates to 360Learning user ``index`` (see the constants)."""
    return {4: ISPRING_ONLY, 1: MAIL_UPPER, 2: MAIL_SPACED}.get(index % ISPRING_PERSON_CYCLE, SAME_MAIL)


def ispring_mail(mail_360: str, index: int) -> str:
    """The iSpring e-mail of learner ``index`` whose 360Learning user has ``mail_360``."""
    kind = ispring_person(index)
    if kind == MAIL_UPPER:
        return mail_360.upper()
    if kind == MAIL_SPACED:
        return f" {mail_360} "
    return mail_360


FIRST_NAMES = (
    "Élodie", "José", "Zoë", "Björn", "Anaïs", "François", "Chloé", "Łukasz", "Søren", "Inès",
    "Mateo", "Noémie", "Jürgen", "Renée", "Hélène", "Joël", "Marta", "Ángel", "Dagný", "Zoltán",
    "Amélie", "Çağla", "Nuño", "Aleksandra", "Oğuz", "Sinéad", "Thérèse", "Grzegorz", "Léa", "Raphaël",
    "Priya", "Kenji", "Oluwaseun", "Mei", "Tomás", "Ingrid", "Fatoumata", "Yusuf", "Emma", "Liam",
    "Olivia", "Noah", "Sofía", "Lucas", "Mia", "Hugo", "Camille", "Matteo", "Giulia", "Luís",
    "Maëlle", "Anja", "Krzysztof", "Åsa", "Henrik", "Bérénice", "Jérôme", "Dorothée", "Ximena", "Nikolaï",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "García", "Dubois", "Nguyễn", "Kowalski", "O'Brien", "Kovačević", "Søndergaard", "Martínez",
    "Lefèvre", "Schröder", "Öztürk", "Núñez", "Dvořák", "Jørgensen", "Rodríguez", "Bernard", "Petit",
    "Rossi", "Ferrari", "Silva", "Santos", "Johansson", "Andersson", "Nowak", "Wiśniewski", "Horváth",
    "Nagy", "Popescu", "Papadopoulos", "Yılmaz", "Kim", "Tanaka", "Okafor", "Mensah", "Haddad", "Cohen",
    "Smith", "Lambert", "Fontaine", "Béranger", "Čapek", "Gößling", "Ångström", "De la Cruz", "Van der Berg",
    "Łęcki", "Żuławski", "Ibáñez", "Mørch",
)  # fmt: skip
DEPARTMENTS = (
    "Sales",
    "Marketing",
    "Engineering",
    "Customer Success",
    "Finance",
    "Ressources humaines",
    "Opérations",
    "Legal & Compliance",
)
COUNTRIES = (
    "France",
    "Deutschland",
    "España",
    "Italia",
    "Sverige",
    "Polska",
    "United Kingdom",
    "Österreich",
    "Česko",
    "Türkiye",
)
CONTRACTS = ("CDI", "CDD", "Freelance", "Intern")
JOBS = (
    "Sales Representative", "Account Executive", "Software Engineer", "Product Manager", "HR Business Partner",
    "Customer Success Manager", "Data Analyst", "Financial Controller", "Marketing Specialist", "Operations Lead",
    "Chargée de clientèle", "Ingénieur qualité", "Responsable formation", "Técnica de soporte",
)  # fmt: skip
USER_LANGS = ("en", "en", "en", "fr", "fr", "de", "es", "it", "pt", "nl", "pl", "sv")
COURSE_TOPICS = (
    "Négociation commerciale", "GDPR essentials", "Onboarding: our culture", "Excel avancé", "Leadership fundamentals",
    "Cybersecurity awareness", "Gestion du temps", "Feedback & coaching", "Datenschutz Grundlagen", "Seguridad en el trabajo",
    "Public speaking", "Agile project management", "Customer empathy", "Financial literacy", "Diversity & inclusion",
    "Anti-corruption (Sapin II)", "Product discovery", "SQL for analysts", "Conflict resolution", "Écoute active",
    "Prise de parole en public", "Kundenorientierung", "Time-to-value for CSMs", "Hygiène & sécurité", "Design thinking",
)  # fmt: skip
COURSE_VARIANTS = (
    "101",
    "— essentials",
    "— advanced",
    "for managers",
    "in practice",
    "refresher 2025",
    "— niveau 2",
    "(micro-learning)",
)
PATH_NAMES = (
    "Onboarding des nouveaux arrivants", "Sales Academy", "Leadership Journey", "Compliance 2025", "Data Literacy",
    "Customer Success Bootcamp", "Manager Essentials", "Sécurité & Qualité", "Digital Skills", "Talent Development",
    "Führungskräfte-Programm", "Academia de ventas",
)  # fmt: skip
REGISTRATION_VALIDATIONS = (
    "disabled",
    "instructors",
    "managers",
    "adminsAndManagers",
    "adminsCoachesInstructorsManagers",
)

# Detailed statuses a session can hold, with weights, by where the session stands in time.
ONGOING_STATUSES = (
    ((c.STATUS_NOT_YET_STARTED, ""), 14),
    ((c.STATUS_ON_TIME, ""), 28),
    ((c.STATUS_LATE, ""), 14),
    ((c.STATUS_AWAITING_CORRECTION, ""), 5),
    ((c.STATUS_SUCCESSFUL, ""), 27),
    ((c.STATUS_TO_RETAKE, ""), 4),
    ((c.STATUS_TO_RETAKE, c.REASON_MANDATORY_REPLAY), 2),
    ((c.STATUS_UNSUCCESSFUL, ""), 6),
)
ENDED_STATUSES = (
    ((c.STATUS_SUCCESSFUL, ""), 48),
    ((c.STATUS_UNSUCCESSFUL, c.REASON_SESSION_ENDED), 40),
    ((c.STATUS_UNSUCCESSFUL, ""), 12),
)
ISPRING_STATUS_WEIGHTS = (
    ("not_started", 15), ("in_progress", 25), ("pending", 5), ("complete", 20), ("passed", 15),
    ("accepted", 3), ("incomplete", 7), ("failed", 8), ("declined", 2),
)  # fmt: skip
ISPRING_DONE = {"complete", "passed", "accepted", "failed"}


@dataclass(frozen=True)
class SeedSummary:
    tenant: Tenant
    groups: int
    custom_fields: int
    users: int
    courses: int
    integrations: int
    paths: int
    sessions: int
    user_stats: int
    attempts: int
    ispring_results: int
    ispring_users: int
    seconds: float


def _ascii(text: str) -> str:
    text = text.translate(
        str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "ı": "i", "đ": "d"})
    )
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _batched(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class _Writer:
    """Fast inserts of plain tuples in one backend-appropriate way."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            # Exactly what the ORM stores on SQLite with USE_TZ: naive UTC text.
            self.dt: Callable[[datetime | None], Any] = lambda d: (
                None if d is None else d.replace(tzinfo=None).isoformat(" ")
            )
        else:
            self.dt = lambda d: d

    def next_id(self, model: type[models.Model]) -> int:
        return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def insert(self, model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
        meta = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
        table = quote(meta.db_table)
        count = 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
                for batch in _batched(rows, 20000):
                    cursor.executemany(sql, batch)
                    count += len(batch)
        return count

    def reset_sequence(self, model: type[models.Model]) -> None:
        from django.core.management.color import no_style

        statements = connection.ops.sequence_reset_sql(no_style(), [model])
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    def delete(self, model: type[models.Model], where: str, params: list[Any]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where}", params)


def _wipe(writer: _Writer, tenant: Tenant) -> None:
    """Remove a tenant's content (not its credentials, tokens, faults or request log).

    Raw DELETEs, children first: the ORM's cascade collector would load millions of rows.
    """
    q = connection.ops.quote_name
    t = [tenant.pk]
    writer.delete(
        BulkOperationResult,
        f"operation_id IN (SELECT id FROM {q(BulkOperation._meta.db_table)} WHERE tenant_id = %s)",
        t,
    )
    writer.delete(BulkOperation, "tenant_id = %s", t)
    writer.delete(CourseAttempt, "tenant_id = %s", t)
    writer.delete(
        PathSessionUserStat, f"session_id IN (SELECT id FROM {q(PathSession._meta.db_table)} WHERE tenant_id = %s)", t
    )
    writer.delete(PathSession, "tenant_id = %s", t)
    writer.delete(Path, "tenant_id = %s", t)
    writer.delete(Course, "tenant_id = %s", t)
    writer.delete(Integration, "tenant_id = %s", t)
    writer.delete(User, "tenant_id = %s", t)
    writer.delete(CustomField, "tenant_id = %s", t)
    writer.delete(Group, "tenant_id = %s AND parent_id IS NOT NULL", t)
    writer.delete(Group, "tenant_id = %s", t)
    writer.delete(IspringModuleResult, "tenant_id = %s", t)
    writer.delete(IspringUser, "tenant_id = %s", t)


def seed(
    *,
    users: int = 200,
    paths: int = 8,
    sessions: int = 24,
    courses: int = 60,
    attempts: int = 2000,
    seed: int = 1,
    session_size: int | None = None,
    ispring_results: int | None = None,
    client_id: str | None = None,
    anchor: datetime | None = None,
    log: Callable[[str], None] | None = None,
) -> SeedSummary:
    """Replace a tenant's content with generated data (the demo tenant unless ``client_id``).

    ``anchor`` is "now" for the generated dates (default: today 00:00 UTC): sessions before it
    have ended, after it are not opened yet. ``session_size`` is enrollments per session
    (default about two sessions per user); ``ispring_results`` defaults to ``users``.
    Every detailed status and reason, and every iSpring completion status, is present as soon
    as there are enough rows (8 ongoing-session enrollments, 3 ended ones, 9 iSpring results).
    Raises ``ValueError`` on impossible sizes and ``Tenant.DoesNotExist`` for an unknown client.
    """

    if users < 1 or courses < 1:
        raise ValueError("users and courses must be at least 1")
    if min(paths, sessions, attempts) < 0 or (sessions and not paths):
        raise ValueError("sizes must not be negative, and sessions need paths")
    started = time.monotonic()
    say = log or (lambda message: None)
    anchor = (anchor or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)).astimezone(UTC)
    rng = random.Random(seed)
    with transaction.atomic():
        tenant = Tenant.objects.get(client_id=client_id) if client_id else tenant_default()
        writer = _Writer()
        _wipe(writer, tenant)
        generator = _Generator(tenant=tenant, rng=rng, anchor=anchor, writer=writer, say=say)
        generator.groups_and_fields()
        generator.users(users)
        generator.courses(courses)
        generator.paths(paths)
        generator.sessions(sessions)
        size = session_size if session_size is not None else max(1, min(users, round(2 * users / max(1, sessions))))
        generator.user_stats(min(size, users))
        generator.attempts(attempts)
        generator.ispring(users if ispring_results is None else ispring_results)
    summary = SeedSummary(
        tenant=tenant,
        groups=len(generator.group_ids),
        custom_fields=len(generator.field_oids),
        users=users,
        courses=courses,
        integrations=1,
        paths=paths,
        sessions=sessions,
        user_stats=generator.user_stat_count,
        attempts=generator.attempt_count,
        ispring_results=generator.ispring_count,
        ispring_users=generator.ispring_user_count,
        seconds=time.monotonic() - started,
    )
    say(f"seeded {tenant.name} in {summary.seconds:.1f} s")
    return summary


class _Generator:
    def __init__(
        self, *, tenant: Tenant, rng: random.Random, anchor: datetime, writer: _Writer, say: Callable[[str], None]
    ) -> None:
        self.tenant = tenant
        self.rng = rng
        self.anchor = anchor
        self.writer = writer
        self.say = say
        self.group_ids: list[int] = []
        self.group_names: list[str] = []
        self.field_oids: list[str] = []
        self.user_pks: list[int] = []
        self.user_langs: list[str] = []
        self.author_indexes: list[int] = []
        self.course_pks: list[int] = []
        self.course_langs: list[str] = []
        self.course_versions: list[int] = []
        self.path_pks: list[int] = []
        self.path_courses: list[list[int]] = []
        self.path_certified: list[bool] = []
        self.session_pks: list[int] = []
        self.session_paths: list[int] = []
        self.session_dates: list[tuple[datetime, datetime | None]] = []
        # Per user, their enrollments (indexes into the three arrays below, one entry per
        # path-session user stat): its session, and the span the learner was active in it
        # (POSIX seconds; NaN when they never started), which their attempts in it fall into.
        self.user_sessions: dict[int, list[int]] = {}
        self.stat_session = array("l")
        self.stat_active_from = array("d")
        self.stat_active_until = array("d")
        self.user_stat_count = 0
        self.attempt_count = 0
        self.ispring_count = 0
        self.ispring_user_count = 0
        #: Per 360Learning user: (first name, last name, e-mail), for the iSpring users.
        self.people: list[tuple[str, str, str]] = []

    def _timed(self, label: str, started: float, rows: int) -> None:
        self.say(f"{label}: {rows} rows in {time.monotonic() - started:.1f} s")

    def _days_ago(self, low: float, high: float) -> datetime:
        return self.anchor - timedelta(seconds=self.rng.uniform(low, high) * 86400)

    # --- groups, custom fields -----------------------------------------------------------------
    def groups_and_fields(self) -> None:
        tenant = self.tenant
        root = Group.objects.create(
            tenant=tenant, oid=tenant.object_id(KIND_GROUP, 0), name=tenant.name, public=False, custom="root"
        )
        children = Group.objects.bulk_create(
            Group(
                tenant=tenant,
                oid=tenant.object_id(KIND_GROUP, i + 1),
                name=name,
                parent=root,
                public=i % 3 == 0,
                custom=f"dept-{i + 1:02d}",
            )
            for i, name in enumerate(DEPARTMENTS)
        )
        self.root_group = root
        self.group_ids = [root.pk] + [g.pk for g in children]
        self.group_names = [root.name] + [g.name for g in children]
        fields = CustomField.objects.bulk_create(
            CustomField(tenant=tenant, oid=tenant.object_id(KIND_CUSTOM_FIELD, i), name=name)
            for i, name in enumerate(("Department", "Country", "Employee ID", "Contract type"))
        )
        self.field_oids = [f.oid for f in fields]

    # --- users -----------------------------------------------------------------------------------
    def users(self, count: int) -> None:
        started = time.monotonic()
        rng, tenant, dt = self.rng, self.tenant, self.writer.dt
        first_id = self.writer.next_id(User)
        self.user_pks = list(range(first_id, first_id + count))
        department_oids = self.field_oids

        def rows() -> Iterator[tuple]:
            for i in range(count):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                roll = rng.random()
                # The first users are the authors and instructors: always active.
                status = "active" if i < 50 or roll < 0.95 else ("invited" if roll < 0.98 else "deleted")
                group_index = 1 + i % len(DEPARTMENTS)
                lang = rng.choice(USER_LANGS)
                self.user_langs.append(lang)
                created = self._days_ago(30, 1200)
                local = f"{_ascii(first)}.{_ascii(last)}.{i}"
                self.people.append((first, last, f"{local}@{MAIL_DOMAIN}"))
                custom = {
                    department_oids[0]: self.group_names[group_index],
                    department_oids[1]: rng.choice(COUNTRIES),
                    department_oids[2]: f"E{100000 + i}",
                    department_oids[3]: rng.choice(CONTRACTS),
                }
                yield (
                    first_id + i,
                    tenant.pk,
                    tenant.object_id(KIND_USER, i),
                    f"{local}@{MAIL_DOMAIN}",
                    local if rng.random() < 0.3 else "",
                    status,
                    lang,
                    first,
                    last,
                    rng.choice(JOBS),
                    tenant.name,
                    f"+33 6 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                    self.group_ids[group_index],
                    json.dumps(custom, ensure_ascii=False),
                    dt(created),
                    dt(self._days_ago(0, 30)) if status == "active" else None,
                    dt(created + (self.anchor - created) / 2) if status == "deleted" else None,
                )

        fields = [
            "id",
            "tenant",
            "oid",
            "mail",
            "username",
            "status",
            "lang",
            "first_name",
            "last_name",
            "job",
            "organization",
            "phone",
        ]
        fields += ["primary_group", "custom_fields", "created_at", "last_login_at", "deleted_at"]
        self.writer.insert(User, fields, rows())
        self.writer.reset_sequence(User)
        self.author_indexes = list(range(min(count, 50)))
        self._timed("users", started, count)

    def _author_pk(self) -> int:
        return self.user_pks[self.rng.choice(self.author_indexes)]

    # --- courses and the seeded integration ------------------------------------------------------
    def courses(self, count: int) -> None:
        started = time.monotonic()
        rng, tenant = self.rng, self.tenant
        integration = Integration.objects.create(
            tenant=tenant,
            oid=tenant.object_id(KIND_INTEGRATION, 0),
            external_platform=SEEDED_INTEGRATION_PLATFORM,
            group_id=self.group_ids[0],
            author_id=self.user_pks[0],
            external_platform_logo_url="https://static.sandbox-learning.example/academy/logo.svg",
            default_completion=True,
            default_progress=0,
            no_group_propagation=False,
            created_at=self._days_ago(400, 500),
        )
        objects = []
        for i in range(count):
            name = f"{COURSE_TOPICS[i % len(COURSE_TOPICS)]} {COURSE_VARIANTS[(i // len(COURSE_TOPICS)) % len(COURSE_VARIANTS)]}"
            if i >= len(COURSE_TOPICS) * len(COURSE_VARIANTS):
                name += f" #{i // (len(COURSE_TOPICS) * len(COURSE_VARIANTS)) + 1}"
            kind = "external" if i % 5 == 1 else ("elearning standard" if i % 10 == 3 else "native")
            lang = rng.choice(("en", "en", "fr", "de", "es"))
            created = self._days_ago(60, 900)
            version = rng.randrange(0, 4)
            translations = []
            if rng.random() < 0.3:
                other = "fr" if lang != "fr" else "en"
                translations.append(
                    {
                        "lang": other,
                        "published": True,
                        "translatorIds": [],
                        "translatedFields": {"name": f"{name} ({other})"},
                    }
                )
            course = Course(
                tenant=tenant,
                oid=tenant.object_id(KIND_COURSE, i),
                name=name,
                description=f"{name}: a {rng.choice(('short', 'hands-on', 'self-paced', 'blended'))} course for every team.",
                source_lang=lang,
                default_lang=lang,
                author_id=self._author_pk(),
                group_id=rng.choice(self.group_ids),
                type=kind,
                # Course 0 always stays published: tests and the demo rely on one live course.
                status="archived" if i and i % 20 == 7 else "published",
                duration=rng.choice((5, 10, 15, 20, 30, 45, 60, 90, 120, 180)),
                version_number=version,
                collaborative_learning=rng.random() < 0.2,
                translations=translations,
                created_at=created,
                modified_at=created + timedelta(days=rng.uniform(0, (self.anchor - created).days or 1)),
            )
            if kind == "external":
                course.integration = integration
                course.external_id = SEEDED_EXTERNAL_ID_FORMAT.format(i)
                course.external = {
                    "launchUrl": f"https://academy.sandbox-learning.example/launch/{course.external_id}",
                    "sources": [{"name": SEEDED_INTEGRATION_PLATFORM}],
                    "subjects": [COURSE_TOPICS[i % len(COURSE_TOPICS)]],
                    "contentType": "course",
                }
            objects.append(course)
            self.course_langs.append(lang)
            self.course_versions.append(version)
        self.course_pks = [course.pk for course in Course.objects.bulk_create(objects, batch_size=500)]
        self.course_archived = {i for i, course in enumerate(objects) if course.status == "archived"}
        self._timed("courses", started, count)

    # --- paths and sessions ----------------------------------------------------------------------
    def paths(self, count: int) -> None:
        rng, tenant = self.rng, self.tenant
        live_courses = [i for i in range(len(self.course_pks)) if i not in self.course_archived] or [0]
        objects = []
        for i in range(count):
            base = PATH_NAMES[i % len(PATH_NAMES)]
            name = base if i < len(PATH_NAMES) else f"{base} {i // len(PATH_NAMES) + 1}"
            course_indexes = rng.sample(live_courses, min(len(live_courses), rng.randrange(3, 9)))
            steps: list[dict[str, Any]] = [
                {
                    # A course step's id is the course's id.
                    "_id": tenant.object_id(KIND_COURSE, index),
                    "type": "course",
                    "options": {
                        "optional": rng.random() < 0.15,
                        "showCorrection": "onAnswer",
                        "showForum": "onCompletion",
                        "minScore": 60,
                    },
                }
                for index in course_indexes
            ]
            if rng.random() < 0.5:
                steps.append(
                    {"_id": tenant.object_id(KIND_STEP, i), "type": "assessment", "options": {"isExamination": False}}
                )
            certified = i % 5 != 4
            created = self._days_ago(500, 900)
            lang = rng.choice(("en", "fr", "de"))
            objects.append(
                Path(
                    tenant=tenant,
                    oid=tenant.object_id(KIND_PATH, i),
                    name=name,
                    description=f"{name}: parcours de formation de {len(course_indexes)} cours.",
                    author_id=self._author_pk(),
                    group_id=rng.choice(self.group_ids),
                    status="archived" if i % 10 == 9 else "published",
                    default_lang=lang,
                    source_lang=lang,
                    certificate_outline_oid=tenant.object_id(KIND_CERTIFICATE_OUTLINE, i) if certified else "",
                    options={
                        "linearProgression": rng.random() < 0.5,
                        "mandatoryReplay": rng.random() < 0.3,
                        "displayForum": True,
                        "displayClassroomMessages": True,
                        "automatedReminders": rng.random() < 0.7,
                        "notificationOnStepCreation": False,
                    },
                    steps=steps,
                    created_at=created,
                    modified_at=created + timedelta(days=rng.uniform(0, 200)),
                )
            )
            self.path_courses.append(course_indexes)
            self.path_certified.append(certified)
        self.path_pks = [p.pk for p in Path.objects.bulk_create(objects, batch_size=500)]
        self.path_objects = objects

    def sessions(self, count: int) -> None:
        rng, tenant = self.rng, self.tenant
        objects = []
        for i in range(count):
            path_index = i % len(self.path_pks)
            # The first three sessions cover every phase; the rest: half ongoing.
            phase = (
                ("ongoing", "ended", "future")[i]
                if i < 3
                else rng.choices(("ongoing", "ended", "future"), (50, 35, 15))[0]
            )
            if phase == "ongoing":
                start = self._days_ago(5, 120)
                end = None if rng.random() < 0.2 else self.anchor + timedelta(days=rng.uniform(10, 120))
            elif phase == "ended":
                start = self._days_ago(150, 500)
                end = start + timedelta(days=rng.uniform(30, 120))
            else:
                start = self.anchor + timedelta(days=rng.uniform(3, 60))
                end = start + timedelta(days=rng.uniform(60, 120))
            created = start - timedelta(days=rng.uniform(5, 30))
            created = min(created, self.anchor - timedelta(hours=1))
            path = self.path_objects[path_index]
            objects.append(
                PathSession(
                    tenant=tenant,
                    oid=tenant.object_id(KIND_SESSION, i),
                    path_id=self.path_pks[path_index],
                    name=f"{path.name} · Cohort {i // len(self.path_pks) + 1}",
                    group_id=path.group_id,
                    main_instructor_id=self._author_pk(),
                    instructor_oids=[
                        tenant.object_id(KIND_USER, rng.choice(self.author_indexes)) for _ in range(rng.randrange(0, 3))
                    ],
                    registration_request_validation=rng.choice(REGISTRATION_VALIDATIONS),
                    user_limit=rng.choice((None, None, 50, 100, 500)),
                    start_date=start,
                    end_date=end,
                    created_at=created,
                    modified_at=min(created + timedelta(days=rng.uniform(0, 5)), self.anchor),
                )
            )
            self.session_paths.append(path_index)
            self.session_dates.append((start, end))
        self.session_pks = [s.pk for s in PathSession.objects.bulk_create(objects, batch_size=500)]

    # --- path session user stats -----------------------------------------------------------------
    def user_stats(self, size: int) -> None:
        if not self.session_pks:
            return
        started = time.monotonic()
        rng, dt = self.rng, self.writer.dt
        first_id = self.writer.next_id(PathSessionUserStat)
        # Guarantee every status and reason: the first enrollments of each kind of session take them in turn.
        forced = {
            "ongoing": [status for status, _ in ONGOING_STATUSES],
            "ended": [status for status, _ in ENDED_STATUSES],
        }
        ongoing_choices, ongoing_weights = zip(*ONGOING_STATUSES, strict=True)
        ended_choices, ended_weights = zip(*ENDED_STATUSES, strict=True)
        user_count = len(self.user_pks)

        def rows() -> Iterator[tuple]:
            n = 0
            for s, session_pk in enumerate(self.session_pks):
                start, end = self.session_dates[s]
                phase = (
                    "future"
                    if start > self.anchor
                    else ("ended" if end is not None and end < self.anchor else "ongoing")
                )
                certified = self.path_certified[self.session_paths[s]]
                for user_index in rng.sample(range(user_count), size):
                    self.user_sessions.setdefault(user_index, []).append(n)
                    self.stat_session.append(s)
                    if phase == "future":
                        status, reason = c.STATUS_SESSION_NOT_OPENED, ""
                    elif forced[phase]:
                        status, reason = forced[phase].pop(0)
                    elif phase == "ongoing":
                        status, reason = rng.choices(ongoing_choices, ongoing_weights)[0]
                    else:
                        status, reason = rng.choices(ended_choices, ended_weights)[0]
                    yield self._user_stat(
                        first_id + n, session_pk, user_index, status, reason, start, end, certified, n, dt
                    )
                    n += 1
            self.user_stat_count = n

        fields = [
            "id",
            "session",
            "user",
            "oid",
            "progress",
            "status_type",
            "status_reason",
            "time_spent_ms",
            "score",
            "completed_at",
        ]
        fields += ["enrolled_at", "unenrolled_at", "started_at", "due_date", "certificate_oid", "self_enrolled"]
        self.writer.insert(PathSessionUserStat, fields, rows())
        self.writer.reset_sequence(PathSessionUserStat)
        self._timed("path session user stats", started, self.user_stat_count)

    def _user_stat(self, pk, session_pk, user_index, status, reason, start, end, certified, n, dt) -> tuple:
        rng, anchor = self.rng, self.anchor
        latest = min(anchor, end) if end else anchor
        self_enrolled = rng.random() < 0.12
        enrolled = (
            start + timedelta(days=rng.uniform(0, 10))
            if self_enrolled and start < anchor
            else start - timedelta(days=rng.uniform(1, 20))
        )
        enrolled = min(enrolled, anchor - timedelta(hours=2))
        due = start + timedelta(days=rng.choice((30, 45, 60, 90))) if rng.random() < 0.7 else None
        not_started = status in (c.STATUS_SESSION_NOT_OPENED, c.STATUS_NOT_YET_STARTED)
        if not_started:
            progress = 0
        elif status in (c.STATUS_SUCCESSFUL, c.STATUS_TO_RETAKE) or (status == c.STATUS_UNSUCCESSFUL and not reason):
            progress = 100
        elif status == c.STATUS_AWAITING_CORRECTION:
            progress = rng.randrange(80, 100)
        elif status == c.STATUS_UNSUCCESSFUL:  # sessionEnded: stopped somewhere, maybe never started
            progress = rng.choice((0, rng.randrange(5, 96)))
        else:
            progress = rng.randrange(5, 96)
        started_at = None
        if progress > 0 or status in (c.STATUS_ON_TIME, c.STATUS_LATE):
            started_at = max(enrolled, start) + timedelta(hours=rng.uniform(1, 240))
            started_at = min(started_at, latest - timedelta(hours=1))
        completed_at = None
        if status == c.STATUS_SUCCESSFUL or (status == c.STATUS_UNSUCCESSFUL and not reason):
            completed_at = started_at + (latest - started_at) * rng.uniform(0.2, 0.95)
        score = None
        if status == c.STATUS_SUCCESSFUL:
            score = rng.randrange(60, 101)
        elif status in (c.STATUS_TO_RETAKE, c.STATUS_UNSUCCESSFUL) and progress == 100:
            score = rng.randrange(10, 60)
        time_spent = progress * rng.randrange(30, 180) * 1000
        # The learner's attempts on the session's courses happen between their first activity
        # and their completion (or today, or the session's end): their last activity, derived
        # from those attempts, is never before their first.
        self.stat_active_from.append(started_at.timestamp() if started_at else math.nan)
        self.stat_active_until.append((completed_at or latest).timestamp() if started_at else math.nan)
        certificate = self.tenant.object_id(KIND_CERTIFICATE, n) if certified and status == c.STATUS_SUCCESSFUL else ""
        unenrolled = enrolled + (anchor - enrolled) / 2 if rng.random() < 0.01 else None
        return (
            pk,
            session_pk,
            self.user_pks[user_index],
            self.tenant.object_id(KIND_ENROLLMENT, n),
            progress,
            status,
            reason,
            time_spent,
            score,
            dt(completed_at),
            dt(enrolled),
            dt(unenrolled),
            dt(started_at),
            dt(due),
            certificate,
            self_enrolled,
        )

    # --- course attempts -------------------------------------------------------------------------
    def attempts(self, total: int) -> None:
        if total <= 0:
            return
        started = time.monotonic()
        rng, tenant, dt, anchor = self.rng, self.tenant, self.writer.dt, self.anchor
        first_id = self.writer.next_id(CourseAttempt)
        user_count, course_count = len(self.user_pks), len(self.course_pks)
        base, extra = divmod(total, user_count)
        session_pks, session_paths, path_pks = self.session_pks, self.session_paths, self.path_pks

        def rows() -> Iterator[tuple]:
            n = 0
            for u in range(user_count):
                remaining = base + (1 if u < extra else 0)
                if not remaining:
                    continue
                # Courses of the user's paths first (attempts in a path context), then others.
                in_path: dict[int, int] = {}  # course index → the enrollment it is attempted in
                for enrollment in self.user_sessions.get(u, ()):
                    if math.isnan(self.stat_active_from[enrollment]):
                        continue  # never started this session: no activity in it
                    for course_index in self.path_courses[session_paths[self.stat_session[enrollment]]]:
                        in_path.setdefault(course_index, enrollment)
                candidates = list(in_path)
                rng.shuffle(candidates)
                # About 1.3 attempts per course: most once, some retaken.
                wanted = min(course_count, max(1, round(remaining / 1.3)))
                if len(candidates) < wanted:
                    others = [
                        i
                        for i in rng.sample(range(course_count), min(course_count, wanted + len(candidates)))
                        if i not in in_path
                    ]
                    candidates += others[: wanted - len(candidates)]
                candidates = candidates[:wanted]
                sizes = [1] * len(candidates)
                for _ in range(remaining - len(candidates)):
                    sizes[rng.randrange(len(candidates))] += 1
                user_pk, lang = self.user_pks[u], self.user_langs[u]
                for course_index, k in zip(candidates, sizes, strict=True):
                    enrollment = in_path.get(course_index)
                    session_index = self.stat_session[enrollment] if enrollment is not None else None
                    path_pk = path_pks[session_paths[session_index]] if session_index is not None else None
                    session_pk = session_pks[session_index] if session_index is not None else None
                    moment = anchor - timedelta(days=rng.uniform(20 + 80 * k, 700 + 80 * k))
                    for attempt in range(k):
                        first = moment
                        duration = timedelta(minutes=rng.uniform(5, 60 * 24 * 20))
                        last = min(first + duration, anchor - timedelta(minutes=1))
                        first = min(first, last)
                        if enrollment is not None:
                            first, last = self._within_enrollment(enrollment, attempt, k)
                            duration = last - first
                        final = attempt == k - 1
                        completed = rng.random() < (0.65 if final else 0.75)
                        progress = 100 if completed else rng.randrange(5, 96)
                        score = (
                            rng.randrange(30, 101) if (completed and rng.random() < 0.8) or rng.random() < 0.1 else None
                        )
                        spent = int(min(duration.total_seconds(), rng.uniform(120, 10800)) * 1000)
                        yield (
                            first_id + n,
                            tenant.pk,
                            tenant.object_id(KIND_ATTEMPT, n),
                            self.course_pks[course_index],
                            user_pk,
                            path_pk,
                            session_pk,
                            lang if rng.random() < 0.5 else self.course_langs[course_index],
                            rng.randrange(0, self.course_versions[course_index] + 1),
                            dt(first),
                            dt(last),
                            dt(last if completed else None),
                            spent,
                            progress,
                            score,
                            "",
                        )
                        n += 1
                        # The next attempt starts after this one ended (the import rule).
                        moment = last + timedelta(days=rng.uniform(1, 60))
            self.attempt_count = n

        fields = ["id", "tenant", "oid", "course", "user", "path", "path_session", "lang", "version_number"]
        fields += [
            "first_activity_at",
            "last_activity_at",
            "completed_at",
            "time_spent_ms",
            "progress",
            "score",
            "result",
        ]
        self.writer.insert(CourseAttempt, fields, rows())
        self.writer.reset_sequence(CourseAttempt)
        self._timed("course attempts", started, self.attempt_count)

    def _within_enrollment(self, enrollment: int, attempt: int, attempts: int) -> tuple[datetime, datetime]:
        """(first, last activity) of the ``attempt``-th of ``attempts`` attempts made in a path
        session: each in its own slice of the learner's active span there, in order."""
        start, until = self.stat_active_from[enrollment], self.stat_active_until[enrollment]
        slot = (until - start) / attempts
        low = start + slot * attempt
        first = low + slot * self.rng.uniform(0, 0.5)
        last = first + (low + slot - first) * self.rng.uniform(0.2, 1)
        return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)

    # --- iSpring Learn ----------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ispring(self, total: int) -> None:
        if total <= 0:
            return
        started = time.monotonic()
        rng, dt, anchor = self.rng, self.writer.dt, self.anchor
        departments = [self._uuid() for _ in DEPARTMENTS]
        modules = []  # (course uuid, module uuid, title, course item uuid)
        for i in range(12):
            course_uuid = self._uuid()
            topic = COURSE_TOPICS[(i * 7) % len(COURSE_TOPICS)]
            for m in range(1 + i % 4):
                modules.append((course_uuid, self._uuid(), f"{topic} – module {m + 1}", self._uuid()))
        learner_count = ispring_learner_count(users=len(self.user_pks), ispring_results=total)
        # The first learners stay active so every completion status shows in the default view.
        learners = [
            (
                self._uuid(),
                rng.choice(departments),
                c.ISPRING_USER_BLOCKED if i >= 9 and rng.random() < 0.1 else c.ISPRING_USER_ACTIVE,
            )
            for i in range(learner_count)
        ]
        total = min(total, learner_count * len(modules))
        statuses, weights = zip(*ISPRING_STATUS_WEIGHTS, strict=True)
        enrollments: dict[tuple[int, str], str] = {}
        first_id = self.writer.next_id(IspringModuleResult)

        def rows() -> Iterator[tuple]:
            for n in range(total):
                learner_index = n % learner_count
                user_uuid, department, user_status = learners[learner_index]
                course_uuid, module_uuid, title, item_uuid = modules[
                    (n // learner_count + learner_index) % len(modules)
                ]
                enrollment = enrollments.setdefault((learner_index, course_uuid), self._uuid())
                status = statuses[n] if n < len(statuses) else rng.choices(statuses, weights)[0]
                access = self._days_ago(1, 400)
                due = access + timedelta(days=rng.uniform(14, 60)) if rng.random() < 0.6 else None
                expiration = due + timedelta(days=30) if due and rng.random() < 0.3 else None
                completion = None
                progress: float | None = None
                awarded = passing = None
                time_spent = 0
                if status in ("in_progress", "incomplete"):
                    progress = round(rng.uniform(1, 99), 2)
                    time_spent = rng.randrange(10, 5000)
                elif status == "pending":
                    progress, time_spent = 100.0, rng.randrange(300, 7200)
                elif status in ISPRING_DONE:
                    progress, time_spent = 100.0, rng.randrange(300, 7200)
                    completion = min(access + timedelta(days=rng.uniform(0.1, 40)), anchor - timedelta(minutes=5))
                    if status in ("passed", "failed") or rng.random() < 0.3:
                        passing = 80.0
                        awarded = (
                            round(rng.uniform(80, 100), 1) if status != "failed" else round(rng.uniform(20, 79), 1)
                        )
                elif status == "declined":
                    progress = 0.0
                is_overdue = bool(due and due < anchor and status not in ISPRING_DONE)
                yield (
                    first_id + n,
                    self.tenant.pk,
                    user_uuid,
                    user_status,
                    department,
                    course_uuid,
                    module_uuid,
                    title,
                    item_uuid,
                    enrollment if rng.random() < 0.95 else "",
                    dt(access),
                    dt(due),
                    dt(expiration),
                    dt(completion),
                    time_spent,
                    status,
                    awarded,
                    passing,
                    progress,
                    is_overdue,
                    rng.randrange(0, 20) if status != "not_started" else 0,
                )
            self.ispring_count = total

        fields = [
            "id",
            "tenant",
            "user_uuid",
            "user_status",
            "department_uuid",
            "course_uuid",
            "module_uuid",
            "module_title",
            "course_item_uuid",
        ]
        fields += [
            "enrollment_uuid",
            "access_date",
            "due_date",
            "expiration_date",
            "completion_date",
            "time_spent_s",
            "completion_status",
        ]
        fields += ["awarded_score", "passing_score", "progress", "is_overdue", "views_count"]
        self.writer.insert(IspringModuleResult, fields, rows())
        self.writer.reset_sequence(IspringModuleResult)
        self._timed("iSpring module results", started, self.ispring_count)
        self.ispring_users(learners)

    def ispring_users(self, learners: list[tuple[str, str, int]]) -> None:
        """The iSpring profiles of the learners with results (see ``ispring_person``); draws no
        random numbers, so the rest of the seed is what it was before they existed."""
        started = time.monotonic()
        first_id = self.writer.next_id(IspringUser)

        def rows() -> Iterator[tuple]:
            for i, (user_uuid, department, status) in enumerate(learners):
                if ispring_person(i) == ISPRING_ONLY:
                    first = FIRST_NAMES[(i * 7 + 3) % len(FIRST_NAMES)]
                    last = LAST_NAMES[(i * 11 + 5) % len(LAST_NAMES)]
                    login = f"{_ascii(first)}.{_ascii(last)}.isp{i}"
                    mail = f"{login}@{ISPRING_ONLY_DOMAIN}"
                else:
                    first, last, mail_360 = self.people[i]
                    login = mail_360.split("@")[0]
                    mail = ispring_mail(mail_360, i)
                role = "learner" if i else "account_administrator"
                yield (first_id + i, self.tenant.pk, user_uuid, status, role, department, login, mail, first, last)

        fields = ["id", "tenant", "user_uuid", "status", "role", "department_uuid", "login", "email"]
        fields += ["first_name", "last_name"]
        self.ispring_user_count = self.writer.insert(IspringUser, fields, rows())
        self.writer.reset_sequence(IspringUser)
        self._timed("iSpring users", started, self.ispring_user_count)
