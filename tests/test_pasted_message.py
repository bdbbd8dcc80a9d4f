"""A whole message pasted into the search box: its numbers and codes are found and offered."""

import pytest

from agencies import phones, uscc
from tests.factories import make_agency

MESSAGE = (
    "【衡信法务部】您好，您的欠款5000元已严重逾期，今日18点前联系０７３１－８４５２ １２３４"
    "或 +86 139-0731-0000，否则将上报。投诉请拨12378。"
)


def test_every_number_in_a_message_in_any_written_form():
    found = [number.key for number in phones.find_in_text(MESSAGE)]
    assert found == ["073184521234", "13907310000"]


@pytest.mark.parametrize(
    "text",
    [
        "逾期95000元未还",
        "订单日期 2026-12-01",
        "编号20261201",
        "投诉请拨 12378 或 12345",
        "本金 ¥95588，利息 95511元",
    ],
)
def test_amounts_dates_and_hotlines_are_not_numbers_to_call(text):
    assert phones.find_in_text(text) == []


def test_credit_codes_in_a_message_even_with_a_wrong_check_character():
    code = make_uscc_text()
    text = f"我司（统一社会信用代码：{code.lower()}）受托催收。另：{code[:17]}X"
    assert uscc.find_in_text(text) == [code, code[:17] + "X"]


def make_uscc_text() -> str:
    return uscc.with_check_digit("91430100MA4L5K8R0")


@pytest.mark.django_db
def test_the_search_page_leads_from_a_message_to_its_numbers(client):
    page = client.get("/search/", {"q": MESSAGE}).content.decode()
    assert "这看起来是一段短信或通话内容" in page
    assert 'href="/phone/073184521234/"' in page and 'href="/phone/13907310000/"' in page
    assert "名称查询用的是整段文字" in page


@pytest.mark.django_db
def test_a_name_is_just_a_name(client):
    make_agency("长沙示例资产管理有限公司")
    page = client.get("/search/", {"q": "长沙示例"}).content.decode()
    assert "短信或通话内容" not in page and "输入的内容较长" not in page


@pytest.mark.django_db
def test_a_shortened_query_is_said_on_the_page(client):
    page = client.get("/search/", {"q": "长沙示例资产管理" * 30}).content.decode()
    assert "输入的内容较长：名称查询只用了开头的 100 个字。" in page
