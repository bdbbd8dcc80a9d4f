"""The message check finds agencies named short of their registered name.

People write "岳阳鼎盛的法务", "廣州宏達的催收專員", "株洲华盈" or just "鼎盛". The
check finds an agency by place and trade name (字号), and by trade name alone
where no other agency has it; a trade name several agencies share lists them
as candidates and accuses none. Naming the wrong company accuses it: a trade
name inside an ordinary word, after the wrong place, or an everyday word,
names no one.

The directory is tests/data/check/directory.jsonl (20 fictitious agencies;
常德恒信 and 杭州恒信 share 恒信, 郴州金诚 and 武汉金诚 share 金诚), loaded as an
operator would.
"""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from agencies import dbindexes
from agencies.check import reading, tradenames
from agencies.importing import writing
from agencies.migrations import __name__ as migrations_package
from agencies.models import Agency
from agencies.search import index as search_index
from agencies.search import tradename
from agencies.search.models import TradeNameKey
from tests.factories import add_name, make_agency, make_uscc

DIRECTORY = Path(__file__).parent / "data" / "check" / "directory.jsonl"
API = "/api/v1/check"

# The Province table as migration 0002 loads it, and the cities of the test directory.
PROVINCES = [
    (code, name)
    for code, name, *_ in importlib.import_module(
        f"{migrations_package}.0002_load_provinces"
    ).PROVINCES
]
CITIES = [
    ("长沙市", "43"), ("岳阳市", "43"), ("株洲市", "43"), ("常德市", "43"), ("邵阳市", "43"),
    ("湘西土家族苗族自治州", "43"), ("广州市", "44"), ("深圳市", "44"), ("重庆市", "50"),
]  # fmt: skip


@pytest.fixture(scope="module")
def places():
    return tradename.Places(PROVINCES, CITIES)


def uscc(name: str) -> str:
    return Agency.objects.get(name=name).uscc


@pytest.fixture
def directory(db):
    call_command("import_agencies", str(DIRECTORY), verbosity=0)
    return {agency.name: agency for agency in Agency.objects.all()}


def found(text: str) -> list[tuple[str, list[str], str]]:
    return [(f.agency.name, f.found_by, f.matched_text) for f in reading.read(text).agencies]


# --- Taking a registered name apart ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "trade", "places_in_name", "industry"),
    [
        ("岳阳鼎盛资产管理有限公司", "鼎盛", ("岳阳",), "资产管理"),
        ("岳阳市鼎盛资产管理有限公司", "鼎盛", ("岳阳",), "资产管理"),
        ("湖南岳阳鼎盛资产管理有限公司", "鼎盛", ("湖南", "岳阳"), "资产管理"),
        ("湖南省鼎盛资产管理有限责任公司", "鼎盛", ("湖南",), "资产管理"),
        # The place in brackets after the industry, or between trade name and industry.
        ("示例恒信资产管理（长沙）有限公司", "示例恒信", ("长沙",), "资产管理"),
        ("鼎盛资产管理(岳阳)有限公司", "鼎盛", ("岳阳",), "资产管理"),
        ("恒信长沙资产管理有限公司", "恒信", ("长沙",), "资产管理"),
        # Traditional characters and full-width brackets.
        ("長沙衡信資產管理有限公司", "衡信", ("长沙",), "资产管理"),
        ("廣州宏達信息諮詢有限公司", "宏达", ("广州",), "信息咨询"),
        # Industry words in any combination.
        ("重庆渝信达商务信息咨询有限公司", "渝信达", ("重庆",), "商务信息咨询"),
        ("湖南瑞丰企业管理咨询有限公司", "瑞丰", ("湖南",), "企业管理咨询"),
        ("株洲华盈数据服务有限公司", "华盈", ("株洲",), "数据服务"),
        # A district we don't know stays in the trade name: 前海安融, not a guess.
        ("深圳前海安融信息服务有限公司", "前海安融", ("深圳",), "信息服务"),
        ("中国华融资产管理股份有限公司", "华融", ("中国",), "资产管理"),
        ("湘西鼎盛资产管理有限公司", "鼎盛", ("湘西",), "资产管理"),
        # A branch is its company's: the name ends at the company form.
        ("岳阳鼎盛资产管理有限公司长沙分公司", "鼎盛", ("岳阳",), "资产管理"),
        ("鼎盛有限公司", "鼎盛", (), ""),
    ],
)
def test_a_registered_name_gives_its_trade_name_places_and_industry(
    places, name, trade, places_in_name, industry
):
    assert tradename.extract(name, places) == tradename.TradeName(trade, places_in_name, industry)


