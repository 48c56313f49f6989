from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import seeding
from sandbox.models import Tenant


def _anchor(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--anchor must be an ISO 8601 date or date-time, not {value!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Replace the sandbox LMS tenant's content with deterministic generated data: users (accented names, "
        "mails, groups, custom fields), courses, paths with sessions and every detailed status, course "
        "attempts, certificates and iSpring module results. Same --seed (and --anchor) gives the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=200, help="learners (default 200)")
        parser.add_argument("--paths", type=int, default=8, help="paths (default 8)")
        parser.add_argument(
            "--sessions", type=int, default=24, help="path sessions, spread over the paths (default 24)"
        )
        parser.add_argument("--courses", type=int, default=60, help="courses (default 60)")
        parser.add_argument("--attempts", type=int, default=2000, help="course attempts (default 2000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--session-size",
            type=int,
            default=None,
            help="enrollments per session (default: about 2 sessions per user)",
        )
        parser.add_argument(
            "--ispring-results", type=int, default=None, help="iSpring module results (default: as many as users)"
        )
        parser.add_argument("--client-id", default=None, help="seed this tenant instead of the demo tenant")
        parser.add_argument(
            "--anchor", type=_anchor, default=None, help="'now' of the generated dates (default: today 00:00 UTC)"
        )

    def handle(self, *args, **options) -> None:
        try:
            summary = seeding.seed(
                users=options["users"],
                paths=options["paths"],
                sessions=options["sessions"],
                courses=options["courses"],
                attempts=options["attempts"],
                seed=options["seed"],
                session_size=options["session_size"],
                ispring_results=options["ispring_results"],
                client_id=options["client_id"],
                anchor=options["anchor"],
                log=lambda message: self.stdout.write(f"  {message}"),
            )
        except Tenant.DoesNotExist:
            raise CommandError(f"No sandbox tenant has the client id {options['client_id']!r}.") from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.tenant.name} (client id {summary.tenant.client_id}): {summary.users:,} users, "
                f"{summary.courses:,} courses, {summary.paths:,} paths, {summary.sessions:,} sessions, "
                f"{summary.user_stats:,} session user stats, {summary.attempts:,} course attempts, "
                f"{summary.ispring_results:,} iSpring results, {summary.ispring_users:,} iSpring users in {summary.seconds:.1f} s."
            )
        )
