"""A phrase of three characters or more (鑫达资产): the written-out statement, and on
PostgreSQL the trigram index it reads (agencies.search.candidates._phrase_sql()).

The statement must give exactly what the ORM path gives — the same agencies,
tiers, order, totals and facets — on both databases; on PostgreSQL the names
come from pg_trgm's GIN index (migration 0013), which a bulk load drops and
builds again like the gram index.
"""

import importlib

import pytest
from django.db import connection
from django.http import QueryDict

from agencies import dbindexes
from agencies.search import candidates
from agencies.search import index as search_index
from agencies.search.filters import SearchHitFilter
from agencies.search.present import search_names
from agencies.search.understand import classify

pytestmark = pytest.mark.django_db

# Phrases (and filters) the directory of tests/conftest.py answers in every way
# a phrase can: exact, prefix, substring, a former name, an alias, a dead
# agency after a live one, Traditional and full-width input, nothing at all.
PHRASES = [
    ("长沙资产管理", ""),
    ("長沙資產管理有限公司", ""),
    ("资产管理", ""),
    ("资产管理", "province=44"),
    ("资产管理", "status=存续"),
    ("恒通信息", ""),
    ("鑫达资管", ""),
    ("商务咨询", ""),
    ("天河催收", ""),
    ("ＡＢＣ资产", ""),
    ("不存在的公司", ""),
    ("长沙 资产", ""),
]


def _answer(query: str, data: str):
    results = search_names(classify(query).folded, SearchHitFilter(QueryDict(data)))
    return (
        results.count,
        [(hit.agency.uscc, hit.tier, hit.matched_name) for hit in results.hits],
        [(facet.value, facet.count) for facet in results.provinces],
        [(facet.value, facet.count) for facet in results.statuses],
    )


@pytest.mark.parametrize(("query", "data"), PHRASES)
def test_the_phrase_statement_answers_as_the_orm_path(directory, monkeypatch, query, data):
    written_out = _answer(query, data)
    monkeypatch.setattr(candidates, "_one_phrase", lambda alternative: False)
    monkeypatch.setattr(candidates, "_trigram_needles", lambda alternative: [])
    assert written_out == _answer(query, data)


def test_a_phrase_is_one_statement(directory):
    found = candidates.matching(classify("长沙资产管理").folded)
    assert found.sql is not None and found.queryset is None
    # Two characters stay on the gram's own rows, several keywords on the ORM path.
    assert candidates.matching("长沙").tally_gram == "长沙"
    assert candidates.matching("长沙 资产").sql is None


def test_the_migration_builds_the_index_the_import_rebuilds():
    migration = importlib.import_module("agencies.migrations.0013_searchentry_trigram")
    assert migration.CREATE == search_index.TRIGRAM_INDEX_SQL
    assert migration.INDEX == search_index.TRIGRAM_INDEX


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm: PostgreSQL only")
def test_a_bulk_load_drops_and_builds_the_trigram_index(directory):
    def trigram_index() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_indexes WHERE indexname = %s", [search_index.TRIGRAM_INDEX]
            )
            return cursor.fetchone() is not None

    assert trigram_index()
    writer = search_index.IndexWriter()
    writer.go_bulk()
    assert not trigram_index()
    assert not dbindexes.exists(search_index.SearchToken, search_index.GRAM_INDEX)
    writer.finish()
    assert trigram_index()
    assert [hit.agency.name for hit in _hits("长沙资产管理")] == ["长沙资产管理有限公司"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite: no trigram index")
def test_sqlite_reads_a_phrase_through_the_grams(directory):
    sql, _params = candidates.matching(classify("长沙资产管理").folded).sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, _params)
        details = [row[-1] for row in cursor.fetchall()]
    # The driver gram is a range of the gram index; names and the agency row by key.
    assert any("searchtoken_gram_rank" in detail for detail in details), details
    assert not any(detail.startswith("SCAN") for detail in details), details


def _hits(query: str):
    return search_names(classify(query).folded, SearchHitFilter(QueryDict())).hits
