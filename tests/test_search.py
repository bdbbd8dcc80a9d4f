"""Search quality and the /search/ page. Runs unchanged on SQLite and PostgreSQL."""

import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from agencies.enums import Status
from agencies.models import AgencyPhone, Province
from agencies.search import index as search_index
from agencies.search import textnorm
from agencies.search.filters import SearchHitFilter
from agencies.search.models import SearchEntry, SearchToken
from agencies.search.present import search_names
from agencies.search.understand import InputKind, classify
from tests.factories import add_name, make_agency

CHANGSHA = ["changsha_zc", "hengtong_live", "hengtong", "xinda"]
ASSET_MGMT = ["changsha_zc", "chongqing", "guangzhou", "xinda", "abc"]
PINYIN_CHANGSHA = ["changsha_zc", "hengtong_live", "xinda", "hengtong"]

# query → the whole result list, in order.
NAME_QUERIES = [
    # Two characters: one gram.
    ("长沙", CHANGSHA),
    ("催收", ["sample", "huarong", "xinda_sh", "guangzhou"]),
    ("恒通", ["hengtong_live", "hengtong"]),
    ("信达", ["xinda_sh"]),
    ("长 沙", CHANGSHA),
    # One character: a prefix range.
    ("鑫", ["xinda"]),
    # Traditional, full-width, case, suffixes.
    ("資產管理", ASSET_MGMT),
    ("长沙资产管理", ["changsha_zc"]),
    ("长沙资产管理有限责任公司", ["changsha_zc"]),
    ("長沙資產管理有限公司", ["changsha_zc"]),
    ("长沙资产管理有限", ["changsha_zc"]),
    ("ＡＢＣ", ["abc"]),
    ("abc", ["abc"]),
    ("ABC资产管理（深圳）有限公司", ["abc"]),
    # Former names and aliases rank after current names.
    ("鑫达资管", ["xinda"]),
    ("商务咨询", ["xinda"]),
    ("天河催收", ["guangzhou"]),
    # Pinyin, initials, a half-typed syllable, a polyphonic place name.
    ("changsha", PINYIN_CHANGSHA),
    ("CHANGSHA", PINYIN_CHANGSHA),
    ("chang sha", PINYIN_CHANGSHA),
    ("changsh", PINYIN_CHANGSHA),
    ("hunanzichan", ["hunan_zc"]),
    ("zichanguanli", ASSET_MGMT),
    ("chongqing", ["chongqing"]),
    ("cq", ["chongqing"]),
    ("xinda", ["xinda", "xinda_sh"]),
    # Nothing to find.
    ("有限公司", []),
    ("不存在的公司", []),
    ("zzzz", []),
]


def run(folded: str, data: str = "", page: int = 1, page_size: int = 20):
    filterset = SearchHitFilter(QueryDict(data))
    return search_names(folded, filterset, page=page, page_size=page_size)


def keys_of(results, agencies) -> list[str]:
    # Hits are rows (agencies.rows.ListedAgency); an agency is known by its credit code.
    by_uscc = {agency.uscc: key for key, agency in agencies.items()}
    return [by_uscc[hit.agency.uscc] for hit in results.hits]


@pytest.mark.parametrize(("query", "expected"), NAME_QUERIES)
def test_name_search_quality(directory, query, expected):
    classified = classify(query)
    assert classified.kind == InputKind.NAME
    results = run(classified.folded)
    assert keys_of(results, directory) == expected
    assert results.count == len(expected)


@pytest.mark.parametrize(
    ("query", "includes", "excludes"),
    [
        ("cs", ["changsha_zc", "xinda", "huarong", "sample"], ["chongqing", "abc"]),
        ("hncs", ["xinda"], ["changsha_zc"]),
    ],
)
def test_initials(directory, query, includes, excludes):
    found = keys_of(run(classify(query).folded), directory)
    assert set(includes) <= set(found)
    assert not set(excludes) & set(found)


def test_ranking_exact_before_prefix_before_substring(db):
    substring = make_agency("湖南鑫源资产管理有限公司")
    prefix = make_agency("鑫源资产管理咨询有限公司")
    exact = make_agency("鑫源资产管理有限公司")
    former = make_agency("某某信息服务有限公司")
    add_name(former, "鑫源资产管理有限公司")
    dead_exact = make_agency("鑫源资产管理股份有限公司", status=Status.REVOKED)
    search_index.refresh([a.id for a in (substring, prefix, exact, former, dead_exact)])
    results = run(textnorm.fold_query("鑫源资产管理"))
    assert [hit.agency.uscc for hit in results.hits] == [
        a.uscc for a in (exact, dead_exact, prefix, substring, former)
    ]
    assert results.hits[-1].matched_name == "鑫源资产管理有限公司"


