"""Secrets are encrypted at rest (the database columns never hold the plaintext) under HELPDESK_ENCRYPTION_KEYS,
and keys rotate: a new key first still reads rows written under the old one, and rotation re-encrypts them."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from workflows.integrations import crypto
from workflows.integrations.auth import auth_headers
from workflows.integrations.crypto import decrypt_json
from workflows.integrations.secrets import integration_secrets
from workflows.integrations.services import integration_save
from workflows.models import Integration

pytestmark = pytest.mark.django_db
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_row(pk: int) -> str:
    """Everything the database stores for the integration, read with plain SQL (no model decoding)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM workflows_integration WHERE id = %s", [pk])
        return " ".join(str(value) for value in cursor.fetchone())


def make() -> Integration:
    return integration_save(
        name="Vault",
        base_url="https://vault.example.com/",
        auth={"type": "bearer", "token": "plain-bearer-7731"},
        secrets={"api": "plain-named-4410"},
    )


def test_database_holds_no_plaintext_secret(settings):
    settings.HELPDESK_ENCRYPTION_KEYS = [OLD]
    integration = make()
    stored = raw_row(integration.pk)
    assert "plain-bearer-7731" not in stored and "plain-named-4410" not in stored
    assert "api" in stored  # the secret's name is not secret
    assert auth_headers(integration) == {"Authorization": "Bearer plain-bearer-7731"}


def test_new_key_first_still_decrypts_old_rows(settings):
    settings.HELPDESK_ENCRYPTION_KEYS = [OLD]
    integration = make()
    settings.HELPDESK_ENCRYPTION_KEYS = [NEW, OLD]
    assert integration_secrets(Integration.objects.get(pk=integration.pk)) == {"api": "plain-named-4410"}


def test_rotation_reencrypts_under_the_new_key(settings):
    settings.HELPDESK_ENCRYPTION_KEYS = [OLD]
    integration = make()
    before = raw_row(integration.pk)
    settings.HELPDESK_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_keys")
    settings.HELPDESK_ENCRYPTION_KEYS = [NEW]  # the old key is gone: rows must open with the new key alone
    rotated = Integration.objects.get(pk=integration.pk)
    assert raw_row(integration.pk) != before
    assert integration_secrets(rotated) == {"api": "plain-named-4410"}
    assert decrypt_json(rotated.auth_secret_encrypted) == {"token": "plain-bearer-7731"}


def test_without_the_key_a_secret_cannot_be_read(settings):
    settings.HELPDESK_ENCRYPTION_KEYS = [OLD]
    integration = make()
    settings.HELPDESK_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ValueError, match="HELPDESK_ENCRYPTION_KEYS"):
        integration_secrets(Integration.objects.get(pk=integration.pk))


def test_a_rotated_secret_key_keeps_derived_secrets_readable(settings):
    """SECRET_KEY rotated the documented Django way (old one in SECRET_KEY_FALLBACKS) keeps sealed secrets readable."""
    settings.HELPDESK_ENCRYPTION_KEYS = []
    settings.SECRET_KEY = "the-old-secret-key-" + "x" * 40
    token = crypto.encrypt_json({"token": "sk-live"})
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-secret-key-" + "y" * 40, [settings.SECRET_KEY]
    assert crypto.decrypt_json(token) == {"token": "sk-live"}


def test_secrets_sealed_under_the_derived_key_migrate_to_a_key_of_their_own(settings):
    """Setting HELPDESK_ENCRYPTION_KEYS keeps old rows readable; a rotation re-seals them under the new key, after
    which SECRET_KEY can change freely."""
    settings.HELPDESK_ENCRYPTION_KEYS = []
    token = crypto.encrypt_json("sealed-before")
    settings.HELPDESK_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt_json(token) == "sealed-before"
    rotated = crypto.rotate(token)
    settings.SECRET_KEY = "a-completely-different-secret-key-" + "z" * 30
    assert crypto.decrypt_json(rotated) == "sealed-before"
