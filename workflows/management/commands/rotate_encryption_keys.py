"""`manage.py rotate_encryption_keys`: re-encrypt integration secrets under the newest key of
HELPDESK_ENCRYPTION_KEYS (put the new key first, keep the old one after it, run this, then drop the old key)."""

from django.core.management.base import BaseCommand

from workflows.integrations.services import integrations_rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt every integration secret under the first key of HELPDESK_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        count = integrations_rotate_keys()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {count} integration(s)."))
