from django.db import migrations, models


class Migration(migrations.Migration):
    """The changes feed: every entry gets a change position; existing entries take their id
    (ids are unique and increasing, and new positions continue after the largest)."""

    dependencies = [
        ("matching", "0002_file_match"),
    ]

    operations = [
        migrations.AddField(
            model_name="bankentry",
            name="change_seq",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunSQL(
            "UPDATE matching_bankentry SET change_seq = id", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.AddIndex(
            model_name="bankentry",
            index=models.Index(fields=["bank", "change_seq"], name="matching_entry_changes"),
        ),
    ]
