"""Encrypt the webhook signing secrets saved before they were encrypted at rest, in the steps and in every saved
version (the same keys as integration secrets: HELPDESK_ENCRYPTION_KEYS). Reversible: going back decrypts them."""

from django.db import migrations

from workflows.integrations import crypto

WRITE_ONLY = {"webhook": ("secret",)}  # frozen here: the registry may change, this migration must not


def _convert_config(step_type: str, config: dict, convert) -> dict:
    changed = {
        key: convert(config[key])
        for key in WRITE_ONLY.get(step_type, ())
        if isinstance(config.get(key), str) and config[key] not in ("", "****")
    }
    return {**config, **changed}


def _seal(value: str) -> str:
    return value if value.startswith(crypto.SEALED_PREFIX) else crypto.seal_text(value)


def _convert(apps, convert) -> None:
    Step = apps.get_model("workflows", "Step")
    WorkflowVersion = apps.get_model("workflows", "WorkflowVersion")
    for step in Step.objects.filter(type__in=list(WRITE_ONLY)):
        step.config = _convert_config(step.type, step.config or {}, convert)
        step.save(update_fields=["config"])
    for version in WorkflowVersion.objects.all():
        steps = version.definition.get("steps", [])
        if any(step.get("type") in WRITE_ONLY for step in steps):
            version.definition = {
                **version.definition,
                "steps": [
                    {**step, "config": _convert_config(step.get("type", ""), step.get("config") or {}, convert)}
                    for step in steps
                ],
            }
            version.save(update_fields=["definition"])


def encrypt(apps, schema_editor) -> None:
    _convert(apps, _seal)


def decrypt(apps, schema_editor) -> None:
    _convert(apps, crypto.open_text)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0003_repair_lone_surrogates")]
    operations = [migrations.RunPython(encrypt, decrypt)]
