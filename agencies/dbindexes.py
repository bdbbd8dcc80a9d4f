"""Dropping a model's plain index and creating it again, inside a transaction.

A large load inserts faster into a table without its secondary indexes and
then builds each index with one sort (agencies.importing, agencies.search_index).
The schema editor can't be used for this: SQLite's refuses to run inside
atomic(). The SQL is plain enough to write from the model's `Meta.indexes`.
"""

from django.db import connection


def _index(model, name: str):
    (index,) = [index for index in model._meta.indexes if index.name == name]
    return index


def drop(model, name: str) -> None:
    _index(model, name)  # fails loudly for a name the model doesn't declare
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def create(model, name: str) -> None:
    index = _index(model, name)
    quote = connection.ops.quote_name
    columns = []
    for field_name in index.fields:
        descending = field_name.startswith("-")
        column = quote(model._meta.get_field(field_name.lstrip("-")).column)
        columns.append(f"{column} DESC" if descending else column)
    with connection.cursor() as cursor:
        sql = f"CREATE INDEX {quote(name)} ON {quote(model._meta.db_table)} ({', '.join(columns)})"
        if connection.vendor != "postgresql":
            cursor.execute(sql)
            return
        # One in-memory sort instead of many merge passes on disk; LOCAL: for
        # this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # PostgreSQL won't index a table with foreign-key checks still pending
        # (Django's are deferred to commit): run them now, then defer again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def exists(model, name: str) -> bool:
    with connection.cursor() as cursor:
        return name in connection.introspection.get_constraints(cursor, model._meta.db_table)
