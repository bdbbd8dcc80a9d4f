"""Querysets compiled to SQL once, then run again and again with a new value.

Django builds and compiles a queryset's SQL on every evaluation: resolving
the filters, the joins, the ORDER BY and the select list of `filter(agency=…)`
costs it about a quarter of a millisecond, ten times what SQLite or a nearby
PostgreSQL take to answer the query itself. A record page reads one agency
and five short lists of it; building those six queries was most of its time
in the ORM (docs/benchmarks.md, issue 22).

`Prepared(build)` takes a function from one value to a queryset — the query
logic stays in the model's queryset, written with the ORM as everywhere
else — and compiles `build(marker)` once per database connection. Each call
runs that SQL with the marker's parameter replaced by the value and turns the
rows into model instances as the queryset would (Django's own iterable, with
its select_related, converters and annotations), so what callers get is what
`list(build(value))` gives, minus the compiling.

It relies on the compiler keeping what the iterable needs (select list,
klass_info, converters) after it has compiled once; tests/test_prepared.py
holds every prepared query to the plain queryset's rows, on both databases,
so a Django upgrade that changes this fails there, not on a page.
"""

import copy
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet

from .dbcheck import first_query


class _Compiled:
    __slots__ = ("compiler", "connection", "params", "positions", "queryset", "sql")

    def __init__(self, connection, queryset, compiler, sql, params, positions):
        self.connection = connection
        self.queryset = queryset
        self.compiler = compiler
        self.sql = sql
        self.params = params
        self.positions = positions


class _Answer:
    """Stands in for a Query whose compiler is already made."""

    __slots__ = ("compiler",)

    def __init__(self, compiler):
        self.compiler = compiler

    def get_compiler(self, *args, **kwargs):
        return self.compiler


class Prepared:
    """`build(value)` compiled once per connection; call with a value for its rows.

    `marker` must be a value of the parameter's type that the real values can
    never be (it is only ever compiled, never run), and must reach the SQL as
    a parameter exactly where the value does.
    """

    def __init__(self, build: Callable[[Any], QuerySet], marker: Any):
        self.build = build
        self.marker = marker
        self.model = None
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, value) -> list:
        compiled = self.compiled()
        # The request's first read checks its connection (with the data
        # version remembered, it often is): portal.dbcheck.
        return first_query(compiled.connection, lambda: self._run(compiled, value))

    def compiled(self) -> _Compiled:
        """The compiled query a call runs: for the connection reads now go to."""
        if self.model is None:
            self.model = self.build(self.marker).model
        # Where the queryset itself would read (a replica, within a request).
        alias = router.db_for_read(self.model)
        compiled = self._compiled.get(alias)
        # A connection object belongs to one thread (the test server's, the
        # shell's); a compiler holds one, so each connection gets its own.
        if compiled is None or compiled.connection is not connections[alias]:
            queryset = self.build(self.marker).using(alias)
            compiled = self._compiled[alias] = self._compile(queryset, alias)
        return compiled

    def _compile(self, queryset: QuerySet, alias: str) -> _Compiled:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        positions = [i for i, param in enumerate(params) if param == self.marker]
        if len(positions) != 1:
            raise ValueError(
                f"the marker {self.marker!r} must be exactly one parameter of the "
                f"compiled query, found {len(positions)}: {sql}"
            )
        return _Compiled(connections[alias], queryset, compiler, sql, tuple(params), positions)

    @staticmethod
    def _params(compiled: _Compiled, value) -> list:
        params = list(compiled.params)
        for position in compiled.positions:
            params[position] = value
        return params

    @staticmethod
    def _run(compiled: _Compiled, value) -> list:
        sql, params = compiled.sql, tuple(Prepared._params(compiled, value))
        # A copy of the compiled compiler that answers with the stored SQL;
        # everything else (execution, converters, instances) is Django's.
        compiler = copy.copy(compiled.compiler)
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        # A new queryset of the same class around a query that hands out that
        # compiler: the iterable asks its query for nothing else. (Not a copy
        # of the compiled queryset: copying a QuerySet evaluates it.)
        template = compiled.queryset
        queryset = type(template)(model=template.model, query=_Answer(compiler), using=template.db)
        return list(queryset)


class _CompiledRows(_Compiled):
    __slots__ = ("converters",)


class PreparedRows(Prepared):
    """`build(value)`, a `values_list()` queryset, compiled once per connection; a call
    returns its rows (lists, in the queryset's column order) from a plain cursor.

    For answers written straight to JSON (the API's record and number reads):
    no model instances, no iterable machinery, and the converters Django would
    apply (dates and booleans on SQLite, decimals) worked out once. Plain
    columns only: annotations and extra() would reorder what values_list()
    promises.
    """

    def _compile(self, queryset: QuerySet, alias: str) -> _Compiled:
        query = queryset.query
        if not query.values_select or query.annotation_select or query.extra_select:
            raise ValueError("PreparedRows takes a values_list() of plain columns")
        compiled = super()._compile(queryset, alias)
        compiler = compiled.compiler
        rows = _CompiledRows(
            compiled.connection,
            queryset,
            compiler,
            compiled.sql,
            compiled.params,
            compiled.positions,
        )
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        rows.converters = compiler.get_converters(columns)
        return rows

    @staticmethod
    def _converted(compiled: _CompiledRows, rows) -> list:
        if compiled.converters:
            return list(compiled.compiler.apply_converters(rows, compiled.converters))
        return [list(row) for row in rows]

    @staticmethod
    def _run(compiled: _Compiled, value) -> list:
        # Django's cursor: query logging, execute wrappers (and the tests' query
        # counts) see these reads like any other.
        with compiled.connection.cursor() as cursor:
            cursor.execute(compiled.sql, PreparedRows._params(compiled, value))
            rows = cursor.fetchall()
        return PreparedRows._converted(compiled, rows)


def rows_together(calls: list[tuple[PreparedRows, Any]]) -> list[list]:
    """`[prepared(value) for prepared, value in calls]`, in one round trip on PostgreSQL.

    psycopg's pipeline mode sends every query before reading any answer, so a
    record's five lists cost the network one wait instead of five. Elsewhere
    (SQLite has no network), and if the reads would go to different
    databases, they run one after another.
    """
    compiled = [(prepared.compiled(), value) for prepared, value in calls]
    connection = compiled[0][0].connection if compiled else None
    if (
        connection is None
        or connection.vendor != "postgresql"
        or any(each.connection is not connection for each, _ in compiled)
    ):
        return [PreparedRows._run(each, value) for each, value in compiled]

    def read():
        connection.ensure_connection()
        cursors = []
        # Errors come out of the pipeline's end as psycopg's: Django's, as from execute().
        with connection.wrap_database_errors, connection.connection.pipeline():
            for each, value in compiled:
                cursor = connection.cursor()
                cursor.execute(each.sql, PreparedRows._params(each, value))
                cursors.append(cursor)
        rows = []
        for cursor in cursors:
            with cursor:
                rows.append(cursor.fetchall())
        return rows

    read_rows = first_query(connection, read)
    return [
        PreparedRows._converted(each, rows)
        for (each, _), rows in zip(compiled, read_rows, strict=True)
    ]
