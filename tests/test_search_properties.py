"""Properties of number normalisation and of the search endpoints, with Hypothesis."""

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers.phonemetadata import PhoneMetadata

from agencies import phones
from agencies.search import textnorm
from agencies.search.understand import classify

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _valid_numbers(pattern: str, trunk: str = "") -> st.SearchStrategy[tuple[str, str]]:
    """(number as dialled in China, the key it must get) for numbers libphonenumber
    calls valid, drawn from its own pattern for China.

    The expected key is worked out here from libphonenumber's parse, not from
    agencies.phones, so a change that breaks normalisation fails the test.
    """
    # libphonenumber writes \d, which in Python also matches Arabic-Indic and
    # other digits; only ASCII digits are dialled.
    ascii_pattern = pattern.replace(r"\d", "[0-9]")

    def dialled(national: str) -> tuple[str, str]:
        return trunk + national, trunk + national

    def valid(pair: tuple[str, str]) -> bool:
        parsed = phonenumbers.parse(pair[0], "CN")
        return phonenumbers.is_valid_number(parsed) and str(parsed.national_number) == pair[
            0
        ].removeprefix(trunk)

    return st.from_regex(ascii_pattern, fullmatch=True).map(dialled).filter(valid)


_CN = PhoneMetadata.metadata_for_region("CN")
mobiles = _valid_numbers(_CN.mobile.national_number_pattern)


def _subscriber_line(pair: tuple[str, str]) -> bool:
    """An area code (010 and 02x: two digits after the 0, else three) and a 7- or
    8-digit local number starting 2-8: what people mean by a landline. Area
    code + 95xxx/96xxx service lines ("010-95555") are not numbers
    agencies.phones recognises yet."""
    national = pair[0][1:]
    local = national[2:] if national[0] in "12" else national[3:]
    return len(local) in (7, 8) and local[0] in "2345678"


landlines = _valid_numbers(_CN.fixed_line.national_number_pattern, trunk="0").filter(
    _subscriber_line
)
toll_free = _valid_numbers(r"[48]00[0-9]{7}")


@SETTINGS
@given(st.one_of(mobiles, landlines, toll_free))
def test_the_generators_draw_real_numbers(number_and_key):
    """The strategies above produce what the tests below claim: valid numbers."""
    number, _key = number_and_key
    assert number.isascii() and number.isdigit()
    assert phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")), number


def written_forms(draw_digits: str, style: int, separator: str) -> str:
    """One of the ways people write or paste a number."""
    digits = draw_digits
    national = digits
    if style == 0:
        return national
    if style == 1:
        body = digits[1:] if digits.startswith("0") else digits
        return "+86 " + separator.join([body[:3], body[3:7], body[7:]])
    if style == 2:
        return "0086" + separator + (digits[1:] if digits.startswith("0") else digits)
    if style == 3:
        return national.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if style == 4:
        if digits.startswith("0"):
            area = 3 if digits[1] in "12" else 4
            return f"({digits[:area]}) {digits[area : area + 4]} {digits[area + 4 :]}"
        return separator.join([digits[:3], digits[3:7], digits[7:]])
    return separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))


@SETTINGS
@given(st.text(max_size=40))
def test_normalize_is_idempotent_on_anything(raw):
    first = phones.normalize(raw)
    if first is not None:
        again = phones.normalize(first.key)
        assert again is not None and again.key == first.key
        assert phones.normalize(first.display).key == first.key


@SETTINGS
@given(
    st.one_of(mobiles, landlines),
    st.integers(0, 5),
    st.sampled_from([" ", "-", ".", ""]),
)
def test_every_written_form_has_the_same_key(number_and_key, style, separator):
    number, key = number_and_key
    written = written_forms(number, style, separator)
    parsed = phones.normalize(written)
    assert parsed is not None, written
    assert parsed.key == key, written


@SETTINGS
@given(toll_free, st.sampled_from([" ", "-", ""]))
def test_toll_free_numbers_keep_their_ten_digits(number_and_key, separator):
    number, key = number_and_key
    written = separator.join([number[:3], number[3:6], number[6:]])
    parsed = phones.normalize(written)
    assert parsed is not None and parsed.key == key and parsed.kind == "toll_free", written


@pytest.mark.django_db
@SETTINGS
@given(st.integers(0, 5), st.sampled_from([" ", "-", ".", ""]))
def test_every_written_form_finds_the_same_agencies(client, style, separator):
    written = written_forms("13907310000", style, separator)
    classified = classify(written)
    assert classified.kind == "phone" and classified.phone.key == "13907310000"
    response = client.get("/api/v1/search", {"q": written})
    assert response.json()["phone"]["key"] == "13907310000"


@SETTINGS
@given(st.text(max_size=60))
def test_folding_is_idempotent(text):
    once = textnorm.basic_fold(text)
    assert textnorm.basic_fold(once) == once


nasty = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        [
            "\x00",
            "长\x00沙",
            "x" * 10_000,
            "长" * 10_000,
            "9" * 10_000,
            "😀💥🏦",
            "%",
            "_",
            "\\",
            "'; DROP TABLE agencies_agency; --",
            "+" * 50,
            "０" * 18,
            "91430100MA4L00000",
            "iiiiiiiiiiiiiiiiii",
        ]
    ),
)


@pytest.fixture
def small_directory(build_directory):
    build_directory()


@SETTINGS
@given(raw=nasty, page=st.one_of(st.none(), st.text(max_size=8)))
def test_no_input_breaks_the_search_page(client, small_directory, raw, page):
    params = {"q": raw} if page is None else {"q": raw, "page": page}
    response = client.get("/search/", params)
    assert response.status_code in (200, 302, 414)
    if response.status_code == 414:
        # Longer than the search box sends (portal.requestline): the site's page.
        assert "网址太长了" in response.content.decode()


@SETTINGS
@given(raw=nasty, province=st.one_of(st.none(), st.text(max_size=10)))
def test_no_input_breaks_the_api(client, small_directory, raw, province):
    params = {"q": raw}
    if province is not None:
        params["province"] = province
    for url in ("/api/v1/search", "/api/v1/agencies"):
        response = client.get(url, params)
        assert response.status_code in (200, 400, 404, 414), (url, response.content[:200])
        response.json()
    response = client.get("/api/v1/phones/" + (raw[:50].replace("/", "") or "x"))
    assert response.status_code in (200, 404)
    response = client.get("/api/v1/agencies/" + (raw[:50].replace("/", "") or "x"))
    assert response.status_code in (200, 400, 404)
