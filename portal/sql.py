"""Small pieces of SQL written out by hand, the same on both databases.

Where a hot read is written as a statement rather than built with the ORM
(the ORM's building costs more than the database's answer), the parts whose
spelling differs between SQLite and PostgreSQL live here.
"""

import json
from collections.abc import Iterable


def one_of(connection, expression: str, values: Iterable, sql_type: str) -> tuple[str, list]:
    """`expression IN values` as SQL and its parameters, the list passed as ONE
    parameter: the statement's text is the same whatever the list's length (no
    placeholder per value to build and parse), and either database answers it
    with index probes on `expression`. `sql_type`: the values' PostgreSQL type
    (text, bigint).

    On PostgreSQL the array comes through a one-row sub-select, so the planner
    plans `= ANY($0)` without seeing the values: given them, it estimates each
    one against the column's statistics, about a millisecond for the few
    hundred windows of a pasted message — longer than running the query. On
    SQLite, `IN (SELECT value FROM json_each(?))` probes the index per value.
    """
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{expression} = ANY((SELECT %s::{sql_type}[])::{sql_type}[])", [values]
    return f"{expression} IN (SELECT value FROM json_each(%s))", [
        json.dumps(values, ensure_ascii=False)
    ]
