from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.services.connections import connection_rotate_secrets


class Command(BaseCommand):
    help = "Re-encrypt every stored LMS secret with the first key of FIELD_ENCRYPTION_KEY (see the README)."

    def handle(self, *args, **options) -> None:
        count = connection_rotate_secrets()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {count} connection(s) with the newest key."))
