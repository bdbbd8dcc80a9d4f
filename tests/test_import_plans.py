"""Right after a bulk import, every page reads the big tables through their indexes.

A PostgreSQL that has not analysed a freshly loaded table plans with stale or
default statistics and may scan a million rows for a query an index answers
in a millisecond (seen: 194 ms per page for a one-row lookup). The import
refreshes the statistics itself (agencies.dbindexes.analyze), so what a
visitor meets right after `import_agencies` is what the pages were built for.
Here each query the main pages and API answers run is EXPLAINed straight
after a bulk load, with no ANALYZE of the test's own, and no plan may read a
big table sequentially.
"""

import json
import random

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency, AgencyName, AgencyPhone, Phone
from agencies.search.models import SearchEntry, SearchGramCount, SearchToken, TradeNameKey
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db

AGENCIES = 12_000
CITIES = [
    ("长沙", "43", "0731"),
    ("岳阳", "43", "0730"),
    ("广州", "44", "020"),
    ("成都", "51", "028"),
]
TRADE = "鼎盛宏达信诚恒远华安金汇博瑞众和启明天元东方卓越"
BUSINESS = ["资产管理", "信息咨询", "商务服务", "企业管理"]
BIG_TABLES = {
    model._meta.db_table
    for model in (
        Agency,
        AgencyName,
        AgencyPhone,
        Phone,
        SearchEntry,
        SearchToken,
        SearchGramCount,
        TradeNameKey,
    )
}


def _records(n: int):
    rng = random.Random(7)
    for i in range(n):
        city, province, area = CITIES[i % len(CITIES)]
        trade = rng.choice(TRADE) + rng.choice(TRADE)
        former = f"{city}{rng.choice(TRADE)}{rng.choice(TRADE)}{rng.choice(BUSINESS)}有限公司"
        yield {
            "uscc": make_uscc(province, serial=i + 1),
            "name": f"{city}{trade}{rng.choice(BUSINESS)}有限公司",
            "province": province,
            "city": f"{city}市",
            "status": "存续",
            "source": "测试数据",
            "retrieved_on": "2026-01-05",
            "former_names": [former] if i % 3 == 0 else [],
            "phones": [
                {"number": f"{area}-0000{i % 10_000:04d}", "label": "年报联系电话"},
                {"number": f"13{9 - i // 10_000}0000{i % 10_000:04d}", "label": "年报联系电话"},
            ],
        }


