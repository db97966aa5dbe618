"""Repair JSON stored before the API refused lone surrogates: each becomes U+FFFD, so the rows render again."""

from django.db import migrations

from conversations.safetext import repair_stored_surrogates

JSON_COLUMNS = {
    "Workflow": ["trigger_config"],
    "Step": ["config"],
    "WorkflowVersion": ["definition"],
    "WorkflowRun": ["variables"],
    "StepRun": ["input", "output"],
    "Integration": ["auth_public", "headers", "secret_names"],
    "CustomAction": ["input_schema", "output_schema"],
}


def repair(apps, schema_editor):
    for model_name, fields in JSON_COLUMNS.items():
        repair_stored_surrogates(apps.get_model("workflows", model_name), fields, schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_integrations"), ("conversations", "0002_repair_lone_surrogates")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
