"""Properties of number normalisation and of the search endpoints, with Hypothesis."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies import phones
from agencies.search import textnorm
from agencies.search.understand import classify

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

mobiles = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.sampled_from("3456789"),
    st.integers(0, 10**9 - 1),
)
landlines = st.builds(
    lambda area, local: f"{area}{local}",
    # 010 is Beijing's, the one area code whose digits start with 1 like a mobile.
    st.sampled_from(["010", "021", "0731", "0755", "0571", "0351"]),
    st.integers(2 * 10**7, 10**8 - 1).map(str),
)


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
def test_every_written_form_has_the_same_key(number, style, separator):
    canonical = phones.normalize(number)
    assert canonical is not None
    written = written_forms(number, style, separator)
    parsed = phones.normalize(written)
    assert parsed is not None, written
    assert parsed.key == canonical.key, written


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
    assert response.status_code in (200, 302)


@SETTINGS
@given(raw=nasty, province=st.one_of(st.none(), st.text(max_size=10)))
def test_no_input_breaks_the_api(client, small_directory, raw, province):
    params = {"q": raw}
    if province is not None:
        params["province"] = province
    for url in ("/api/v1/search", "/api/v1/agencies"):
        response = client.get(url, params)
        assert response.status_code in (200, 400, 404), (url, response.content[:200])
        response.json()
    response = client.get("/api/v1/phones/" + (raw[:50].replace("/", "") or "x"))
    assert response.status_code in (200, 404)
    response = client.get("/api/v1/agencies/" + (raw[:50].replace("/", "") or "x"))
    assert response.status_code in (200, 400, 404)