@pytest.fixture
def loaded(tmp_path):
    path = tmp_path / "directory.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in _records(AGENCIES):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    call_command("import_agencies", str(path), verbosity=0)
    assert Agency.objects.count() == AGENCIES
    return Agency.objects.order_by("pk").values_list("uscc", "name")[AGENCIES // 2]


def _sequential_scans(plan: dict) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in BIG_TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += _sequential_scans(child)
    return found


def _full_scans(cursor, sql: str) -> list[str]:
    """The big tables a query reads from end to end, by its plan."""
    if connection.vendor == "postgresql":
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()[0]
        return _sequential_scans(plan["Plan"])
    # SQLite: "SCAN t" reads the table (or a whole index) unless it walks an
    # index in the query's order and a LIMIT stops it (the home page's latest
    # ten); "SEARCH t USING ... (x=?)" is a lookup.
    cursor.execute("EXPLAIN QUERY PLAN " + sql)
    stopped_early = " LIMIT " in sql.upper()
    return [
        table
        for *_ids, detail in cursor.fetchall()
        for table in BIG_TABLES
        if (detail == f"SCAN {table}" or detail.startswith(f"SCAN {table} "))
        and not (stopped_early and " USING INDEX " in detail)
    ]


def _scans_for(client, url: str) -> dict[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    scans = {}
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if found := _full_scans(cursor, sql):
                scans[sql[:200]] = found
    return scans


def test_pages_use_indexes_straight_after_a_bulk_import(client, loaded):
    uscc, name = loaded
    trade = name[2:4]
    urls = [
        "/",
        "/provinces/hunan/",
        "/provinces/hunan/?status=存续",
        f"/agencies/{uscc}/",
        "/phone/13900001234/",
        "/phone/073000001234/",
        f"/search/?q={name[:4]}",
        f"/search/?q={trade}",
        f"/search/?q={trade} {name[:2]}",  # keywords
        f"/search/?q={name[:2]}{name[3]}{name[2]}",  # nothing matches: suggestions
        f"/api/v1/agencies/{uscc}",
        f"/api/v1/search?q={name[:4]}",
        "/api/v1/phones/13900001234",
    ]
    scans = {url: found for url in urls if (found := _scans_for(client, url))}
    assert scans == {}, json.dumps(scans, ensure_ascii=False, indent=1)


def _sorts(cursor, sql: str) -> list[str]:
    """The sorts a query's plan makes of rows it read (not an index walk)."""
    if connection.vendor == "postgresql":
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()[0]
        text = json.dumps(plan)
        return ["Sort"] * text.count('"Node Type": "Sort"') + ["Incremental Sort"] * text.count(
            '"Node Type": "Incremental Sort"'
        )
    cursor.execute("EXPLAIN QUERY PLAN " + sql)
    return [detail for *_ids, detail in cursor.fetchall() if "TEMP B-TREE FOR" in detail]


@pytest.mark.parametrize("order", ["established", "-established", "name", "-name"])
def test_a_sorted_province_page_reads_its_rows_in_order_off_an_index(client, loaded, order):
    """A page of a province in any of its orders is the first rows of an index,
    not a sort of every agency of the province (each of the 3,000 here, a
    province of 100,000 at a million agencies)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/provinces/hunan/?sort={order}")
    assert response.status_code == 200
    agencies = f'FROM "{Agency._meta.db_table}"'
    listing = [
        q["sql"]
        for q in queries.captured_queries
        if agencies in q["sql"] and " LIMIT " in q["sql"].upper()
    ]
    assert listing
    with connection.cursor() as cursor:
        for sql in listing:
            assert _sorts(cursor, sql) == [], sql[:300]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm: PostgreSQL only")
def test_a_phrase_is_read_through_the_trigram_index_straight_after_a_bulk_import(client, loaded):
    """The bulk load dropped the trigram index and built it again; the statement of
    a four-character search (agencies.search.candidates._phrase_sql()) finds its
    names through it, as the benchmark's queries do at a million agencies."""
    _uscc, name = loaded
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/search?q={name[2:6]}")
    assert response.status_code == 200
    phrase = [q["sql"] for q in queries.captured_queries if " LIKE " in q["sql"]]
    assert phrase
    with connection.cursor() as cursor:
        for sql in phrase:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = json.dumps(cursor.fetchone()[0])
            assert '"Index Name": "searchentry_folded_trgm"' in plan, plan


def _scans_outside_subplans(plan: dict, gram: str, inside: bool = False) -> list[str]:
    """Index conditions on `gram` of scans that are not a per-row SubPlan."""
    inside = inside or plan.get("Parent Relationship") == "SubPlan"
    found = []
    if gram in plan.get("Index Cond", "") and not inside:
        found.append(plan["Index Cond"])
    for child in plan.get("Plans", []):
        found += _scans_outside_subplans(child, gram, inside)
    return found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite checks EXISTS per row")
def test_keywords_are_read_from_their_rarest_gram_whatever_the_planner_guesses(client, loaded):
    """`鼎盛 长沙`: the few agencies with the trade name, each checked for 长沙, never
    every agency of 长沙 joined to the trade name's. PostgreSQL's estimates for
    a gram are guesses (at 1,000,000 agencies it took 哈尔滨's 25,000 rows for
    1,300 and started from them: 100 ms instead of 10); the search knows the
    counts and keeps the order it chose."""
    _uscc, name = loaded
    city, trade = name[:2], name[2:4]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/search?q={trade} {city}")
    assert response.status_code == 200 and response.json()["count"] >= 1
    tokens = f'"{SearchToken._meta.db_table}"'
    searches = [
        q["sql"]
        for q in queries.captured_queries
        if f"'{trade}'" in q["sql"] and tokens in q["sql"]
    ]
    assert searches
    with connection.cursor() as cursor:
        for sql in searches:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            (plan,) = cursor.fetchone()[0]
            assert _scans_outside_subplans(plan["Plan"], f"'{city}'") == [], sql[:400]


def test_the_check_uses_indexes_straight_after_a_bulk_import(client, loaded):
    _uscc, name = loaded
    text = f"我们是{name[:4]}的，你的欠款已逾期，请回电 13900001234，否则上门。"
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/check", {"text": text}, content_type="application/json")
    assert response.status_code == 200
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                assert _full_scans(cursor, query["sql"]) == [], query["sql"][:300]


def test_a_large_import_leaves_statistics_and_asks_for_a_vacuum(tmp_path, monkeypatch):
    """What the planner needs is written by the import itself: statistics on
    both databases (in the import's transaction), and a VACUUM once it has
    committed (agencies.dbindexes.vacuum: PostgreSQL only, and never inside
    a transaction — a test case's here, so it is watched rather than run).
    A small import does neither."""
    from agencies import dbindexes
    from agencies.importing import writing

    vacuumed = []
    monkeypatch.setattr(dbindexes, "vacuum", lambda models: vacuumed.append(list(models)))
    monkeypatch.setattr(writing, "ANALYZE_MIN_CHANGED", 50)

    def load(records, name):
        path = tmp_path / name
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        call_command("import_agencies", str(path), verbosity=0)

    records = list(_records(80))
    load(records[:10], "small.jsonl")
    assert vacuumed == []
    load(records[10:], "large.jsonl")
    assert len(vacuumed) == 1 and SearchToken in vacuumed[0] and Agency in vacuumed[0]
    table = SearchToken._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT COUNT(*) FROM pg_stats WHERE tablename = %s", [table])
        else:
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        assert cursor.fetchone()[0] > 0
