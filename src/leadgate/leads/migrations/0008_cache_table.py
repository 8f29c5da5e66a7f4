"""The database cache's table (settings.CACHES): made by `migrate`, so no separate createcachetable step.

It lives in the leads app's migrations only because one app has to hold it; nothing else depends on it.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Creates the tables of the database caches configured now; one that exists is left alone.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_kept_rejections_and_reprocess_runs")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
