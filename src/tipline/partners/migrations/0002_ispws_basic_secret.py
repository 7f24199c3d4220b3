from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apicredential",
            name="secret_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
