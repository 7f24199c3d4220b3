"""Issue 19: when a file's hashes were stored, in the clear, so the work sweep finds files
whose media work a fault lost (cases/work_sweep.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_decision_right_tier"),
    ]

    operations = [
        migrations.AddField(
            model_name="evidencefile",
            name="hashed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="evidencefile",
            index=models.Index(
                condition=models.Q(("hashed_at__isnull", True)),
                fields=["created_at"],
                name="evidence_unhashed",
            ),
        ),
    ]
