"""Forgiving name search: several keywords in any order, and "你是不是要找" when a
query finds nothing (the same pinyin, one character edited). Runs unchanged on
SQLite and PostgreSQL."""

import pytest
from django.http import QueryDict

from agencies.search import index as search_index
from agencies.search import suggest, textnorm
from agencies.search.filters import SearchHitFilter
from agencies.search.present import search_names
from agencies.search.rank import Tier
from agencies.search.understand import classify
from tests.factories import make_agency

CHANGSHA = ["changsha_zc", "hengtong_live", "hengtong", "xinda"]


def run(query: str, data: str = "", suggest_corrections: bool = True):
    filterset = SearchHitFilter(QueryDict(data))
    return search_names(classify(query).folded, filterset, suggest_corrections=suggest_corrections)


def keys_of(results, agencies) -> list[str]:
    # Hits are rows (agencies.rows.ListedAgency); an agency is known by its credit code.
    by_uscc = {agency.uscc: key for key, agency in agencies.items()}
    return [by_uscc[hit.agency.uscc] for hit in results.hits]


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("常德 商务", "常德 商务"),
        ("長沙　資產", "长沙 资产"),  # Traditional, an ideographic space
        # Not keywords: characters typed apart, pinyin with spaces, company forms.
        ("长 沙", "长沙"),
        ("chang sha", "changsha"),
        ("长沙资产管理 有限公司", "长沙资产管理"),
        ("长沙资产管理 有限", "长沙资产管理"),
        # A keyword inside another, or twice, is one.
        ("长沙 长沙资产", "长沙资产"),
        ("商务 常德 常德", "商务 常德"),
    ],
)
def test_keywords_of_a_query(typed, folded):
    assert textnorm.fold_query(typed) == folded


# query → the whole result list, in order.
KEYWORD_QUERIES = [
    ("长沙 恒通", ["hengtong_live", "hengtong"]),
    ("恒通 长沙", ["hengtong_live", "hengtong"]),
    ("信息 长沙 服务", ["hengtong_live"]),
    # Typed together first (the phrase is a name), then the keywords apart.
    ("长沙 资产管理", ["changsha_zc", "xinda"]),
    ("资产管理 长沙", ["changsha_zc", "xinda"]),
    # A former name holds both.
    ("商务 鑫达", ["xinda"]),
    # A keyword in pinyin.
    ("changsha 恒通", ["hengtong_live", "hengtong"]),
    ("长沙 不存在", []),
]


@pytest.mark.parametrize(("query", "expected"), KEYWORD_QUERIES)
def test_every_keyword_is_required_in_any_order(directory, query, expected):
    results = run(query, suggest_corrections=False)
    assert keys_of(results, directory) == expected
    assert results.count == len(expected)


def test_keywords_apart_rank_after_the_phrase_and_name_the_former_name(directory):
    results = run("长沙 资产管理")
    assert [hit.tier for hit in results.hits] == [Tier.EXACT, Tier.ALL_WORDS]
    former = run("商务 鑫达").hits[0]
    assert former.tier == Tier.ALL_WORDS and former.matched_name == "长沙鑫达商务咨询有限公司"


# typed → (the correction searched, its results).
SLIPS = [
    # The same pinyin, another character (an input method's wrong pick).
    ("长纱", "长沙", CHANGSHA),
    ("長紗", "长沙", CHANGSHA),
    ("长沙鑫答", "长沙鑫达", ["xinda"]),
    # One character wrong, one extra, two swapped.
    ("恒通信息咨间", "恒通信息咨询", ["hengtong"]),
    ("恒通通信息", "恒通信息", ["hengtong_live", "hengtong"]),
    ("通恒信息", "恒通信息", ["hengtong_live", "hengtong"]),
    ("沙长", "长沙", CHANGSHA),
    # One keyword of several.
    ("长纱 恒通", "长沙 恒通", ["hengtong_live", "hengtong"]),
]


@pytest.mark.parametrize(("typed", "correction", "expected"), SLIPS)
def test_a_query_that_finds_nothing_gets_the_likeliest_correction(
    directory, typed, correction, expected
):
    results = run(typed)
    assert results.suggested and results.searched == classify(typed).folded
    assert results.folded == correction
    assert keys_of(results, directory) == expected


def test_one_character_missing(db):
    agency = make_agency("长沙示例恒通信息咨询有限公司", "43")
    search_index.refresh([agency.id])
    results = run("示例恒信息咨询")
    assert results.folded == "示例恒通信息咨询"
    assert [hit.agency.uscc for hit in results.hits] == [agency.uscc]


@pytest.mark.parametrize("query", ["不存在的公司", "zzzz", "长沙恒通不存在"])
def test_nothing_like_it_suggests_nothing(directory, query):
    results = run(query)
    assert results.count == 0 and not results.suggested
    assert suggest.corrections(classify(query).folded) == []


def test_a_query_that_finds_something_is_never_corrected(directory):
    results = run("长沙")
    assert not results.suggested and results.folded == "长沙"


def test_the_issue_examples(db):
    """常得 for 常德 (the same pinyin), and two keywords with a space."""
    changde = make_agency("常德市鼎新商务咨询有限公司", "43")
    other = make_agency("常州得力资产管理有限公司", "32")
    search_index.refresh([changde.id, other.id])
    assert [hit.agency.uscc for hit in run("常德 商务").hits] == [changde.uscc]
    assert [hit.agency.uscc for hit in run("商务 常德").hits] == [changde.uscc]
    typo = run("常得")
    assert typo.searched == "常得" and typo.folded == "常德"
    assert [hit.agency.uscc for hit in typo.hits] == [changde.uscc]
    typo_keywords = run("常得 商务")
    assert typo_keywords.folded == "常德 商务" and typo_keywords.count == 1


def test_the_page_offers_the_correction_with_its_results(client, directory):
    text = client.get("/search/", {"q": "长纱"}).content.decode()
    assert "名录中没有与“长纱”相符的机构。" in text
    assert '你是不是要找“<a href="/search/?q=%E9%95%BF%E6%B2%99">长沙</a>”？' in text
    assert "找到 4 家机构" in text and directory["changsha_zc"].name in text
    english = client.get("/en/search/", {"q": "长纱"}).content.decode()
    assert 'No agency in the directory matches “<span lang="zh-Hans">长纱</span>”.' in english
    assert (
        'Did you mean “<a href="/en/search/?q=%E9%95%BF%E6%B2%99">'
        '<span lang="zh-Hans">长沙</span></a>”?' in english
    )


def test_filters_apply_to_the_correction(client, directory):
    results = run("长纱", "status=注销")
    assert results.folded == "长沙" and keys_of(results, directory) == ["hengtong"]


@pytest.mark.parametrize("filters", ["province=11", "status=吊销", "province=43&status=吊销"])
def test_a_query_found_outside_the_filters_is_not_corrected(directory, filters):
    results = run("长沙", filters)
    assert results.count == 0 and not results.suggested and results.folded == "长沙"


def test_digits_and_pasted_messages_get_no_correction(client, directory):
    page = client.get("/search/", {"q": "1234567"}).content.decode()
    assert "你是不是要找" not in page


@pytest.mark.parametrize("query", ["长纱", "长沙 恒通", "恒通信息咨间", "不存在的公司"])
def test_query_count_does_not_grow_with_data(build_directory, count_queries, query):
    build_directory()
    small = count_queries("/search/", {"q": query})
    for _ in range(4):
        build_directory()
    large = count_queries("/search/", {"q": query})
    assert small == large
    assert large <= 13