@pytest.mark.parametrize(
    "name",
    [
        "长沙资产管理有限公司",  # a place and an industry: no trade name
        "湖南省信息咨询有限公司",
        "资产管理有限公司",
        "岳阳有限公司",  # a place alone is not a trade name
        "华信息咨询有限公司",  # one character left: not a trade name
        "长沙示例资产管理第3号有限公司",  # not understood: no guess
        "长沙鑫达通宝汇丰利源资产管理有限公司",  # more than MAX_TRADE characters
        "有限公司",
        "",
    ],
)
def test_a_name_without_a_trade_name_that_can_be_told_gives_none(places, name):
    assert tradename.extract(name, places) is None


def test_a_trade_name_is_never_cut_below_two_characters(places):
    # 永安 is also a city: after 邵阳 it is all that is left, so it is the trade name...
    assert tradename.extract("邵阳永安商务服务有限公司", places).trade == "永安"
    # ...unless the directory holds a city of that name: then it is a place, no trade name.
    with_yongan = tradename.Places(PROVINCES, [*CITIES, ("永安市", "35")])
    assert tradename.extract("邵阳永安商务服务有限公司", with_yongan) is None


@pytest.mark.parametrize(
    ("city", "short"),
    [
        ("岳阳市", "岳阳"),
        ("湘西土家族苗族自治州", "湘西"),
        ("黔东南苗族侗族自治州", "黔东南"),
        ("大兴安岭地区", "大兴安岭"),
        ("长沙县", "长沙"),
        ("香港", "香港"),
    ],
)
def test_city_short_forms(city, short):
    assert tradename.city_short(city) == short


def test_keys_are_the_trade_name_alone_and_after_each_place_it_is_known_by(places):
    found = tradename.extract("岳阳鼎盛资产管理有限公司", places)
    assert tradename.keys([found], places, "岳阳市", "43") == {
        "鼎盛": 0,
        "岳阳鼎盛": 2,
        "湖南鼎盛": 2,
    }
    # The agency's own city counts too: 湖南瑞丰 is in 长沙.
    found = tradename.extract("湖南瑞丰企业管理咨询有限公司", places)
    assert set(tradename.keys([found], places, "长沙市", "43")) == {"瑞丰", "湖南瑞丰", "长沙瑞丰"}


def test_an_everyday_word_or_a_lenders_name_gives_no_keys(places):
    for name in (
        "长沙平安资产管理有限公司",
        "岳阳明天商务咨询有限公司",
        "长沙招商信息咨询有限公司",
    ):
        found = tradename.extract(name, places)
        assert found is not None and not found.distinctive, name
        assert tradename.keys([found], places, "长沙市", "43") == {}, name


# --- Finding agencies in a message -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "matched"),
    [
        ("岳阳鼎盛的法务又打电话来了，说今天不还就上门。", "岳阳鼎盛资产管理有限公司", "岳阳鼎盛"),
        ("湖南鼎盛的人说要去我单位", "岳阳鼎盛资产管理有限公司", "湖南鼎盛"),
        ("岳阳市鼎盛资产管理公司通知你", "岳阳鼎盛资产管理有限公司", "岳阳市鼎盛"),
        ("株洲华盈", "株洲华盈数据服务有限公司", "株洲华盈"),
        ("常德恒信的催收说我逾期了", "常德恒信商务咨询有限公司", "常德恒信"),
        ("我是郴州金诚资产的", "郴州金诚资产管理有限公司", "郴州金诚"),
        ("你的欠款已经转给常德恒信了", "常德恒信商务咨询有限公司", "常德恒信"),
    ],
)
def test_place_and_trade_name(directory, text, name, matched):
    assert found(text) == [(name, ["place_and_trade_name"], matched)]


