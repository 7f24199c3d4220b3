"""Indexes for the console queue's filters (measured in benchmarks/console.py, issue 3).

Hand-written. The queue reads rows in (tier, priority desc, created_at, id) order, a page at a
time from a cursor (tipline.cases.queue). A filter is fast when an index starts with the filtered
column and continues in queue order: the page is then one range of the index, read in order and
stopped after 51 rows. Without it PostgreSQL walks the queue-order index and throws away every row
that does not match, which for a filter matching 1% of a million reports is 5,000 heap reads per
page (hundreds of milliseconds).

Existing: ``report_queue`` (state, ...) and ``report_queue_all`` (no filter). Added here, one per
filter whose values can be rare:

* ``report_queue_category``: a category can be 2% of the queue (child in danger).
* ``report_queue_country``: ~30 countries, most of them rare, and "not said" (country = "").
* ``report_queue_assignee``: "assigned to me"; the plain foreign-key index finds the rows but not
  in queue order, so a busy analyst's page meant sorting tens of thousands of rows.

Not added: the date range (``report_created`` plus a sort, or the queue-order index with the date
checked inside the index, is within target) and combinations (the planner combines or filters
these; see docs/BENCHMARKS.md). Each index costs an insert about 20 microseconds; intake's 115
reports/s does not notice four more.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_workflow"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                fields=["category", "tier", "-priority", "created_at", "id"],
                name="report_queue_category",
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                fields=["country", "tier", "-priority", "created_at", "id"],
                name="report_queue_country",
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                fields=["assigned_to", "tier", "-priority", "created_at", "id"],
                name="report_queue_assignee",
            ),
        ),
    ]
