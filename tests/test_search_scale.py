"""What keeps name search fast in a large directory, and what a person sees of it.

- Gram counts (`SearchGramCount`) give the totals and facets of one-gram
  queries, so they must always equal the gram rows they summarise, whatever
  wrote the index: import, bulk load, refresh, delete, rebuild.
- A broad query (more candidates than candidates.SCAN_LIMIT) checks only the
  best candidates and says so on the page and in the API.

The limits are lowered here so a directory of a dozen agencies is "large".
"""

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models import Count, Q
from django.db.models.functions import Upper
from django.http import QueryDict

from agencies import dbindexes, importing
from agencies.enums import Status
from agencies.importing import writing
from agencies.models import Agency, Phone
from agencies.search import candidates
from agencies.search import index as search_index
from agencies.search.filters import SearchHitFilter
from agencies.search.models import SearchGramCount, SearchToken
from agencies.search.present import search_names
from tests.factories import add_name, add_phone, make_agency, make_uscc


def gram_counts_from_rows() -> dict:
    rows = (
        SearchToken.objects.values_list("gram", "province_code", "status")
        .annotate(n=Count("*"))
        .order_by()
    )
    return {(gram, province, status): n for gram, province, status, n in rows}


def stored_gram_counts() -> dict:
    return {
        (gram, province, status): n
        for gram, province, status, n in SearchGramCount.objects.values_list(
            "gram", "province_code", "status", "n"
        )
    }


def assert_counts_consistent():
    expected = gram_counts_from_rows()
    assert expected, "the index is empty: the test proves nothing"
    assert stored_gram_counts() == expected


def indexes_exist() -> bool:
    return dbindexes.exists(SearchToken, search_index.GRAM_INDEX) and all(
        dbindexes.exists(Agency, index.name) for index in Agency._meta.indexes
    )


def records(n: int, name: str = "长沙{i}号资产管理有限公司", province: str = "43") -> list[dict]:
    return [
        {
            "uscc": make_uscc(province),
            "name": name.format(i=i),
            "province": province,
            "status": "存续",
            "former_names": [f"旧名{i}咨询有限公司"],
        }
        for i in range(n)
    ]


# --- Gram counts -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_counts_follow_import_refresh_delete_and_rebuild():
    importing.import_records(records(6), batch_size=4)
    assert_counts_consistent()

    agency = Agency.objects.order_by("id").first()
    agency.name = "株洲新名字信息咨询有限公司"
    agency.status = Status.CANCELLED
    agency.save()
    add_name(agency, "另一个别名")
    search_index.refresh([agency.id])
    assert_counts_consistent()

    # Updating through the import (a changed name) and deleting both ways.
    update = records(0)
    update.append({"uscc": agency.uscc, "name": "湘潭又改名资产管理有限公司"})
    importing.import_records(update)
    assert_counts_consistent()
    Agency.objects.order_by("-id").first().delete()
    Agency.objects.filter(id=agency.id).delete()
    assert_counts_consistent()
    assert not SearchGramCount.objects.filter(gram="湘潭").exists()

    search_index.rebuild()
    assert_counts_consistent()


@pytest.mark.django_db
def test_a_bulk_load_rebuilds_the_indexes_and_counts(monkeypatch, client):
    make_agency("既有资产管理有限公司")
    search_index.refresh(Agency.objects.values_list("id", flat=True))
    monkeypatch.setattr(writing, "BULK_MIN_CREATED", 3)
    went_bulk = []
    original = search_index.IndexWriter.go_bulk
    monkeypatch.setattr(
        search_index.IndexWriter,
        "go_bulk",
        lambda self: went_bulk.append(True) or original(self),
    )

    summary = importing.import_records(records(9), batch_size=3)

    assert summary.created == 9 and went_bulk
    assert indexes_exist()
    # The rebuilt agency index serves the province page as before.
    assert client.get("/provinces/hunan/").status_code == 200
    assert_counts_consistent()
    results = search_names("资产管理", SearchHitFilter(QueryDict()))
    assert results.count == 10


def _watch_bulk(monkeypatch) -> list:
    went_bulk = []
    original = search_index.IndexWriter.go_bulk
    monkeypatch.setattr(
        search_index.IndexWriter,
        "go_bulk",
        lambda self: went_bulk.append(True) or original(self),
    )
    return went_bulk


