"""The figures' cache table (settings.CACHES["figures"] without Redis: Django's database
cache), made here so that `make run`, the tests and a deployment need no `createcachetable`.

Made by createcachetable's own code, so its columns are exactly what the cache expects on
SQLite and PostgreSQL alike; a table that already exists (made by hand) is left as it is.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "services_figures_cache"  # settings.FIGURES_CACHE_TABLE


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("services", "0027_record_life")]

    operations = [migrations.RunPython(create, drop)]
