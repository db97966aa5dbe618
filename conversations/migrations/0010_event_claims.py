from django.db import migrations, models


class Migration(migrations.Migration):
    """Events carry the claim of the worker dispatching them (workflows/engine/claims.py)."""

    dependencies = [("conversations", "0009_routing")]

    operations = [
        migrations.AddField(model_name="event", name="claimed_until",
                            field=models.DateTimeField(blank=True, null=True)),
    ]
