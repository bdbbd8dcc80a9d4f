"""The message check's input as a client sends it, on /check/ and POST /api/v1/check:
bodies that are not UTF-8 JSON, NUL characters, the time as an ISO 8601
date-time, and `Cache-Control: no-store` on every answer, whatever its status
and whoever made it (the view, ninja, the API's rules, the rate limits).
"""

import json

import pytest

from agencies import phones
from agencies.check.reading import MAX_TEXT

pytestmark = pytest.mark.django_db

API = "/api/v1/check"
PAGE = "/check/"
# What both the page and the API say about a NUL character.
NUL_MESSAGE = "内容中含有空字符（NUL），无法检查：请从收到的消息里重新复制文字再粘贴。"
TIME_MESSAGE_API = (
    "called_at 应是 HH:MM 形式的时间（例如 23:30），"
    "或带时区的 ISO 8601 日期时间（例如 2026-03-05T23:30:00+08:00）。"
)
TIME_MESSAGE_PAGE = (
    "时间请写成 23:30 这样的形式，或带时区的 ISO 8601 时间，如 2026-03-05T23:30:00+08:00。"
)


def send(client, body: bytes, content_type: str = "application/json"):
    return client.post(API, data=body, content_type=content_type)


def as_json(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def refused(response, api_check, status: int) -> dict:
    """The error as a client reads it: the envelope, documented, never kept."""
    assert response.status_code == status, response.content[:300]
    assert response["Cache-Control"] == "no-store"
    return api_check(response, API, "post")["error"]


def field_error(response) -> str:
    """The error the page shows under a field (the first one)."""
    html = response.content.decode()
    start = html.index('class="field-error"')
    return html[html.index(">", start) + 1 : html.index("</p>", start)]


# --- The body of POST /api/v1/check --------------------------------------------------------------


def test_a_lone_surrogate_is_a_400_and_a_surrogate_pair_is_a_character(client, api_check):
    for body in (
        rb'{"text": "\ud800"}',
        rb'{"text": "\udc00 please pay"}',
        rb'{"text": "ok \ud83d"}',  # half an emoji
        rb'{"text": "ok", "called_at": "\ud800"}',
        rb'{"text": "ok", "\ud800": 1}',
    ):
        error = refused(send(client, body), api_check, 400)
        assert "代理对" in error["message"] and error["parameter"] is None, body
    # Both halves, as json.dumps writes an emoji: a character like any other.
    pair = send(client, as_json({"text": "😡 要你好看，再不还钱就坐牢"}))
    assert rb"\ud83d\ude21" in as_json({"text": "😡"})
    assert pair.status_code == 200 and pair["Cache-Control"] == "no-store"
    # An escaped backslash before "ud800" is text, not an escape.
    assert send(client, rb'{"text": "C:\\ud800"}').status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "\xff\xfe"}',
        b'{"text": "\xed\xa0\x80"}',  # a surrogate encoded as if it were a character
        '{"text": "催收通知"}'.encode("utf-16"),
        '{"text": "催收通知"}'.encode("gb18030"),
        b"\xff\xfe\x00binary",
    ],
    ids=["invalid bytes", "encoded surrogate", "utf-16", "gb18030", "binary"],
)
def test_a_body_that_is_not_utf8_is_a_400_in_the_envelope(client, api_check, body):
    error = refused(send(client, body), api_check, 400)
    assert error["message"] == "请求内容不是 UTF-8 编码的文字。"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "请求内容不是有效的 JSON：第 1 行第 1 个字符处有误。"),
        (b'{"text": "a",\n "called_at": }', "请求内容不是有效的 JSON：第 2 行第 15 个字符处有误。"),
        (b'{"text": "unterminated', "请求内容不是有效的 JSON"),
        (b"[" * 100_000, "请求内容的 JSON 嵌套太深。"),
        (b'["text"]', "请求内容应是一个 JSON 对象。"),
        (b'"text"', "请求内容应是一个 JSON 对象。"),
        (b"null", "请求内容应是一个 JSON 对象。"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400_in_chinese(client, api_check, body, message):
    error = refused(send(client, body), api_check, 400)
    assert error["message"].startswith(message) and error["parameter"] is None


@pytest.mark.parametrize(
    ("content_type", "body", "named"),
    [
        (
            "application/x-www-form-urlencoded",
            b"text=%E5%82%AC%E6%94%B6",
            "这里是 application/x-www-form-urlencoded",
        ),
        ("text/plain", as_json({"text": "催收"}), "这里是 text/plain"),
        ("text/plain; charset=utf-8", as_json({"text": "催收"}), "这里是 text/plain"),
        ("application/xml", "<text>催收</text>".encode(), "这里是 application/xml"),
        ("", as_json({"text": "催收"}), "这里没有 Content-Type"),
    ],
)
def test_a_body_that_is_not_json_is_a_415_in_chinese(client, api_check, content_type, body, named):
    response = client.generic("POST", API, body, content_type=content_type)
    error = refused(response, api_check, 415)
    assert error["message"] == (
        f"请求内容须是 JSON，Content-Type 应为 application/json（{named}）。"
    )


def test_form_fields_posted_to_the_api_are_a_415_and_json_in_any_spelling_is_read(
    client, api_check
):
    # What `curl -F text=…` sends.
    assert refused(client.post(API, {"text": "催收"}), api_check, 415)["message"]
    body = as_json({"text": "请尽快还款"})
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        assert send(client, body, content_type).status_code == 200, content_type
    # A UTF-8 byte order mark: RFC 8259 lets a parser ignore it, and some
    # Windows tools write one.
    assert send(client, "\ufeff".encode() + body).status_code == 200


# --- NUL characters: one answer on the page and in the API ---------------------------------------


@pytest.mark.parametrize(
    "text",
    ["\x00", "您的欠款\x00已逾期", "\x00" + "催" * MAX_TEXT],
    ids=["alone", "inside", "and too long"],
)
def test_nul_in_the_text_gets_the_same_answer_on_the_page_and_in_the_api(client, api_check, text):
    page = client.post(PAGE, {"text": text, "called_at": ""})
    assert page.status_code == 400 and page["Cache-Control"] == "no-store"
    assert field_error(page) == NUL_MESSAGE
    error = refused(send(client, as_json({"text": text})), api_check, 400)
    assert error == {"status": 400, "message": NUL_MESSAGE, "parameter": "text"}


def test_nul_on_the_page_in_english(client):
    page = client.post("/en" + PAGE, {"text": "\x00"})
    assert page.status_code == 400
    assert "NUL" in field_error(page) and "空字符" not in field_error(page)


# --- called_at: HH:MM, or ISO 8601 with an offset, read in China time ----------------------------


@pytest.mark.parametrize(
    ("called_at", "china_time"),
    [
        ("2026-03-05T23:30:00+08:00", "23:30"),
        ("2026-03-05T15:30:00Z", "23:30"),
        ("2026-03-05T15:30Z", "23:30"),
        ("2026-03-05T15:30:59.999+00:00", "23:30"),  # kept to the minute
        ("2026-03-05T10:05:00-05:00", "23:05"),
        ("2026-03-05T23:30:00+00:00", "07:30"),  # the next morning in China
        ("2026-03-05T21:59:00+08:00", None),
        ("2026-03-05T14:00:00Z", "22:00"),  # from 22:00 in China
        ("2026-03-05T13:59:00Z", None),
        ("2026-03-06T00:00:00Z", None),  # 08:00 in China
        ("23:30", "23:30"),
    ],
)
def test_called_at_as_an_iso_date_time_is_read_in_china_time(
    client, api_check, called_at, china_time
):
    text = "请尽快还款。"
    response = send(client, as_json({"text": text, "called_at": called_at}))
    assert response.status_code == 200
    signals = api_check(response, API, "post")["signals"]
    night = [s["quote"] for s in signals if s["code"] == "night_contact"]
    assert night == ([china_time] if china_time else [])

    page = client.post(PAGE, {"text": text, "called_at": called_at})
    assert page.status_code == 200
    html = page.content.decode()
    if china_time:
        assert f"你填写的时间：{china_time}" in html
    else:
        assert "你填写的时间" not in html


@pytest.mark.parametrize(
    "called_at",
    [
        "25:99",
        "半夜",
        "23:30:00",
        "2026-03-05T23:30:00",  # no offset: whose 23:30?
        "2026-03-05",
        "2026-03-05T23:30:00+25:00",
        "9999-12-31T23:59:00-10:00",  # past the end of the calendar in China
        "0001-01-01T00:00:00+10:00",
        "2026-03-05T23:30\x00",
        "２３:３０",
    ],
)
def test_a_wrong_time_says_both_forms_on_the_page_and_in_the_api(client, api_check, called_at):
    error = refused(
        send(client, as_json({"text": "请尽快还款", "called_at": called_at})), api_check, 400
    )
    assert error == {"status": 400, "message": TIME_MESSAGE_API, "parameter": "called_at"}
    page = client.post(PAGE, {"text": "请尽快还款", "called_at": called_at})
    assert page.status_code == 400 and field_error(page) == TIME_MESSAGE_PAGE


def test_the_document_says_what_called_at_and_the_body_may_be(api_spec):
    operation = api_spec["paths"][API]["post"]
    assert operation["responses"]["415"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    called_at = api_spec["components"]["schemas"]["CheckIn"]["properties"]["called_at"]
    assert "HH:MM" in called_at["description"] and "ISO 8601" in called_at["description"]
    assert "2026-03-05T23:30:00+08:00" in called_at["examples"]


# --- Cache-Control: no-store on every answer -----------------------------------------------------


def api_post(client, text: str):
    return send(client, as_json({"text": text}))


@pytest.mark.parametrize(
    ("make", "status"),
    [
        pytest.param(lambda c: api_post(c, "请尽快还款"), 200, id="api 200"),
        pytest.param(lambda c: api_post(c, "  "), 400, id="api 400"),
        pytest.param(lambda c: send(c, b"{"), 400, id="api 400 json"),
        pytest.param(lambda c: c.get(API), 405, id="api 405"),
        pytest.param(lambda c: c.put(API, b"{}", "application/json"), 405, id="api 405 put"),
        pytest.param(lambda c: api_post(c, "催" * (MAX_TEXT + 1)), 413, id="api 413"),
        pytest.param(lambda c: send(c, b"text=x", "text/plain"), 415, id="api 415"),
        pytest.param(lambda c: c.options(API), 204, id="api preflight"),
        pytest.param(lambda c: c.get(PAGE), 200, id="page 200 form"),
        pytest.param(lambda c: c.get("/zh-hant" + PAGE), 200, id="page 200 zh-hant"),
        pytest.param(lambda c: c.post(PAGE, {"text": "请尽快还款"}), 200, id="page 200"),
        pytest.param(lambda c: c.post(PAGE, {"text": ""}), 400, id="page 400"),
        pytest.param(lambda c: c.post("/en" + PAGE, {"text": ""}), 400, id="page 400 en"),
        pytest.param(lambda c: c.put(PAGE), 405, id="page 405"),
        pytest.param(lambda c: c.delete("/en" + PAGE), 405, id="page 405 en"),
        pytest.param(lambda c: c.post(PAGE, {"text": "催" * (MAX_TEXT + 1)}), 413, id="page 413"),
    ],
)
def test_every_answer_of_the_check_is_no_store(client, settings, make, status):
    settings.PORTAL_CACHE_MAX_AGE = 300
    response = make(client)
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert "ETag" not in response  # nor kept by the page cache


def test_the_empty_form_is_not_served_from_the_page_cache(client, settings):
    settings.PORTAL_PAGE_CACHE = True
    first = client.get(PAGE)
    again = client.get(PAGE, headers={"if-none-match": first.get("ETag", '"x"')})
    assert again.status_code == 200 and again["Cache-Control"] == "no-store"


def test_a_body_over_djangos_limit_is_no_store_on_both(client, api_check, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    text = "催" * 400  # 1,200 bytes in UTF-8
    error = refused(api_post(client, text), api_check, 413)
    assert error["message"] == "请求内容太长。"
    page = client.post(PAGE, {"text": text})  # Django's own 400 page
    assert page.status_code == 400 and page["Cache-Control"] == "no-store"


def test_the_rate_limits_429_is_no_store_on_both(client, settings):
    settings.PORTAL_RATE_LIMITS_ENABLED = True
    settings.PORTAL_RATE_LIMITS = {
        "check": ("/check/", "1/60", "POST"),
        "api": ("/api/", "1/60", ""),
    }
    assert client.post(PAGE, {"text": "请尽快还款"}).status_code == 200
    for path, said in ((PAGE, "请求太频繁"), ("/zh-hant" + PAGE, "請求太頻繁")):
        response = client.post(path, {"text": "请尽快还款"})
        assert response.status_code == 429 and response["Retry-After"]
        assert response["Cache-Control"] == "no-store"
        assert said in response.content.decode()
    assert api_post(client, "请尽快还款").status_code == 200
    refused_api = api_post(client, "请尽快还款")
    assert refused_api.status_code == 429 and refused_api["Cache-Control"] == "no-store"
    assert refused_api.json()["error"]["status"] == 429
    # Other pages keep their own caching: the rule is the check's alone.
    other = client.get("/api/v1/search", {"q": "长沙"}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200 and other["Cache-Control"].startswith("public")


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("有事打零二八—零零零零一三一三找我", ["02800001313"]),
        ("幺三八 零零零零 一二三四，24小时在线", ["13800001234"]),
        ("一三八零零零零一二三四是我的微信", ["13800001234"]),
        # Amounts, dates and counting words stay words.
        ("欠了一两千，三五天内还上", []),
        ("他排第一二三四五六七名里的最后", []),
    ],
)
def test_numbers_written_in_chinese_numerals_are_read(text, keys):
    assert [number.key for number in phones.find_in_text(text)] == keys
