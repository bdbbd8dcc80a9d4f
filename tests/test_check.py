"""The message check: /check/ and POST /api/v1/check.

What a borrower pastes must lead to the right numbers, codes and agencies —
and to no wrong agency — and its claims to the right signals; a lawful
reminder stays clean; nothing pasted is kept, cached or logged.
"""

import datetime
import json
import logging
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agencies import uscc
from agencies.check import reading, signals
from agencies.enums import NameKind
from agencies.search import index as search_index
from tests.factories import add_name, add_phone, make_agency

pytestmark = pytest.mark.django_db

EXAMPLES = yaml.safe_load(
    (Path(__file__).parent / "data" / "check_messages.yaml").read_text(encoding="utf-8")
)
API = "/api/v1/check"


@pytest.fixture
def agencies():
    hengxin = make_agency("长沙衡信资产管理有限公司")
    add_name(hengxin, "衡信法务部", NameKind.ALIAS)
    add_name(hengxin, "湖南衡信商务咨询有限公司", NameKind.FORMER)
    add_phone(hengxin, "0731-84521234")
    add_phone(hengxin, "400-800-1234")
    # A shorter registered name inside the longer one: "长沙衡信资产管理" must
    # not also accuse this company.
    short = make_agency("衡信资产管理有限公司", province_code="44")
    other = make_agency("深圳前海某某信息咨询有限公司", province_code="44")
    add_phone(other, "139 0731 0000")
    search_index.refresh([hengxin.id, short.id, other.id])
    return {"hengxin": hengxin, "short": short, "other": other}


def post(client, text, called_at=""):
    return client.post("/check/", {"text": text, "called_at": called_at})


def api(client, body):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(API, data=data, content_type="application/json")


# --- Claims: the reviewed example set ------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["text"][:24])
def test_each_example_fires_what_it_must_and_nothing_it_must_not(example):
    fired = {s.rule.code for s in signals.find(example["text"])}
    assert set(example.get("fires") or ()) <= fired, fired
    assert not fired & set(example.get("silent") or ()), fired
    if not example.get("fires"):
        # A lawful reminder, a fraud warning, a reassurance: nothing alarming.
        levels = {s.rule.level for s in signals.find(example["text"])}
        assert not levels & {"violation", "warning"}, fired


def test_the_example_set_covers_every_signal():
    assert len(EXAMPLES) >= 40
    covered = {code for e in EXAMPLES for code in e.get("fires") or ()}
    textual = {r.code for r in signals.rules().rules if not r.when}
    assert covered == textual


def test_every_rule_cites_sources_links_an_article_and_offers_steps():
    from articles.loading import DEFAULT_DIR

    loaded = signals.rules()
    assert {r.code for r in loaded.rules} >= {
        "threat_arrest", "impersonation", "third_party_contact", "home_visit",
        "public_shaming", "abuse", "family_liability", "pay_personal_account",
        "debt_relief_fee", "debt_sold", "lawsuit_notice", "night_contact",
    }  # fmt: skip
    for rule in loaded.rules:
        assert rule.sources and rule.steps and rule.message, rule.code
        assert (DEFAULT_DIR / f"{rule.article}.md").exists(), rule.article


def test_a_broken_rules_file_is_refused_with_the_reason():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="level"):
        signals.parse(
            "signals: [{code: x, level: bad, title: t, message: m, patterns: ['a'],"
            " sources: [], article: a, steps: []}]\nsteps: {}"
        )
    with pytest.raises(ImproperlyConfigured):
        signals.parse("signals: [{code: x, level: info, patterns: ['(']}]\nsteps: {}")


@pytest.mark.parametrize(
    ("called_at", "fires"),
    [("23:30", True), ("22:00", True), ("07:59", True), ("08:00", False), ("21:59", False)],
)
def test_night_contact_follows_the_time_given(called_at, fires):
    moment = datetime.time.fromisoformat(called_at)
    found = {s.rule.code for s in signals.find("请尽快还款。", moment)}
    assert ("night_contact" in found) is fires
    assert "night_contact" not in {s.rule.code for s in signals.find("请尽快还款。")}


# --- Who: numbers, codes and names ---------------------------------------------------------------


def test_a_signature_in_brackets_finds_the_agency_by_its_alias(agencies):
    result = reading.read("【衡信法务部】您的欠款已严重逾期，请今日处理。")
    assert [(f.agency, f.found_by, f.matched_text) for f in result.agencies] == [
        (agencies["hengxin"], ["name"], "衡信法务部")
    ]


def test_a_name_in_traditional_characters_with_its_company_form(agencies):
    result = reading.read("您好，我是長沙衡信資產管理有限公司的工作人員，請回電。")
    assert [f.agency for f in result.agencies] == [agencies["hengxin"]]
    assert result.agencies[0].matched_text == "長沙衡信資產管理有限公司"


