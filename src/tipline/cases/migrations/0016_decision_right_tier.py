"""Issue 20: the analyst's tier correction, stored with the decision (the model's label)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_triage20_learned_model"),
    ]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="right_tier",
            field=models.CharField(
                blank=True,
                choices=[("P1", "P1"), ("P2", "P2"), ("P3", "P3"), ("P4", "P4")],
                default="",
                max_length=2,
            ),
        ),
    ]
