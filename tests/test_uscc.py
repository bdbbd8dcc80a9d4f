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