def test_place_and_trade_name_in_traditional_characters(directory):
    assert found("您好，我是廣州宏達的催收專員，請於今日回電。") == [
        ("广州宏达信息咨询有限公司", ["place_and_trade_name"], "廣州宏達")
    ]
    assert found("長沙衡信的法務部通知您") == [
        ("长沙衡信资产管理有限公司", ["place_and_trade_name"], "長沙衡信")
    ]


@pytest.mark.parametrize(
    ("text", "name", "matched"),
    [
        ("我是鼎盛的法务，你的欠款已经逾期。", "岳阳鼎盛资产管理有限公司", "鼎盛"),
        ("【华盈】您的账单已逾期，请尽快处理。", "株洲华盈数据服务有限公司", "华盈"),
        ("宏達的客服又來電話了", "广州宏达信息咨询有限公司", "宏達"),
        ("受渝信达委托，通知您还款", "重庆渝信达商务信息咨询有限公司", "渝信达"),
        ("博远的又打来电话了", "衡阳博远信息咨询有限公司", "博远"),
        ("宁泰的人说已经起诉了", "南京宁泰法律咨询服务有限公司", "宁泰"),
        ("对方说他们是秦润的。", "西安秦润信息科技有限公司", "秦润"),
        ("鼎盛", "岳阳鼎盛资产管理有限公司", "鼎盛"),
    ],
)
def test_trade_name_alone_when_no_other_agency_has_it(directory, text, name, matched):
    assert found(text) == [(name, ["trade_name"], matched)]


def test_a_shared_trade_name_lists_candidates_and_names_no_one(directory):
    result = reading.read("恒信的催收专员说今天必须还款")
    assert result.agencies == []
    (shared,) = result.candidates
    assert shared.matched_text == "恒信" and shared.count == 2
    assert {a.name for a in shared.agencies} == {
        "常德恒信商务咨询有限公司",
        "杭州恒信信用管理有限公司",
    }
    # The same for 金诚, in Traditional characters; each shared name listed once.
    result = reading.read("金誠的法務說，金誠的律師會聯繫你")
    assert result.agencies == []
    assert [(c.matched_text, c.count) for c in result.candidates] == [("金誠", 2)]


def test_a_shared_trade_name_is_the_agency_the_text_already_led_to(directory):
    # By its registered name...
    result = reading.read("我是常德恒信商务咨询有限公司的，恒信的法务会再联系你。")
    assert [(f.agency.name, f.found_by) for f in result.agencies] == [
        ("常德恒信商务咨询有限公司", ["name", "trade_name"])
    ]
    assert result.agencies[0].matched_text == "常德恒信商务咨询有限公司"
    assert result.candidates == []
    # ...by its number, or by its credit code.
    for lead in ("0571-00005555", uscc("杭州恒信信用管理有限公司")):
        result = reading.read(f"恒信的法务提醒您：请联系{lead}")
        assert [f.agency.name for f in result.agencies] == ["杭州恒信信用管理有限公司"], lead
        assert "trade_name" in result.agencies[0].found_by and result.candidates == []


@pytest.mark.parametrize(
    "text",
    [
        "我想真正和公司谈一谈还款的方案。",  # 正和 (益阳正和) inside 真正和
        "请保持永恒信念，按时还款。",  # 恒信 inside 永恒信念: not even a candidate
        "中华盈利公司的理财产品",  # 华盈 inside 中华盈利
        "唐朝鼎盛时期的文化",  # 鼎盛 as an ordinary word
        "那是鼎盛的时候",  # …and after 是, but followed by no one who acts
        "生意鼎盛的人很多",
        "北京鼎盛的法务找你",  # the only 鼎盛 is in 岳阳
        "岳阳的法务又打电话了",  # a place alone
        "资产管理公司的人来了",  # an industry word alone
        "盛的法务",  # one character
    ],
)
def test_a_trade_name_inside_an_ordinary_word_or_after_another_place_names_no_one(directory, text):
    result = reading.read(text)
    assert result.agencies == [] and result.candidates == [], text