def test_a_longer_registered_name_is_not_also_read_as_a_shorter_one(agencies):
    found = {f.agency for f in reading.read("长沙衡信资产管理公司通知您").agencies}
    assert found == {agencies["hengxin"]}
    # …while the shorter name alone is that other company.
    alone = {f.agency for f in reading.read("衡信资产管理有限公司提醒您还款").agencies}
    assert alone == {agencies["short"]}


def test_a_former_name_counts(agencies):
    found = reading.read("湖南衡信商务咨询的客服提醒您").agencies
    assert [f.agency for f in found] == [agencies["hengxin"]]


def test_a_message_that_names_no_registered_agency_reports_none(agencies):
    for text in (
        "【某某资产】您好，我是长沙某某的工作人员，请尽快还款。",
        "衡信提醒您还款",  # two characters: too short to accuse anyone
        "您的资产管理计划已到期",
    ):
        assert reading.read(text).agencies == [], text


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("０７３１－８４５２１２３４", "073184521234"),
        ("0731 8452 1234", "073184521234"),
        ("(0731)84521234", "073184521234"),
        ("+86 139 0731 0000", "13907310000"),
        ("0086-139-0731-0000", "13907310000"),
        ("139.0731.0000", "13907310000"),
        ("400-800-1234", "4008001234"),
    ],
)
def test_numbers_in_any_written_form_lead_to_their_agencies(agencies, written, key):
    result = reading.read(f"请于今日18点前联系{written}处理，逾期后果自负。")
    assert [p.number.key for p in result.phones] == [key]
    assert result.phones[0].agencies, written
    assert all("phone" in f.found_by for f in result.agencies)


def test_masked_numbers_amounts_and_dates_are_not_numbers(agencies):
    result = reading.read(
        "尾号138****5555的用户：您于2026年3月5日借款95000元，已逾期31天，请还款。"
    )
    assert result.phones == []


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("还款账户：收款人：李明，卡号：6222021234567890123，开户行：工商银行。", []),
        ("【长沙市天心区人民法院】（2026）湘0103民初1234号案件已立案受理。", []),
        ("我是客服小王，工号1024，本期最低还款额为500元。", []),
        ("订单号20260305123456789，验证码 482913，身份证430102199001011234", []),
        ("您的尾号5555的信用卡已逾期。", []),
        ("请把3000元转到我的个人支付宝13907310000，备注姓名。", ["13907310000"]),
        ("请于2026-03-05前还款，联系电话：0731－8452 1234 转 8001", ["073184521234"]),
        ("请拨打021-6888 8888或(010)6512 3456", ["02168888888", "01065123456"]),
        ("回复TD退订，客服95555", ["95555"]),
    ],
)
def test_what_counts_as_a_number_in_real_messages(text, keys):
    assert [p.number.key for p in reading.read(text).phones] == keys


def test_a_service_number_is_read_and_a_public_hotline_is_not(agencies):
    result = reading.read("请联系95188处理，如有异议可拨打12378投诉。")
    assert [p.number.key for p in result.phones] == ["95188"]


def test_a_credit_code_with_a_wrong_check_character_is_explained(agencies):
    code = agencies["hengxin"].uscc
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    result = reading.read(f"我司统一社会信用代码：{wrong}")
    (found,) = result.credit_codes
    assert not found.valid and "校验位说明不了是哪一位" in found.message
    # The code with the computed check character is another company's as far as
    # the text can tell: named as such, never as the agency the text leads to.
    assert found.expected == code and found.uscc == ""
    assert (found.similar, found.similar_name) == (code, agencies["hengxin"].name)
    assert result.agencies == []


def test_one_agency_found_three_ways_is_listed_once(agencies):
    hengxin = agencies["hengxin"]
    result = reading.read(f"【衡信法务部】请联系0731-84521234。代码{hengxin.uscc}")
    assert [(f.agency, f.found_by) for f in result.agencies] == [
        (hengxin, ["phone", "credit_code", "name"])
    ]


@settings(max_examples=60, deadline=None)
@given(
    before=st.text(alphabet="您好请尽快联系我们逾期还款处理通知，。", max_size=40),
    after=st.text(alphabet="您好请尽快联系我们逾期还款处理通知，。", max_size=40),
    digits=st.integers(min_value=0, max_value=9999_9999),
    prefix=st.sampled_from(["139", "150", "186", "177", "199"]),
    style=st.sampled_from(["plain", "spaced", "dashed", "plus86", "fullwidth"]),
)
def test_any_mobile_number_anywhere_in_chinese_text_is_found(before, after, digits, prefix, style):
    number = f"{prefix}{digits:08d}"
    written = {
        "plain": number,
        "spaced": f"{number[:3]} {number[3:7]} {number[7:]}",
        "dashed": f"{number[:3]}-{number[3:7]}-{number[7:]}",
        "plus86": f"+86 {number}",
        "fullwidth": number.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    }[style]
    found = [p.number.key for p in reading.read(before + written + after).phones]
    assert number in found