@pytest.mark.django_db
def test_a_first_load_goes_bulk_after_its_first_full_batch(monkeypatch):
    """Into an empty directory, far below BULK_MIN_CREATED: still built once at the end."""
    went_bulk = _watch_bulk(monkeypatch)
    summary = importing.import_records(records(7), batch_size=3)
    assert summary.created == 7 and went_bulk == [True]
    assert indexes_exist()
    assert_counts_consistent()


@pytest.mark.django_db
def test_a_load_into_a_populated_directory_stays_incremental(monkeypatch):
    monkeypatch.setattr(writing, "BULK_NEARLY_EMPTY", 1)
    make_agency("既有资产管理有限公司")
    went_bulk = _watch_bulk(monkeypatch)
    summary = importing.import_records(records(7), batch_size=3)
    assert summary.created == 7 and not went_bulk
    assert_counts_consistent()


@pytest.mark.django_db
def test_a_file_shorter_than_a_batch_never_goes_bulk(monkeypatch):
    went_bulk = _watch_bulk(monkeypatch)
    summary = importing.import_records(records(2), batch_size=3)
    assert summary.created == 2 and not went_bulk


def schema_definitions() -> set[tuple]:
    """Every index and foreign key of the app's tables, as the database itself states them.

    SQLite: the SQL it keeps for each table and index (a table's holds its
    foreign keys). PostgreSQL: each index's definition and each foreign key's.
    """
    tables = [model._meta.db_table for model in apps.get_app_config("agencies").get_models()]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, tbl_name, name, sql FROM sqlite_master "
                f"WHERE tbl_name IN ({', '.join(['%s'] * len(tables))})",
                tables,
            )
            return set(cursor.fetchall())
        cursor.execute(
            "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename = ANY(%s)",
            [tables],
        )
        found = set(cursor.fetchall())
        cursor.execute(
            "SELECT 'foreign key', conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        return found | set(cursor.fetchall())


@pytest.mark.django_db
def test_a_failed_bulk_load_keeps_the_indexes_and_keys(monkeypatch):
    schema = schema_definitions()
    monkeypatch.setattr(writing, "BULK_MIN_CREATED", 2)
    bad = [*records(6), {"uscc": "not a code", "name": "坏记录"}]
    summary = importing.import_records(bad, batch_size=2)
    assert summary.failed and not Agency.objects.exists()
    assert indexes_exist()
    assert schema_definitions() == schema


@pytest.mark.django_db
def test_a_bulk_load_builds_indexes_and_keys_again_exactly_as_declared(monkeypatch):
    """What the agency indexes declare beyond columns (a condition, an operator
    class, an expression) survives being dropped and built again; so do the
    gram index and, on PostgreSQL, the foreign keys."""
    declared = [
        models.Index(Upper("city"), name="agency_test_city", condition=Q(is_sample=False)),
        # Operator classes are PostgreSQL's; SQLite's schema editor leaves them out.
        models.Index(
            fields=["name_sort"],
            name="agency_test_live_sort",
            condition=Q(status__in=Status.live_values()),
            opclasses=["varchar_pattern_ops"],
        ),
    ]
    monkeypatch.setattr(Agency._meta, "indexes", [*Agency._meta.indexes, *declared])
    # Partial indexes the app already has (the history's number entries).
    conditional = sum("WHERE" in (row[-1] or "") for row in schema_definitions())
    editor = connection.schema_editor()  # not entered: SQLite's refuses inside atomic()
    for index in declared:
        editor.add_index(Agency, index)
    before = schema_definitions()
    assert sum("WHERE" in (row[-1] or "") for row in before) == conditional + 2
    dropped, dropped_keys = [], []
    drop, drop_foreign_keys = dbindexes.drop, dbindexes.drop_foreign_keys
    monkeypatch.setattr(
        dbindexes, "drop", lambda model, name: dropped.append(name) or drop(model, name)
    )
    monkeypatch.setattr(
        dbindexes,
        "drop_foreign_keys",
        lambda chosen: dropped_keys.extend(drop_foreign_keys(chosen)) or dropped_keys,
    )
    monkeypatch.setattr(writing, "BULK_MIN_CREATED", 3)

    summary = importing.import_records(records(9), batch_size=3)

    assert summary.created == 9, summary.problems
    assert {"agency_test_city", "agency_test_live_sort", search_index.GRAM_INDEX} <= set(dropped)
    assert bool(dropped_keys) == (connection.vendor == "postgresql")
    assert schema_definitions() == before


@pytest.mark.django_db
def test_a_bulk_load_links_shared_numbers_once_and_keeps_its_keys(monkeypatch, client):
    """Numbers shared across batches, and one the directory already had, end up
    as one number each; the number page lists every agency that uses it."""
    schema = schema_definitions()
    existing = make_agency("既有资产管理有限公司")
    add_phone(existing, "0731-88880000")
    monkeypatch.setattr(writing, "BULK_MIN_CREATED", 3)
    batch = records(9)
    for i, record in enumerate(batch):
        record["phones"] = ["400-800-1234", "0731 8888 0000", f"1390731{i:04d}"]

    summary = importing.import_records(batch, batch_size=2)

    assert summary.created == 9, summary.problems
    assert schema_definitions() == schema
    assert Phone.objects.count() == 2 + 9
    page = client.get("/phone/073188880000/").content.decode()
    assert all(name in page for name in [existing.name, *(r["name"] for r in batch)])
    assert len(client.get("/api/v1/phones/4008001234").json()["agencies"]) == 9


def test_build_is_pure_and_needs_no_agency():
    entries, tokens = search_index.build("长沙鑫达资产管理有限公司", "存续", [("former", "旧名")])
    assert [kind for kind, *_ in entries] == ["name", "former"]
    assert tokens[""] < tokens["长沙"] < tokens["鑫达"]


# --- Broad queries ------------------------------------------------------------------------------


@pytest.fixture
def broad(db, monkeypatch):
    """12 agencies named 资产管理 (8 in Hunan, 4 in Hubei); more than 5 is broad."""
    monkeypatch.setattr(candidates, "SCAN_LIMIT", 5)
    agencies = [make_agency(f"长沙第{i}资产管理有限公司") for i in range(8)]
    agencies += [make_agency(f"武汉第{i}资产管理有限公司", "42") for i in range(4)]
    search_index.refresh(a.id for a in agencies)
    return agencies


def test_a_broad_query_checks_only_the_best_candidates(broad):
    results = search_names("资产管理", SearchHitFilter(QueryDict()))
    assert results.broad and results.partial
    assert results.count == 5
    assert len(results.hits) == 5


def test_a_filter_that_narrows_a_broad_query_gives_exact_results(broad):
    results = search_names("资产管理", SearchHitFilter(QueryDict("province=42")))
    assert results.broad and not results.partial
    assert results.count == 4
    assert {hit.agency.province.code for hit in results.hits} == {"42"}


def test_a_narrow_query_is_exact_with_facet_counts(broad):
    make_agency("长沙唯一信息咨询有限公司")
    search_index.refresh(Agency.objects.filter(name__contains="唯一").values_list("id", flat=True))
    results = search_names("唯一信息", SearchHitFilter(QueryDict()))
    assert not results.broad and results.count == 1
    assert [(f.value, f.count) for f in results.provinces] == [("43", 1)]


def test_search_page_says_a_broad_count_is_a_lower_bound(client, broad):
    page = client.get("/search/", {"q": "资产管理"}).content.decode()
    assert "至少 5 家机构" in page
    assert "数目是下限" in page
    # Facets are still links, but without numbers that would mislead.
    assert 'class="count"' not in page

    narrowed = client.get("/search/", {"q": "资产管理", "province": "42"}).content.decode()
    assert "找到 4 家机构" in narrowed
    assert "数目完整、准确" in narrowed


def test_api_marks_a_broad_answer_partial(client, broad):
    body = client.get("/api/v1/search", {"q": "资产管理"}).json()
    assert body["partial"] is True and body["count"] == 5
    narrow = client.get("/api/v1/search", {"q": "资产管理", "province": "42"}).json()
    assert narrow["partial"] is False and narrow["count"] == 4


def test_one_gram_totals_come_from_the_counts(broad):
    # Counted rows would say 12; the stored count is what the page shows, so
    # a stale count would be visible here.
    SearchGramCount.objects.filter(gram="资产", province_code="42").update(n=40)
    assert search_names("资产", SearchHitFilter(QueryDict())).count == 48
