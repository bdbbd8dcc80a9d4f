import pytest

from agencies import uscc
from agencies.uscc import ALPHABET, UsccError

# The two worked examples of the fact sheet (GB 32100-2015 and a real-shaped code).
STANDARD_EXAMPLE = "91350100M000100Y43"
SECOND_EXAMPLE = "91512081MA62K0260E"


@pytest.mark.parametrize("code", [STANDARD_EXAMPLE, SECOND_EXAMPLE])
def test_worked_examples_are_valid(code):
    assert uscc.validate(code) == code


def test_the_standards_invalid_example_is_rejected_with_the_expected_character():
    with pytest.raises(UsccError) as error:
        uscc.validate("91350100M000100Y4Z")
    assert "Z" in error.value.message


def test_wrong_check_digit_names_the_expected_character():
    with pytest.raises(UsccError) as error:
        uscc.validate(SECOND_EXAMPLE[:17] + "A")
    assert error.value.expected_check == "E"
    assert "应为“E”" in error.value.message


@pytest.mark.parametrize("code", [STANDARD_EXAMPLE, SECOND_EXAMPLE])
def test_every_single_character_mutation_is_rejected(code):
    mutations = 0
    for position in range(18):
        for replacement in ALPHABET + "IOZSV":
            if replacement == code[position]:
                continue
            mutated = code[:position] + replacement + code[position + 1 :]
            assert not uscc.is_valid(mutated), mutated
            mutations += 1
    assert mutations == 18 * 35


@pytest.mark.parametrize(
    "raw",
    [
        "91512081ma62k0260e",
        " 9151 2081 MA62 K026 0E ",
        "９１５１２０８１ＭＡ６２Ｋ０２６０Ｅ",
        "9151-2081-MA62K0260E",
    ],
)
def test_case_spaces_and_full_width_are_normalised(raw):
    assert uscc.validate(raw) == SECOND_EXAMPLE


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "不能为空"),
        ("9151208", "应为18位"),
        ("91512081MA62K0260EE", "应为18位"),
        ("91512081MA62K0260I", "不允许的字符"),
        ("91AB2081MA62K0260E", "行政区划代码"),
    ],
)
def test_malformed_codes_say_what_is_wrong(raw, fragment):
    with pytest.raises(UsccError) as error:
        uscc.validate(raw)
    assert fragment in error.value.message


def test_letter_registration_department_is_allowed():
    # The standard allows "Y" (other registration departments) as the first character;
    # python-stdnum's own validate() would reject it.
    code = uscc.with_check_digit("Y1430100MA0000001")
    assert uscc.is_valid(code)


@pytest.mark.parametrize(("code", "province"), [(SECOND_EXAMPLE, "51"), (STANDARD_EXAMPLE, "35")])
def test_province_comes_from_characters_three_and_four(code, province):
    assert uscc.province_code(code) == province


# --- A wrong code never leads to another company as if it were the answer (issue 21) -----------


@pytest.fixture
def near_codes(db):
    """The issue's case: the reader's company is …062F; they type …063F, one middle
    character wrong. The check character of …063 is not F, and the code with the
    right one for …063 belongs to another company in the directory."""
    from tests.factories import make_agency

    theirs = make_agency(
        "长沙示例鼎盛商务咨询有限公司", uscc=uscc.with_check_digit("91430100MA4L00062")
    )
    other = make_agency(
        "岳阳示例恒信资产管理有限公司", uscc=uscc.with_check_digit("91430100MA4L00063")
    )
    typed = other.uscc[:17] + theirs.uscc[17]
    assert theirs.uscc[17] != other.uscc[17] and not uscc.is_valid(typed)
    return {"theirs": theirs, "other": other, "typed": typed}


def test_the_message_says_a_character_is_wrong_and_not_which():
    with pytest.raises(UsccError) as error:
        uscc.validate(SECOND_EXAMPLE[:17] + "A")
    assert "至少有一位抄错了" in error.value.message
    assert "校验位说明不了是哪一位" in error.value.message


def test_the_search_page_shows_the_near_code_as_another_company(client, near_codes):
    response = client.get("/search/", {"q": near_codes["typed"]})
    html = response.content.decode()
    assert response.status_code == 200  # never a redirect to the other company
    assert "至少有一位抄错了" in html and "说明不了错在哪一位" in html
    similar = html[html.index('<p class="similar-code">') :]
    similar = similar[: similar.index("</p>")]
    assert "它属于另一家公司，不是这个代码的更正" in similar
    assert near_codes["other"].name in similar and near_codes["other"].uscc in similar
    # Never offered as the right code.
    assert "正确的代码应是" not in html and "用正确的校验位再查一次" not in html
    # The name search instead.
    assert '<form class="name-search" action="/search/" method="get"' in html


def test_the_search_page_in_english_says_so_too(client, near_codes):
    html = client.get("/en/search/", {"q": near_codes["typed"]}).content.decode()
    assert "The check character shows that the code is wrong, not which character is wrong" in html
    assert "It belongs to a different company and is not a correction of this code" in html
    assert "Search by name" in html


def test_a_wrong_code_with_no_near_code_still_offers_the_name_search(client, db):
    typed = uscc.with_check_digit("91430100MA4L00064")[:17] + "0"
    if uscc.is_valid(typed):
        typed = typed[:17] + "1"
    html = client.get("/search/", {"q": typed}).content.decode()
    assert "说明不了错在哪一位" in html and "similar-code" not in html
    assert 'class="name-search"' in html


def test_the_search_api_does_not_call_the_near_code_a_correction(client, near_codes):
    body = client.get("/api/v1/search", {"q": near_codes["typed"]}).json()
    assert body["results"] == [] and body["uscc"]["found"] is False
    assert body["uscc"]["valid"] is False


def test_the_message_check_names_the_near_code_as_another_company(near_codes):
    from agencies.check import reading

    result = reading.read(f"我司统一社会信用代码：{near_codes['typed']}，请尽快处理。")
    (found,) = result.credit_codes
    assert not found.valid and found.uscc == ""
    assert (found.similar, found.similar_name) == (
        near_codes["other"].uscc,
        near_codes["other"].name,
    )
    # The text does not lead to the other company.
    assert near_codes["other"] not in [f.agency for f in result.agencies]


def test_the_check_page_and_api_say_so(client, near_codes):
    text = f"我司统一社会信用代码：{near_codes['typed']}，请尽快处理。"
    html = client.post("/check/", {"text": text}).content.decode()
    assert "它属于另一家公司，不是这个代码的更正" in html and near_codes["other"].name in html
    assert "说明不了是哪一位" in html and "按名称查询" in html
    body = client.post("/api/v1/check", {"text": text}, content_type="application/json").json()
    (code,) = body["credit_codes"]
    assert code["uscc"] is None and code["valid"] is False
    assert code["similar"] == {"uscc": near_codes["other"].uscc, "name": near_codes["other"].name}
    assert body["agencies"] == []