def test_the_check_costs_the_same_few_queries_however_long_the_text(
    agencies, django_assert_max_num_queries
):
    text = "【衡信法务部】请联系0731-84521234或139 0731 0000，" + "不然后果自负，" * 600
    # Numbers, registered names, trade names (tests/test_check_names.py), agencies.
    with django_assert_max_num_queries(4):
        result = reading.read(text[: reading.MAX_TEXT])
    assert len(result.agencies) == 2


def test_text_over_the_limit_is_refused_not_cut():
    with pytest.raises(reading.TextTooLong):
        reading.read("催" * (reading.MAX_TEXT + 1))


# --- The API ---------------------------------------------------------------------------------


def test_the_api_answers_the_contract(client, agencies, api_check):
    text = "【衡信法务部】您的欠款已严重逾期，今日18点前联系0731-84521234，否则将上报公安机关立案。"
    response = api(client, {"text": text, "called_at": "23:30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = api_check(response, API, "post")
    assert body["phones"][0]["key"] == "073184521234"
    assert body["phones"][0]["agencies"] == [agencies["hengxin"].uscc]
    (agency,) = body["agencies"]
    assert agency["uscc"] == agencies["hengxin"].uscc
    assert agency["found_by"] == ["phone", "name"] and agency["matched_text"] == "衡信法务部"
    codes = [s["code"] for s in body["signals"]]
    assert {"threat_arrest", "impersonation", "night_contact"} <= set(codes)
    threat = next(s for s in body["signals"] if s["code"] == "threat_arrest")
    assert threat["level"] == "violation" and "立案" in threat["quote"]
    assert threat["sources"] and threat["article_url"].startswith("http://testserver/articles/")
    assert body["steps"] and body["truncated"] is False


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        ({}, 400, "text"),
        ({"text": ""}, 400, "text"),
        ({"text": "   \n "}, 400, "text"),
        ({"text": 5}, 400, "text"),
        ({"text": "催" * (reading.MAX_TEXT + 1)}, 413, "text"),
        ({"text": "还款", "called_at": "25:99"}, 400, "called_at"),
        ({"text": "还款", "called_at": "半夜"}, 400, "called_at"),
        (b"not json", 400, None),
        (b"\xff\xfe\x00binary", 400, None),
    ],
)
def test_bad_input_gets_the_error_envelope(client, api_check, body, status, parameter):
    response = api(client, body)
    assert response.status_code == status
    error = api_check(response, API, "post")["error"]
    assert error["message"]
    if parameter:
        assert error["parameter"] == parameter


def test_the_api_takes_only_post(client, api_check):
    response = client.get(API)
    assert response.status_code == 405 and response["Allow"] == "POST, OPTIONS"
    assert "POST" in api_check(response, None)["error"]["message"]
    preflight = client.options(API)
    assert preflight.status_code == 204 and preflight["Allow"] == "POST, OPTIONS"


def test_odd_text_is_read_without_error(client):
    for text in ("\x00催收\x00", "😡💣 要你好看 🔪", "\ufeff\u200b", "a" * reading.MAX_TEXT):
        response = api(client, {"text": text})
        assert response.status_code in (200, 400), repr(text[:10])


# --- The page --------------------------------------------------------------------------------


def test_the_page_is_a_form_that_posts(client):
    response = client.get("/check/")
    html = response.content.decode()
    assert response.status_code == 200
    # After posting, a phone shows the result, not the form again.
    assert '<form class="check-form" method="post" action="/check/#result-heading"' in html
    assert 'name="text"' in html and 'type="time"' in html
    assert "maxlength" not in html  # a longer paste is refused in words, never cut


