"""Issue 20: the starter model's switch (on by default; triage/starter.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_evidence_hashed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="triagemodelsetting",
            name="starter",
            field=models.BooleanField(default=True),
        ),
    ]
