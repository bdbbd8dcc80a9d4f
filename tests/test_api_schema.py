"""/api/v1/openapi.json says exactly what the API accepts (issue 23): enums for
`status` and `province`, patterns for credit codes, number keys, slugs and
`called_at`, lengths for the check's text, one whole number for `page`; and
the API answers accordingly: a value the document forbids is refused in the
envelope, a value it allows never gets a 400. tests/test_api.py runs
Schemathesis over the same document."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from agencies import api as agencies_api
from agencies import uscc
from agencies.check import inputs
from agencies.enums import Status
from agencies.models import Province
from portal.paging import MAX_PAGE, MAX_PAGE_SIZE

LISTS = ("/api/v1/search", "/api/v1/agencies")


def parameter(spec, path: str, name: str) -> dict:
    """The schema of one parameter of the GET operation at `path`."""
    (found,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found["schema"]


def allows(schema: dict, value) -> bool:
    return Draft202012Validator(schema).is_valid(value)


def check_in(spec) -> dict:
    return spec["components"]["schemas"]["CheckIn"]["properties"]


# --- What the document says ---------------------------------------------------------------------


def test_province_is_an_enum_of_every_spelling(api_spec):
    for path in LISTS:
        schema = parameter(api_spec, path, "province")
        assert schema["type"] == "string" and "default" not in schema
        assert schema["enum"] == agencies_api.PROVINCE_VALUES
    # Single-sourced from the provinces the migration loads: each one's code,
    # division code, name, name without its suffix, short names and pinyin.
    assert {"43", "430000", "湖南省", "湖南", "湘", "hunan"} <= set(schema["enum"])
    assert {"内蒙古", "蒙", "广西", "新疆", "申", "滇", "xianggang"} <= set(schema["enum"])
    assert len(agencies_api.PROVINCE_ROWS) == 34


def test_status_is_an_enum_or_a_comma_list_of_it(api_spec):
    for path in LISTS:
        schema = parameter(api_spec, path, "status")
        assert schema["type"] == "array"
        one, several = schema["items"]["anyOf"]
        assert one == {"enum": list(Status.values)}
        assert several == {"pattern": agencies_api.STATUS_LIST_PATTERN}
        assert allows(schema, ["存续", "注销,吊销"])
        assert not allows(schema, ["存续，在业"]) and not allows(schema, [""])
        assert not allows(schema, ["active"]) and not allows(schema, ["存续,"])


@pytest.mark.parametrize("path", [*LISTS, "/api/v1/articles"])
def test_paging_is_one_whole_number_each(api_spec, path):
    page = parameter(api_spec, path, "page")
    assert page == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PAGE,
        "default": 1,
        "title": "Page",
        "description": page["description"],
    }
    assert parameter(api_spec, path, "page_size")["maximum"] == MAX_PAGE_SIZE


def test_path_patterns(api_spec):
    code = parameter(api_spec, "/api/v1/agencies/{uscc}", "uscc")
    assert code["pattern"] == agencies_api.USCC_PATH_PATTERN
    for character in uscc.ALPHABET:  # the pattern's alphabet is the standard's
        assert re.search(code["pattern"], f"91430100MA4L0P5U3{character}")
        assert re.search(code["pattern"], f"91430100MA4L0P5U3{character.lower()}")
    for character in "IOSVZ":
        assert not re.search(code["pattern"], f"91430100MA4L0P5U3{character}")
    for value in code["examples"]:
        assert uscc.is_valid(value)
    key = parameter(api_spec, "/api/v1/phones/{key}", "key")
    assert key["pattern"] == agencies_api.PHONE_PATH_PATTERN
    slug = parameter(api_spec, "/api/v1/articles/{slug}", "slug")
    for name in ("category", "tag"):
        assert parameter(api_spec, "/api/v1/articles", name)["pattern"] == slug["pattern"]


def test_check_text_and_called_at(api_spec):
    text = check_in(api_spec)["text"]
    assert text["minLength"] == 1 and text["maxLength"] == 5000
    assert text["pattern"] == agencies_api.TEXT_PATTERN
    called_at = check_in(api_spec)["called_at"]
    assert called_at["pattern"] == agencies_api.CALLED_AT_PATTERN
    for value in ("", "23:30", "2026-03-05T15:30Z", "2024-02-29T23:30:00.5+08:00", None):
        assert allows(called_at, value), value
    for value in ("24:00", "1:05", "2026-02-29T10:00Z", "2026-03-05T23:30:00", "9999-01-01T00:00Z"):
        assert not allows(called_at, value), value


# --- The patterns are the server's own tests ----------------------------------------------------


@given(st.text())
def test_text_pattern_is_the_views_test(text):
    # Python's \s is str.isspace(): the pattern refuses exactly what the view does.
    readable = "\x00" not in text and bool(text.strip())
    assert bool(re.search(agencies_api.TEXT_PATTERN, text)) is readable


@settings(max_examples=300)
@given(st.from_regex(agencies_api.CALLED_AT_PATTERN))
def test_every_called_at_the_pattern_allows_can_be_read(value):
    # Never a ValueError: real days, and years that stay in range in China time.
    # (A blank value, or "\n" that Python's `$` lets through, means no time.)
    if value.strip():
        inputs.called_at(value)


@given(st.from_regex(agencies_api.USCC_PATH_PATTERN))
def test_every_code_the_pattern_allows_fails_only_on_its_check_character(value):
    try:
        uscc.validate(value)
    except uscc.UsccError as error:
        assert error.expected_check  # a 404 (no agency can have it), not a 400


# --- The API answers as the document says -------------------------------------------------------


def test_every_province_spelling_is_accepted_and_means_its_province(client, db, api_spec):
    by_spelling = {}
    for code, name, short, alt, slug in agencies_api.PROVINCE_ROWS:
        for value in (code, f"{code}0000", name, short, alt, slug):
            by_spelling.setdefault(value, code)
    for value in agencies_api.PROVINCE_VALUES:
        found = Province.objects.by_code_or_name(value).order_by("code").first()
        assert found.code == by_spelling.get(value, found.code), value
        assert found.name.startswith(value) or value in by_spelling, value
        response = client.get("/api/v1/agencies", {"province": value, "page_size": 1})
        assert response.status_code == 200, (value, response.content)


@pytest.mark.parametrize(
    ("url", "params", "name"),
    [
        ("/api/v1/agencies", {"province": "HUNAN"}, "province"),
        ("/api/v1/agencies", {"province": "湖"}, "province"),  # a prefix of two
        ("/api/v1/agencies", {"province": "4399"}, "province"),
        ("/api/v1/agencies", {"province": ""}, "province"),
        ("/api/v1/search", {"q": "长沙", "province": " 43"}, "province"),
        ("/api/v1/agencies", {"status": "存续，在业"}, "status"),
        ("/api/v1/agencies", {"status": "在营"}, "status"),  # a registry synonym
        ("/api/v1/agencies", {"status": ""}, "status"),
        ("/api/v1/search", {"q": "13907310000", "status": "bogus"}, "status"),
        ("/api/v1/agencies", {"page": ""}, "page"),
        ("/api/v1/agencies", {"page": "+1"}, "page"),
        ("/api/v1/agencies", {"page": "1_0"}, "page"),
        ("/api/v1/articles", {"page_size": " 5"}, "page_size"),
        ("/api/v1/agencies", {"page": ["1", "2"]}, "page"),
        ("/api/v1/agencies", {"page_size": ["5", "5"]}, "page_size"),
        ("/api/v1/search", {"q": ["长沙", "湖南"]}, "q"),
        ("/api/v1/agencies", {"province": ["43", "44"]}, "province"),
        ("/api/v1/articles", {"category": "Rules"}, "category"),
        ("/api/v1/articles", {"tag": ""}, "tag"),
    ],
)
def test_a_query_value_the_document_forbids_is_a_400(
    client, directory, api_spec, api_check, url, params, name
):
    value = params[name]
    schema = parameter(api_spec, url, name)
    # Query strings are text: the document's integers are read as such.
    typed = value if schema.get("type") != "integer" else _as_integer(value)
    assert not allows(schema, [typed] if schema.get("type") == "array" else typed)
    response = client.get(url, params)
    assert response.status_code == 400, response.content
    error = api_check(response, url)["error"]
    assert error["parameter"] == name and error["message"]


def _as_integer(value):
    return int(value) if isinstance(value, str) and value.isdigit() else value


def test_repeated_single_values_are_named(client, db):
    error = client.get("/api/v1/agencies?page=1&page=2").json()["error"]
    assert error == {
        "status": 400,
        "message": "参数 page 只能给一个值，这里给了 2 个。",
        "parameter": "page",
    }
    # A repeated parameter the document does not declare is ignored, as any other.
    assert client.get("/api/v1/agencies?x=1&x=2").status_code == 200


@pytest.mark.parametrize(
    ("path", "template", "status"),
    [
        ("/api/v1/agencies/NOTACODE", "/api/v1/agencies/{uscc}", 400),
        ("/api/v1/agencies/91430100-MA4L0P5U3", "/api/v1/agencies/{uscc}", 400),
        ("/api/v1/agencies/９１430100MA4L0P5U37", "/api/v1/agencies/{uscc}", 400),
        ("/api/v1/agencies/91430100MA4L0P5U3Z", "/api/v1/agencies/{uscc}", 400),  # no Z
        ("/api/v1/phones/not-a-number", "/api/v1/phones/{key}", 404),
        ("/api/v1/phones/13907310000转8", "/api/v1/phones/{key}", 404),
        ("/api/v1/phones/" + "1" * 70, "/api/v1/phones/{key}", 404),
        ("/api/v1/articles/Alpha-Rules", "/api/v1/articles/{slug}", 404),
    ],
)
def test_a_path_the_document_forbids_is_refused(
    client, directory, api_spec, api_check, path, template, status
):
    name = template.rsplit("{", 1)[1].rstrip("}")
    value = path.rsplit("/", 1)[1]
    assert not allows(parameter(api_spec, template, name), value)
    response = client.get(path)
    assert response.status_code == status
    assert api_check(response, template)["error"]["status"] == status


def test_a_code_of_the_right_shape_is_never_a_400(client, directory, api_check):
    agency = directory["xinda"]
    assert client.get(f"/api/v1/agencies/{agency.uscc.lower()}").status_code == 200
    wrong = agency.uscc[:17] + ("0" if agency.uscc[17] != "0" else "1")
    response = client.get(f"/api/v1/agencies/{wrong}")
    assert response.status_code == 404
    error = api_check(response, "/api/v1/agencies/{uscc}")["error"]
    assert error["parameter"] == "uscc" and "校验位" in error["message"]


@pytest.mark.parametrize("key", ["0731-88888888", "+86 139 0731 0000", "（0731）88888888"])
def test_number_spellings_in_the_pattern_answer(client, directory, api_spec, key):
    assert allows(parameter(api_spec, "/api/v1/phones/{key}", "key"), key)
    assert client.get(f"/api/v1/phones/{key}").status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 400),
        ({"text": " \n\u3000"}, 400),
        ({"text": "还款\x00"}, 400),
        ({"text": "还" * 5001}, 413),
        ({"text": "请还款", "called_at": "1:05"}, 400),
        ({"text": "请还款", "called_at": " 23:30"}, 400),
        ({"text": "请还款", "called_at": "2026-02-29T23:30:00+08:00"}, 400),
        ({"text": "请还款", "called_at": "2026-03-05 23:30:00+08:00"}, 400),
    ],
)
def test_a_body_the_document_forbids_is_refused(client, db, api_spec, api_check, body, status):
    schema = {**api_spec["components"]["schemas"]["CheckIn"]}
    assert not allows(schema, body)
    response = client.post("/api/v1/check", body, content_type="application/json")
    assert response.status_code == status
    assert api_check(response, "/api/v1/check", "post")["error"]["status"] == status


@pytest.mark.parametrize(
    "called_at",
    ["", "\n", None, "00:00", "2024-02-29T23:30+08:00", "0002-01-01T00:00:00.123456-23:59"],
)
def test_a_body_the_document_allows_is_answered(client, db, api_spec, called_at):
    body = {"text": "请还款", "called_at": called_at}
    assert allows(api_spec["components"]["schemas"]["CheckIn"], body)
    response = client.post("/api/v1/check", body, content_type="application/json")
    assert response.status_code == 200, response.content
