"""PostgreSQL only: a pg_trgm GIN index on the folded names (agencies.search.candidates).

Written by hand, not in `SearchEntry.Meta.indexes`: a GIN index exists on
PostgreSQL alone, and SQLite has nothing to build here (its search keeps the
gram index). The statement is `agencies.search.index.TRIGRAM_INDEX_SQL`, the
one a bulk load drops and builds again; it is copied here rather than
imported so that this migration keeps doing what it did when it was written.
"""

from django.db import migrations

INDEX = "searchentry_folded_trgm"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} "
    "ON agencies_searchentry USING gin (folded gin_trgm_ops)"
)


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner
    # may create it without being a superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(CREATE)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: something else may use it by now.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0012_trade_name_keys"),
    ]

    operations = [
        migrations.RunPython(add_trigram_index, drop_trigram_index, elidable=False),
    ]
