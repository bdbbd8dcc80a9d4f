"""统一社会信用代码 (GB 32100-2015): normalisation and validation with plain-Chinese errors.

The check digit itself comes from python-stdnum. We do our own structural check
because stdnum insists the first eight characters are digits, while the
standard allows a letter (e.g. ``Y``) as the registration-department code.
"""

import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import uscc as stdnum_uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SEPARATORS = re.compile(r"[\s\-_.·]+")
# Two registration characters from the alphabet, six digits of GB/T 2260
# division code, then nine organisation-code characters and the check digit.
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}$")


class UsccError(ValueError):
    """A code that cannot be a valid USCC; `message` is shown to people as-is.

    `expected_check`: when only the check character disagrees, the one the first
    17 characters give. That does not make the code with it the right one: any
    single wrong character changes the check character.
    """

    def __init__(self, message: str, *, expected_check: str | None = None):
        super().__init__(message)
        self.message = message
        self.expected_check = expected_check


def normalize(raw: str) -> str:
    """Full-width to half-width, drop spaces and dashes, upper-case."""
    text = unicodedata.normalize("NFKC", raw or "")
    return _SEPARATORS.sub("", text).upper()


def looks_like_uscc(raw: str) -> bool:
    """True when the input has the shape of a code (18 chars, right alphabet),
    whether or not its check digit is right."""
    return bool(_SHAPE.match(normalize(raw)))


def check_character(code17: str) -> str:
    return stdnum_uscc.calc_check_digit(code17[:17])


@dataclass(frozen=True)
class CheckResult:
    code: str
    expected_check: str

    @property
    def ok(self) -> bool:
        return self.code[-1] == self.expected_check


def validate(raw: str) -> str:
    """Return the normalised code or raise UsccError with a message a person understands."""
    code = normalize(raw)
    if not code:
        raise UsccError("统一社会信用代码不能为空。")
    if len(code) != 18:
        raise UsccError(f"统一社会信用代码应为18位，这里是{len(code)}位。")
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        raise UsccError(
            "含有不允许的字符："
            + "、".join(bad)
            + "（代码只用数字和大写字母，不含 I、O、Z、S、V）。"
        )
    if not code[2:8].isdigit():
        raise UsccError("第3–8位应为登记管理机关的行政区划代码（6位数字）。")
    expected = check_character(code)
    if code[-1] != expected:
        # Never "the right code is …": one wrong character anywhere changes the
        # check character, and the code with the computed one is usually
        # another company's (issue 21).
        raise UsccError(
            f"校验位不对：按前17位计算，第18位应为“{expected}”，这里是“{code[-1]}”。"
            "至少有一位抄错了，但校验位说明不了是哪一位：可能是前17位中的任何一位，也可能是第18位。",
            expected_check=expected,
        )
    return code


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except UsccError:
        return False
    return True


def province_code(code: str) -> str:
    """Characters 3–4 are the provincial part of the GB/T 2260 division code."""
    return normalize(code)[2:4]


def with_check_digit(code17: str) -> str:
    """Complete a 17-character prefix with its check character (sample data, tests)."""
    code17 = normalize(code17)
    return code17 + check_character(code17)


_IN_TEXT = re.compile(rf"(?<![0-9A-Z])[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}(?![0-9A-Z])")


def find_in_text(text: str) -> list[str]:
    """Every well-formed credit code in a pasted message (upper-cased), each once.

    Only the shape is required: a code with a wrong check character is still
    returned, so that the page can say which character looks wrong.
    """
    upper = unicodedata.normalize("NFKC", text or "").upper()
    return list(dict.fromkeys(match.group() for match in _IN_TEXT.finditer(upper)))