def test_an_everyday_word_that_is_a_trade_name_names_no_one(db):
    make_agency("长沙平安资产管理有限公司", city="长沙市")
    make_agency("岳阳明天商务咨询有限公司", city="岳阳市")
    search_index.refresh(Agency.objects.values_list("id", flat=True))
    for text in ("平安的催收又来了", "长沙平安的法务", "明天的催收", "岳阳明天的人会上门"):
        result = reading.read(text)
        assert result.agencies == [] and result.candidates == [], text


def test_whole_registered_names_still_work_as_before(directory):
    # The name's own trade name is not found a second time inside it.
    assert found("我是岳阳鼎盛资产管理有限公司的工作人员") == [
        ("岳阳鼎盛资产管理有限公司", ["name"], "岳阳鼎盛资产管理有限公司")
    ]
    assert found("【鼎盛法务部】您已逾期") == [("岳阳鼎盛资产管理有限公司", ["name"], "鼎盛法务部")]
    assert found("我是長沙衡信資產管理有限公司的工作人員") == [
        ("长沙衡信资产管理有限公司", ["name"], "長沙衡信資產管理有限公司")
    ]
    # Two agencies named in full: both, and no candidates for their shared 恒信.
    result = reading.read("常德恒信商务咨询有限公司和杭州恒信信用管理有限公司")
    assert [f.found_by for f in result.agencies] == [["name"], ["name"]]
    assert result.candidates == []


def test_the_check_costs_the_same_few_queries_whatever_the_text_or_directory(
    directory, django_assert_max_num_queries
):
    short = "岳阳鼎盛的法务，恒信的催收，0730-00001111"
    long = (short + "请尽快还款，不然后果自负。" * 400)[: reading.MAX_TEXT]
    for text in (short, long):
        with django_assert_max_num_queries(4):
            result = reading.read(text)
        assert len(result.agencies) == 1 and len(result.candidates) == 1
    # Ten times the directory: still one query for every trade name of the text.
    for i in range(200):
        make_agency(f"长沙恒信{i}号咨询有限公司", city="长沙市")
    search_index.refresh(Agency.objects.values_list("id", flat=True))
    with django_assert_max_num_queries(4):
        result = reading.read(long)
    assert len(result.agencies) == 1 and len(result.candidates) == 1


def test_a_trade_name_many_agencies_share_lists_the_first_few_and_says_how_many(directory):
    for _ in range(tradenames.SHOWN + 3):
        make_agency("长沙鑫达商务咨询有限公司", city="长沙市")
    search_index.refresh(Agency.objects.values_list("id", flat=True))
    (shared,) = reading.read("鑫达的法务").candidates
    assert shared.count == tradenames.SHOWN + 3
    assert len(shared.agencies) == tradenames.SHOWN


# --- The page and the API --------------------------------------------------------------------


def test_the_page_shows_shared_trade_names_under_their_own_heading(client, directory):
    html = client.post("/check/", {"text": "恒信的催收专员说今天必须还款"}).content.decode()
    assert "共用的字号" in html
    assert "常德恒信商务咨询有限公司" in html and "杭州恒信信用管理有限公司" in html
    assert "文中没有找到电话号码、统一社会信用代码，也没有出现名录中的机构名称" not in html
    html = client.post("/check/", {"text": "岳阳鼎盛的法务"}).content.decode()
    assert "岳阳鼎盛资产管理有限公司" in html and "文中的地名和字号“岳阳鼎盛”" in html
    assert "共用的字号" not in html


