"""Admin history entries of workflows added in the admin were written as `[{"added": {"fields": [...]}}]`, a shape
Django's history page reads as a related object and fails on (KeyError: 'name', a 500). Rewrite them in the shape
the admin now writes: `[{"added": {}}, {"changed": {"fields": [...]}}]`."""

import json

from django.db import migrations


def rewrite(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="workflows", model="workflow").first()
    if content_type is None:
        return
    for entry in LogEntry.objects.filter(content_type=content_type, change_message__contains='"added": {"fields"'):
        try:
            message = json.loads(entry.change_message)
        except ValueError:
            continue
        fixed = []
        for part in message if isinstance(message, list) else []:
            added = part.get("added") if isinstance(part, dict) else None
            if isinstance(added, dict) and "name" not in added and "fields" in added:
                fixed += [{"added": {}}, {"changed": {"fields": added["fields"]}}]
            else:
                fixed.append(part)
        entry.change_message = json.dumps(fixed)
        entry.save(update_fields=["change_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0011_macro_inputs_owner"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop)]
