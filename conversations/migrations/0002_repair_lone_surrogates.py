"""Repair JSON stored before the API refused lone surrogates: each becomes U+FFFD, so the rows render again."""

from django.db import migrations

from conversations.safetext import repair_stored_surrogates

JSON_COLUMNS = {"Contact": ["attributes"], "Message": ["buttons"], "Event": ["payload"]}


def repair(apps, schema_editor):
    for model_name, fields in JSON_COLUMNS.items():
        repair_stored_surrogates(apps.get_model("conversations", model_name), fields, schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