def test_the_page_reads_the_message_without_a_csrf_token_or_cookie(client, agencies):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/check/",
        {"text": "【衡信法务部】再不还钱就联系你单位领导和你父母。", "called_at": "23:10"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    assert agencies["hengxin"].name in html
    assert "可能违规" in html and "你填写的时间：23:10" in html
    assert "不是法律意见" in html
    assert "接下来可以做的事" in html


def test_a_clean_message_says_so_and_still_says_what_nothing_proves(client):
    html = post(
        client, "您本期账单已逾期，请尽快还款，如有困难可致电客服协商分期。"
    ).content.decode()
    assert "没有发现本站所列的常见违规说法或诈骗迹象" in html
    assert "文中没有找到电话号码" in html


@pytest.mark.parametrize(
    ("text", "called_at", "status", "message"),
    [
        ("", "", 400, "请先粘贴收到的消息全文"),
        ("   ", "", 400, "请先粘贴收到的消息全文"),
        ("催" * (reading.MAX_TEXT + 1), "", 413, "内容太长：最多 5000 字，这里是 5001 字"),
        ("还款", "25:00", 400, "时间请写成 23:30 这样的形式"),
        ("\x00\x00", "", 400, ""),
    ],
)
def test_bad_input_on_the_page_is_said_in_chinese(client, text, called_at, status, message):
    response = post(client, text, called_at)
    assert response.status_code == status
    assert message in response.content.decode()


def test_the_text_is_kept_nowhere(client, agencies, caplog, settings):
    settings.PORTAL_PAGE_CACHE = True
    secret = "借款人张三身份证号码末四位1234"
    with caplog.at_level(logging.DEBUG):
        post(client, secret)
        api(client, {"text": secret})
        post(client, secret + "催" * reading.MAX_TEXT)  # refused: 413
    assert secret not in caplog.text
    assert "长沙衡信" not in client.get("/check/").content.decode()  # no cached answer


def test_the_check_is_linked_where_people_arrive(client, agencies):
    for path in (
        "/",
        "/search/",
        "/phone/073184521234/",
        "/search/?q=我是衡信的，请联系0731-84521234",
    ):
        assert 'href="/check/"' in client.get(path).content.decode(), path


def test_the_check_is_rate_limited_like_search(client, settings):
    settings.PORTAL_RATE_LIMITS_ENABLED = True
    settings.PORTAL_RATE_LIMITS = {"check": ("/check/", "2/60", "POST")}
    for _ in range(2):
        assert post(client, "请尽快还款").status_code == 200
    refused = post(client, "请尽快还款")
    assert refused.status_code == 429 and "请求太频繁" in refused.content.decode()
    assert client.get("/check/").status_code == 200  # the empty form costs nothing
    assert post(client, "请尽快还款", "").status_code == 429
    # The page in another language is the same page.
    assert client.post("/en/check/", {"text": "请尽快还款"}).status_code == 429
    # The real configuration limits it as search is limited.
    from portal import settings as portal_settings

    assert (
        portal_settings.PORTAL_RATE_LIMITS["check"][1]
        == portal_settings.PORTAL_RATE_LIMITS["search"][1]
    )


def test_the_page_in_other_languages(client, agencies):
    html = client.post(
        "/en/check/", {"text": "【衡信法务部】再不还钱就把你的欠款发到你家族群。"}
    ).content.decode()
    assert (
        "Collector lookup" in html
        and '<span lang="zh-Hans">长沙衡信资产管理有限公司</span>' in html
    )
    traditional = client.post("/zh-hant/check/", {"text": "再不还钱就坐牢"}).content.decode()
    # The quote stays as it was written; the page around it is Traditional.
    assert (
        '<blockquote translate="no" lang="zh">再不还钱就<mark>坐牢</mark></blockquote>'
        in traditional
    )
    assert "檢查結果" in traditional


def test_a_valid_code_not_in_the_directory(agencies):
    code = uscc.with_check_digit("91430100MA4L00001")
    (found,) = reading.read(f"代码 {code}").credit_codes
    assert found.valid and found.uscc == ""


def test_manage_py_check_reports_a_broken_rules_file(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    def broken():
        raise ImproperlyConfigured("signals.yaml: bad")

    monkeypatch.setattr(signals, "rules", broken)
    (error,) = signals.rules_file_is_valid(None)
    assert error.id == "agencies.E001" and "signals.yaml" in error.msg


def test_the_rules_never_use_a_claim_the_fact_sheet_forbids():
    # The message check states rules as the articles do: the same 勿用说法 list.
    import re

    from tests.test_articles_content import FORBIDDEN

    text = signals.RULES_FILE.read_text(encoding="utf-8")
    assert [name for name, pattern in FORBIDDEN.items() if re.search(pattern, text)] == []


def test_pinyin_takes_the_rules_words_in_their_usual_reading():
    """agencies.check.pinyin: a word of the rules read in a rarer reading (洗 as
    xian) loses to the syllables' own characters; the longer word comes first."""
    from agencies.check import pinyin

    vocab = pinyin.vocabulary(["清洗|坐牢", "老爸"], {"qing": "请", "xian": "先", "ba": "吧"})
    text = "qing xian zuo lao ba"
    converted, places = pinyin.convert(text, [(i, i + 1) for i in range(len(text))], vocab)
    assert converted == "请先坐牢吧"
    assert places[2] == (10, 13)  # 坐 stands for "zuo"
    # Not pinyin: left as typed
    assert pinyin.convert("hi lisa", [(i, i + 1) for i in range(7)], vocab)[0] == "hi lisa"
