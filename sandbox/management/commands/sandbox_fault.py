from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import constants as c, faults
from sandbox.selectors import fault_rule_list


class Command(BaseCommand):
    help = (
        "Fault knobs of the sandbox LMS: make the next N calls of one client answer 429 with Retry-After, "
        "a 5xx, slowly, with an expired token, with a malformed body, or end their bulk operation in error. "
        "`add CLIENT_ID KIND [--count N] [--path-prefix P] [--method M] [--status S] [--retry-after S] [--delay S]`, "
        "`list [CLIENT_ID]`, `clear [CLIENT_ID]`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="add a fault rule")
        add.add_argument("client_id", help="360Learning client id (also its v1 calls) or iSpring client id")
        add.add_argument("kind", choices=c.FAULT_KINDS)
        add.add_argument("--count", type=int, default=1, help="how many calls (default 1)")
        add.add_argument("--path-prefix", default="", help="only vendor paths starting so, e.g. /api/v2/bulk/")
        add.add_argument("--method", default="", help="only this HTTP method")
        add.add_argument("--status", type=int, default=None, help="server_error status: 500, 502, 503 or 504")
        add.add_argument("--retry-after", type=int, default=None, help="Retry-After seconds (429, 503)")
        add.add_argument("--delay", type=float, default=None, help="slow: seconds to wait")
        for name in ("list", "clear"):
            sub = actions.add_parser(name, help=f"{name} fault rules")
            sub.add_argument("client_id", nargs="?", default=None)

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "add":
            try:
                rule = faults.fault_add(
                    client_id=options["client_id"],
                    kind=options["kind"],
                    count=options["count"],
                    path_prefix=options["path_prefix"],
                    method=options["method"],
                    status=options["status"],
                    retry_after=options["retry_after"],
                    delay_seconds=options["delay"],
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(self.style.SUCCESS(f"Added fault rule {rule.pk}: {rule}."))
        elif action == "list":
            for rule in fault_rule_list(client_id=options["client_id"]):
                scope = " ".join(filter(None, (rule.method, rule.path_prefix))) or "every call"
                self.stdout.write(f"{rule.pk}\t{rule.client_id}\t{rule.kind}\t×{rule.remaining}\t{scope}")
        else:
            removed = faults.fault_clear(client_id=options["client_id"])
            self.stdout.write(self.style.SUCCESS(f"Removed {removed} fault rule(s)."))