def test_the_api_says_how_an_agency_was_found_and_lists_candidates(client, directory, api_check):
    response = client.post(
        API, {"text": "岳阳鼎盛的法务和恒信的催收都来电话了"}, content_type="application/json"
    )
    body = api_check(response, API, "post")
    (agency,) = body["agencies"]
    assert agency["name"] == "岳阳鼎盛资产管理有限公司"
    assert agency["found_by"] == ["place_and_trade_name"] and agency["matched_text"] == "岳阳鼎盛"
    (shared,) = body["candidates"]
    assert shared["matched_text"] == "恒信" and shared["count"] == 2
    assert {a["uscc"] for a in shared["agencies"]} == {
        uscc("常德恒信商务咨询有限公司"),
        uscc("杭州恒信信用管理有限公司"),
    }
    empty = api_check(
        client.post(API, {"text": "请还款"}, content_type="application/json"), API, "post"
    )
    assert empty["candidates"] == []


def test_the_openapi_document_describes_candidates_and_every_way_of_finding(api_spec):
    schemas = api_spec["components"]["schemas"]
    assert "candidates" in schemas["CheckResult"]["required"]
    found_by = schemas["CheckAgency"]["properties"]["found_by"]["items"]["enum"]
    assert found_by == list(reading.FOUND_BY_ORDER)
    shared = schemas["CheckCandidates"]["properties"]
    assert set(shared) == {"matched_text", "count", "agencies"}


# --- Keeping the keys in step ----------------------------------------------------------------


def stored_keys() -> set[tuple[int, str, int]]:
    return set(TradeNameKey.objects.values_list("agency_id", "key", "place_length"))


def test_the_import_refresh_rebuild_and_migration_give_the_same_keys(directory):
    imported = stored_keys()
    dingsheng = directory["岳阳鼎盛资产管理有限公司"].id
    assert {
        (dingsheng, "鼎盛", 0),
        (dingsheng, "岳阳鼎盛", 2),
        (dingsheng, "湖南鼎盛", 2),
    } <= imported
    search_index.refresh(Agency.objects.values_list("id", flat=True))
    assert stored_keys() == imported
    search_index.rebuild()
    assert stored_keys() == imported
    TradeNameKey.objects.all().delete()
    migration = importlib.import_module(f"{migrations_package}.0012_trade_name_keys")
    # Not entered: only its connection is used (SQLite's refuses to enter in atomic()).
    migration.fill_trade_name_keys(apps, connection.schema_editor())
    assert stored_keys() == imported


def test_a_rename_a_former_name_and_a_deletion_are_followed(directory):
    agency = directory["益阳正和资产管理有限公司"]
    agency.name = "益阳正达资产管理有限公司"
    agency.save()
    add_name(agency, "益阳正和资产管理有限公司")  # the old name, now a former name
    search_index.refresh([agency.id])
    keys = {key for owner, key, _ in stored_keys() if owner == agency.id}
    assert {"正达", "益阳正达", "正和", "益阳正和"} <= keys
    assert found("正达的法务") == [("益阳正达资产管理有限公司", ["trade_name"], "正达")]
    agency.delete()
    assert not TradeNameKey.objects.filter(agency_id=agency.id).exists()


def test_a_bulk_load_builds_the_trade_name_index_again(db, monkeypatch):
    """Into an empty directory a load goes bulk after its first batch: the index is
    dropped, then built again from its declaration (the test comparing every index
    definition before and after a bulk load, tests/test_search_scale.py, covers it too)."""
    dropped = []
    drop = dbindexes.drop
    monkeypatch.setattr(
        dbindexes, "drop", lambda model, name: dropped.append(name) or drop(model, name)
    )
    records = [
        {"uscc": make_uscc("43"), "name": f"{city}{trade}资产管理有限公司", "city": f"{city}市"}
        for city, trade in [("长沙", "甲乙"), ("岳阳", "丙丁"), ("株洲", "戊己"), ("常德", "壬癸")]
    ]
    summary = writing.import_records(records, batch_size=2)
    assert summary.created == 4, summary.problems
    assert search_index.TRADE_INDEX in dropped
    assert dbindexes.exists(TradeNameKey, search_index.TRADE_INDEX)
    assert found("岳阳丙丁的法务") == [
        ("岳阳丙丁资产管理有限公司", ["place_and_trade_name"], "岳阳丙丁")
    ]