def test_facets_and_filters(directory):
    results = run("资产管理")
    assert {f.value: f.count for f in results.provinces} == {"43": 2, "50": 1, "44": 2}
    assert {f.value: f.count for f in results.statuses} == {"存续": 4, "在业": 1}

    narrowed = run("资产管理", "province=44")
    assert narrowed.count == 2
    # The province facet still counts every province; the status facet follows the filter.
    assert {f.value: f.count for f in narrowed.provinces} == {"43": 2, "50": 1, "44": 2}
    assert {f.value: f.count for f in narrowed.statuses} == {"存续": 1, "在业": 1}
    assert [f.value for f in narrowed.provinces if f.selected] == ["44"]

    by_status = run("资产管理", "status=在业")
    assert keys_of(by_status, directory) == ["abc"]
    assert keys_of(run("长沙", "status=存续,注销&province=湖南"), directory) == CHANGSHA


def test_invalid_filters_are_ignored(directory):
    results = run("长沙", "province=火星&status=bogus")
    assert results.count == len(CHANGSHA)


def test_pagination(directory):
    first = run("长沙", page=1, page_size=3)
    second = run("长沙", page=2, page_size=3)
    assert first.count == second.count == 4
    assert first.page.paginator.num_pages == 2
    assert first.page.has_next() and not second.page.has_next()
    assert keys_of(first, directory) + keys_of(second, directory) == CHANGSHA
    assert run("长沙", page=99, page_size=3).page.number == 2
    assert run("长沙", page="abc", page_size=3).page.number == 1


def test_refresh_replaces_old_names(directory):
    agency = directory["huarong"]
    agency.name = "北京新名称咨询有限公司"
    agency.save()
    search_index.refresh([agency.id])
    assert run("华融").count == 0
    assert keys_of(run("新名称"), directory) == ["huarong"]
    assert SearchEntry.objects.filter(agency=agency).count() == 1


def test_status_change_moves_rank(directory):
    live = directory["hengtong_live"]
    live.status = Status.CANCELLED
    live.save()
    search_index.refresh([live.id])
    # Both dead now and the same length: agency id decides, stably.
    assert keys_of(run("恒通"), directory) == ["hengtong", "hengtong_live"]


def test_deleted_agency_leaves_no_grams(directory):
    agency = directory["huarong"]
    agency_id = agency.id
    agency.delete()
    assert not SearchToken.objects.filter(agency_id=agency_id).exists()
    assert run("华融").count == 0


def test_rebuild_matches_refresh(directory):
    before = sorted(SearchToken.objects.values_list("agency_id", "gram", "rank"))
    assert search_index.rebuild() == len(directory)
    assert sorted(SearchToken.objects.values_list("agency_id", "gram", "rank")) == before


# --- Classification -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\x00", "empty"),
        ("（）", "empty"),
        ("+86 139 0731 0000", "phone"),
        ("95511", "phone"),
        ("长沙", "name"),
        ("changsha", "name"),
        ("hunanzichanguanlia", "name"),  # 18 letters: pinyin, not a credit code
        ("12345", "phone"),  # a 12xxx public hotline
        ("1234", "name"),
    ],
)
def test_classify(raw, kind):
    assert classify(raw).kind == kind


def test_classify_digits_that_are_not_a_number():
    classified = classify("1234567")
    assert classified.kind == "name" and classified.not_a_number


def test_classify_uscc_variants(directory):
    code = directory["xinda"].uscc
    spaced = " ".join([code[:4], code[4:8], code[8:12], code[12:]]).lower()
    classified = classify(spaced)
    assert classified.kind == "uscc" and classified.uscc == code and not classified.uscc_error
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    typo = classify(wrong)
    assert typo.kind == "uscc" and typo.uscc_error and typo.uscc_expected == code


# --- The page -----------------------------------------------------------------------------------


PHONE_FORMS = [
    "+86 139 0731 0000",
    "0086-13907310000",
    "139-0731-0000",
    "１３９０７３１００００",
    "139.0731.0000",
    "(0731) 8888 8888",
    "0731-88888888",
    "+86 731 8888 8888",
]


@pytest.mark.parametrize("raw", PHONE_FORMS)
def test_phone_forms_redirect_to_number_page(client, directory, raw):
    response = client.get("/search/", {"q": raw})
    assert response.status_code == 302
    assert response["Location"] in ("/phone/13907310000/", "/phone/073188888888/")


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        ("400-800-1234", "4008001234", {"huarong", "xinda_sh"}),
        ("4008001234", "4008001234", {"huarong", "xinda_sh"}),
        ("95511", "95511", {"xinda_sh"}),
        ("+86 139 0731 0000", "13907310000", {"xinda"}),
        ("(0731) 8888 8888", "073188888888", {"xinda"}),
        ("13800000000", "13800000000", set()),
    ],
)
def test_phone_lookup(directory, raw, key, expected):
    classified = classify(raw)
    assert classified.kind == "phone" and classified.phone.key == key
    by_id = {agency.id: k for k, agency in directory.items()}
    assert {by_id[link.agency_id] for link in AgencyPhone.objects.for_number(key)} == expected


