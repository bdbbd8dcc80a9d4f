"""Writing many rows at once, past the ORM: COPY on PostgreSQL, executemany INSERT elsewhere.

The import (agencies.importing.writing) and the search index
(agencies.search.index) write most of their rows through here. bulk_create
compiles every value of every row through the field machinery, several µs
each: for an import's ~50 values a record and ~25 gram rows an agency, that
was most of the time. Here the values go through the backend adapters the
ORM itself would use, only for the fields that need one, and then straight
to the driver.

`Inserter` writes one model's rows; `insert_rows()` writes plain, already
adapted values into any table (a scratch table, say); `find_ids()` maps a
column's values back to primary keys.
"""

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from django.db import connection

# Largest IN (...) list for find_ids() on backends without array parameters.
_IN_CHUNK = 5000


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Write rows, values in `columns` order and ready for the driver, into `table`.

    The one place that knows how: COPY on PostgreSQL, one executemany INSERT
    elsewhere (SQLite runs it as one prepared statement).
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    target = f"{quote(table)} ({', '.join(quote(column) for column in columns)})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {target} VALUES ({placeholders})", rows)


def _preallocates_ids() -> bool:
    """Whether this backend lets a writer take ids before inserting (see Inserter)."""
    return connection.vendor in ("postgresql", "sqlite")


def _adapter(model_field) -> Callable | None:
    """The conversion the ORM applies before handing such a value to the driver."""
    ops = connection.ops
    kind = model_field.get_internal_type()
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DateTimeField":
        # A batch stamps every row with the same `now`: convert it once.
        last = [None, None]

        def adapt_datetime(value):
            if value is not last[0]:
                last[0], last[1] = value, ops.adapt_datetimefield_value(value)
            return last[1]

        return adapt_datetime
    if kind == "DecimalField":
        digits, places = model_field.max_digits, model_field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    return None


class Inserter:
    """INSERTs of one model's rows, either dicts keyed by attname (`insert()`) or
    tuples in `fields` order (`insert_tuples()`, for writers that build millions
    of small rows and can spare the dicts).

    `fields`: attnames, by default every concrete field but the primary key.
    `returns_ids`: rows get their ids from `insert_returning_ids()`; where the
    backend allows, they are taken from the sequence first and written with
    the rows, so that children can point at them without a query to look the
    ids up afterwards.

    Make one inside the transaction that uses it: what it writes depends on
    the connection's backend.
    """

    def __init__(self, model, fields: Sequence[str] | None = None, *, returns_ids: bool = False):
        meta = model._meta
        self.model = model
        self.preallocates = returns_ids and _preallocates_ids()
        if fields is None:
            chosen = [f for f in meta.concrete_fields if self.preallocates or not f.primary_key]
        else:
            chosen = [meta.get_field(name) for name in fields]
        self.table = meta.db_table
        self.columns = [f.column for f in chosen]
        self.defaults = {f.attname: f.get_default() for f in chosen}
        attnames = [f.attname for f in chosen]
        if len(attnames) > 1:
            self._values = itemgetter(*attnames)
        else:  # itemgetter of one name gives the value itself, not a 1-tuple
            self._values = lambda row: (row[attnames[0]],)
        self._adapters = [(i, fn) for i, f in enumerate(chosen) if (fn := _adapter(f))]

    def row(self, **values) -> dict:
        """A row for `insert()`: the fields' defaults, overridden by `values`."""
        return {**self.defaults, **values}

    def insert(self, rows: list[dict]) -> None:
        self.insert_tuples([self._values(row) for row in rows])

    def insert_tuples(self, rows: list[Sequence]) -> None:
        adapters = self._adapters
        if adapters and rows:
            adapted = []
            for row in rows:
                values = list(row)
                for index, adapt in adapters:
                    if values[index] is not None:
                        values[index] = adapt(values[index])
                adapted.append(values)
            rows = adapted
        insert_rows(self.table, self.columns, rows)

    def insert_returning_ids(self, rows: list[dict], key: str) -> dict:
        """Insert rows; {row[key]: id}. `key` must be unique among the rows and in the table."""
        if self.preallocates:
            self.allocate_ids(rows)
            self.insert(rows)
            pk = self.model._meta.pk.attname
            return {row[key]: row[pk] for row in rows}
        self.insert(rows)
        return find_ids(self.model, key, [row[key] for row in rows])

    def allocate_ids(self, rows: list[dict]) -> None:
        """Set each row's primary key to an id no other row has or will get."""
        meta = self.model._meta
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, len(rows)],
                )
                ids = [found for (found,) in cursor.fetchall()]
            else:
                # SQLite: a writer holds the write lock, so nobody else takes these.
                # AUTOINCREMENT never reuses ids, hence sqlite_sequence as well as max().
                quote = connection.ops.quote_name
                cursor.execute(f"SELECT max({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
                (highest,) = cursor.fetchone()
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
                sequence = cursor.fetchone()
                start = max(highest or 0, sequence[0] if sequence else 0) + 1
                ids = range(start, start + len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row[meta.pk.attname] = pk


def find_ids(model, attname: str, values: Iterable) -> dict:
    """{value: id} for the rows whose `attname` is among `values`."""
    meta = model._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field(attname).column)
    select = f"SELECT {column}, {quote(meta.pk.column)} FROM {quote(meta.db_table)} WHERE {column}"
    values = list(values)
    found = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter: psycopg's client-side binding parses a query with
            # thousands of placeholders slowly.
            cursor.execute(f"{select} = ANY(%s)", [values])
            found.update(cursor.fetchall())
            return found
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            cursor.execute(f"{select} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(cursor.fetchall())
    return found
