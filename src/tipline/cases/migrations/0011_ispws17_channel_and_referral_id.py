"""Report.channel grows to name every way a report arrives (the CyberTipline-compatible endpoint,
partners, locker hand-overs; "hotline" came with forwarding in 0009), and a referral keeps the
receiving service's report id."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_inbox15_inbox"),
    ]

    operations = [
        migrations.AlterField(
            model_name="report",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "Web form"),
                    ("api", "Mobile or API"),
                    ("hotline", "Forwarded by a partner hotline"),
                    ("partner", "Partner API"),
                    ("cybertipline", "CyberTipline-compatible API"),
                    ("handover", "Handed over from an evidence locker"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="external_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="referral",
            name="submitted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