def test_uscc_found_redirects(client, directory):
    agency = directory["xinda"]
    response = client.get("/search/", {"q": agency.uscc.lower()})
    assert response.status_code == 302
    assert response["Location"] == agency.get_absolute_url()


def test_uscc_unknown_says_where_to_check(client, db):
    from agencies import uscc

    code = uscc.with_check_digit("91430100MA9999999")
    response = client.get("/search/", {"q": code})
    assert response.status_code == 200
    text = response.content.decode()
    assert "本站名录中没有这个代码" in text and "www.gsxt.gov.cn" in text


def test_uscc_typo_says_one_character_is_wrong_not_which(client, directory):
    code = directory["xinda"].uscc
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.get("/search/", {"q": wrong})
    text = response.content.decode()
    assert response.status_code == 200
    assert f"按前17位算应为“{code[17]}”，这里是“{wrong[17]}”" in text
    assert "说明不了错在哪一位" in text
    # The code with the computed check character is shown as another company's.
    assert "它属于另一家公司，不是这个代码的更正" in text
    assert directory["xinda"].name in text


def test_empty_query_shows_guidance(client, db):
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get("/search/", params)
        assert response.status_code == 200
        assert "在上面的框里输入" in response.content.decode()


def test_name_page_shows_kind_results_and_facets(client, directory):
    response = client.get("/search/", {"q": "長沙"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "识别为：公司名称" in text
    assert "找到 4 家机构" in text
    assert directory["changsha_zc"].name in text
    # Facet links keep the query.
    assert 'href="?q=%E9%95%B7%E6%B2%99&amp;province=43"' in text
    assert not response.cookies


def test_facet_links_narrow_and_widen_from_the_first_page(client, directory):
    text = client.get("/search/", {"q": "长沙", "province": "43", "page": "2"}).content.decode()
    q = "q=%E9%95%BF%E6%B2%99"
    # The chosen province offers 不限: the same query without it, from page 1.
    assert f'<a class="reset" href="?{q}">不限</a>' in text
    # A status narrows within the chosen province, also from page 1.
    assert f'href="?{q}&amp;province=43&amp;status=%E5%AD%98%E7%BB%AD"' in text


def test_sample_records_show_the_badge(client, directory):
    text = client.get("/search/", {"q": "示例催收"}).content.decode()
    assert "badge-sample" in text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "长沙", "page": "abc"},
        {"q": "长沙", "page": "-3"},
        {"q": "长沙", "page": "99999999999999999999"},
        {"q": "长沙", "province": "x" * 500, "status": "\x00"},
    ],
)
def test_bad_page_and_filters_show_the_results_anyway(client, directory, params):
    response = client.get("/search/", params)
    text = response.content.decode()
    assert response.status_code == 200
    # The whole answer, on a real page: the count, the results and where we are.
    assert "找到 4 家机构" in text and directory["changsha_zc"].name in text
    assert "第 1–4 家" in text


def test_nul_bytes_are_stripped(client, directory):
    response = client.get("/search/", {"q": "长\x00沙"})
    assert response.status_code == 200
    assert "找到 4 家机构" in response.content.decode()


def test_no_inline_script_or_style(client, directory):
    for params in ({"q": "长沙"}, {"q": ""}, {"q": "91430100MA4L000000"}):
        text = client.get("/search/", params).content.decode()
        # Scripts only from files (the search box's static/js/search-paste.js).
        assert not re.search(r"<script(?![^>]*\bsrc=)", text)
        assert "style=" not in text and "<style" not in text


@pytest.mark.parametrize("query", ["长沙", "资产管理", "changsha", "鑫"])
def test_query_count_does_not_grow_with_data(build_directory, count_queries, query):
    build_directory()
    small = count_queries("/search/", {"q": query})
    for _ in range(4):
        build_directory()
    large = count_queries("/search/", {"q": query})
    assert small == large
    assert large <= 9


def test_the_facets_read_province_names_once_per_data_version(client, directory):
    """The province facets of a name search: their names from memory while the
    data is unchanged (one query fewer per search), and a province's new name
    as soon as it is edited, since every edit bumps the data version."""
    table = f'FROM "{Province._meta.db_table}"'

    def page() -> tuple[str, list]:
        with CaptureQueriesContext(connection) as queries:
            text = client.get("/search/", {"q": "长沙"}).content.decode()
        return text, [q["sql"] for q in queries.captured_queries if table in q["sql"]]

    page()
    text, province_reads = page()
    assert "湖南省" in text and province_reads == []
    hunan = Province.objects.get(code="43")
    hunan.name = "湖南省（新名称）"
    hunan.save()
    text, province_reads = page()
    assert "湖南省（新名称）" in text and province_reads
