"""Phone numbers: one normalised key per number, whatever way it was written.

Keys (used in the database and in /phone/<key>/ URLs):
- mainland mobile: the 11 national digits, e.g. ``13907310000``
- mainland landline: trunk 0 + area code + local number, e.g. ``073188888888``
- 400/800 numbers: the 10 digits, e.g. ``4008001234``
- service numbers (95xxx/96xxx, 106 SMS gateways, 12xxx hotlines): their digits
- foreign numbers: E.164, e.g. ``+14155550123``

Parsing, validity, region and carrier come from Google's libphonenumber data
(the ``phonenumbers`` package; region and carrier through
agencies.phoneprefixes, which keeps only the Chinese names); the shapes that
library treats as invalid or does not know (service numbers, our
obviously-fictitious sample numbers) are handled here explicitly.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import phonenumbers
from django.utils import translation

from portal.links import reverse_one

from . import phonenames, phoneprefixes
from .enums import PhoneKind

MAX_INPUT = 64
_STRIP = re.compile(r"[\s\-–—.·()（）\[\]/]+")
_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)\s*\d+$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_TOLL_FREE = re.compile(r"^(?:400|800)\d{7}$")
# 95xxx / 96xxx service numbers are 5 to 8 digits; 106xx SMS gateways run longer;
# 12xxx public hotlines (12321, 12363, 12378) are 5 digits.
_SERVICE = re.compile(r"^(?:9[56]\d{3,6}|106\d{5,17}|12\d{3}|1[01]0|11[49]|12[02])$")
_LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")


@dataclass(frozen=True)
class Phone:
    key: str
    kind: str
    display: str
    region: str = ""
    carrier: str = ""

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind, translation.get_language())

    @property
    def region_en(self) -> str:
        """`region` in English, for /en/ pages ({% localized number "region" %}):
        "Changsha, Hunan"; for a number abroad or one of no region, the country."""
        if not self.region:
            return ""
        if self.kind != PhoneKind.FOREIGN and (english := phonenames.english_region(self.region)):
            return english
        return phoneprefixes.country_name(_parse_key(self.key), "en")

    @property
    def carrier_en(self) -> str:
        return phonenames.english_carrier(self.carrier)

    @property
    def url(self) -> str:
        return reverse_one("agencies:phone-detail", "key", self.key)


@cache
def kind_label(kind: str, language: str) -> str:
    """A PhoneKind's label in `language`, which must be the active one (callers
    that know it pass it: asking costs more than the lookup)."""
    return str(PhoneKind(kind).label)


def clean(raw: str) -> str:
    """Half-width digits and '+', with separators removed."""
    text = unicodedata.normalize("NFKC", raw or "")[:MAX_INPUT].strip()
    text = _EXTENSION.sub("", text)
    return _STRIP.sub("", text)


def looks_like_phone(raw: str) -> bool:
    """A query made only of digits, separators and an optional leading +."""
    text = clean(raw)
    return bool(re.fullmatch(r"\+?\d{3,20}", text))


def _mainland_digits(text: str) -> str | None:
    """Strip +86 / 0086 / 86 prefixes; None means an international number."""
    if text.startswith("+"):
        return text[3:] if text.startswith("+86") else None
    if text.startswith("0086"):
        return text[4:]
    if text.startswith("00"):
        return None
    if text.startswith("86") and len(text) == 13 and _MOBILE.match(text[2:]):
        return text[2:]
    return text


def _display(key: str, kind: str) -> str:
    if kind == PhoneKind.MOBILE:
        return f"{key[:3]} {key[3:7]} {key[7:]}"
    if kind == PhoneKind.TOLL_FREE:
        return f"{key[:3]}-{key[3:6]}-{key[6:]}"
    if kind == PhoneKind.LANDLINE:
        # Area codes 010 and 02x are three digits; the rest four.
        area = 3 if key[1] in "12" else 4
        return f"{key[:area]}-{key[area:]}"
    if kind == PhoneKind.FOREIGN:
        try:
            return phonenumbers.format_number(
                phonenumbers.parse(key), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        except phonenumbers.NumberParseException:
            return key
    return key


def _describe(number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    # Not phonenumbers.geocoder/carrier: see agencies.phoneprefixes (memory).
    return phoneprefixes.describe(number)


def classify(raw: str) -> tuple[str, str] | None:
    """(key, kind) for any written form, or None if it is not a number.

    No region or carrier look-up: that costs most of normalize()'s time and the
    importer, which calls this for every number, does not store them.
    """
    text = clean(raw)
    if not re.fullmatch(r"\+?\d{3,20}", text):
        return None
    digits = _mainland_digits(text)
    if digits is None:
        parsed = _parse_international(text)
        if parsed is None:
            return None
        if parsed.country_code != 86:
            if not phonenumbers.is_possible_number(parsed):
                return None
            return (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                PhoneKind.FOREIGN.value,
            )
        digits = str(parsed.national_number)

    if digits != text.lstrip("+") and len(digits) == 10 and digits.startswith("10"):
        # "+86 10 6000 0000" is a Beijing landline that lost its trunk 0, not a
        # 106 SMS gateway: gateways are not written with a country code.
        digits = "0" + digits
    if _MOBILE.match(digits):
        return digits, PhoneKind.MOBILE.value
    if _TOLL_FREE.match(digits):
        return digits, PhoneKind.TOLL_FREE.value
    if _SERVICE.match(digits):
        return digits, PhoneKind.SERVICE.value
    if not digits.startswith("0") and (
        (len(digits) in (10, 11, 12) and digits[0] in "23456789")
        or (len(digits) == 10 and digits.startswith("10"))
    ):
        # A landline pasted without its trunk 0 after +86, e.g. +86 731 8888 8888
        # or +86 10 2000 0000 (Beijing's area code 010 is the one starting with 1).
        digits = "0" + digits
    if _LANDLINE.match(digits):
        return digits, PhoneKind.LANDLINE.value
    return None


def _parse_key(key: str) -> phonenumbers.PhoneNumber:
    """A key (E.164 abroad, national digits at home) as phonenumbers reads it."""
    return phonenumbers.parse(key, None if key.startswith("+") else "CN")


def _parse_international(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse("+" + text.lstrip("+").removeprefix("00"))
    except phonenumbers.NumberParseException:
        return None


def normalize(raw: str) -> Phone | None:
    """The canonical Phone, with region and carrier, for any written form; None if not a number."""
    classified = classify(raw)
    if classified is None:
        return None
    key, kind = classified
    if kind == PhoneKind.FOREIGN:
        parsed = phonenumbers.parse(key)
        region, carrier = _describe(parsed)
        if not region:
            region = phoneprefixes.country_name(parsed)
        return Phone(key, PhoneKind.FOREIGN, _display(key, PhoneKind.FOREIGN), region, carrier)
    if kind == PhoneKind.SERVICE:
        return Phone(key, PhoneKind.SERVICE, key)
    return _mainland(key, PhoneKind(kind))


def _mainland(key: str, kind: str) -> Phone:
    # What phonenumbers.parse(key, "CN") makes of a mainland key, built
    # directly: the key is already national digits (classify), and parsing it
    # again was a third of looking a number up (tests/test_phones.py holds the
    # two equal).
    region, carrier = _describe(mainland_number(key))
    if kind == PhoneKind.TOLL_FREE:
        carrier = ""
    return Phone(key, kind, _display(key, kind), region, carrier)


def mainland_number(key: str) -> phonenumbers.PhoneNumber:
    """A mainland key (national digits, landlines with their trunk 0) as phonenumbers reads it."""
    return phonenumbers.PhoneNumber(country_code=86, national_number=int(key.removeprefix("0")))


# A run of digits that may be a number inside a sentence: an optional +86/0086,
# then digits with the separators people write between groups.
_IN_TEXT = re.compile(r"(?<![\d+])(?:\+|00)?\d(?:[ \-–—.·()（）]{0,3}\d){4,19}(?!\d)")
# A run of digits followed by one of these is an amount, a date or a count
# ("逾期95000元", "12345笔"), not a number to call — unless it is as long as a
# mobile number: "请联系13907310000逾期将……" is a number followed by a word.
# Numbers written out in Chinese numerals, as some collectors do to get past
# filters ("幺三八零零零零一二三四", "零二八—零零零零一三一三"): a run of seven or
# more, spaces and dashes allowed between them, is read as the digits. Shorter
# runs are amounts, dates and counting words ("三五天", "一两千").
_CHINESE_DIGITS = "零〇一幺二两三四五六七八九壹贰叁肆伍陆柒捌玖"
_NUMERALS = str.maketrans(_CHINESE_DIGITS, "0011223456789123456789")
_NUMERAL_RUN = re.compile(f"[{_CHINESE_DIGITS}](?:[ \\-–—]{{0,2}}[{_CHINESE_DIGITS}]){{6,19}}")
_NOT_A_NUMBER_AFTER = set("元块万千百%％年月日号期天个次笔条")
_LONGEST_AMOUNT = 10  # digits
FIND_LIMIT = 20
# A digit run that follows one of these labels is an identifier, not a number
# to call ("合同号2025338190", "案号：(2025)湘0602民初1234号", "工号 80231").
_CODE_LABEL = re.compile(
    r"(?:编号|编码|单号|案号|合同号|订单号|运单号|工号|流水号|账号|帐号|卡号|尾号|身份证号?|证件号码?"
    r"|借据号|客户号|会员号|申请号|交易号|批次号|序号|代码|验证码|校验码|动态码|密码|No|NO|no)"
    r"[\s:：#.。为是]{0,3}[(（]?\d{0,4}[)）]?[^\d\s]{0,4}$"
)
# Letters glued to a digit run make it a code ("TX-2025-338190", "A1390000110").
_GLUE = "-_/#.·"
# Public hotlines: named in a message as where to complain or ask, never the
# sender. 12xxx (12378, 12368, 12381) and the anti-fraud line 96110.
_PUBLIC_HOTLINES = frozenset({"96110"})


def _is_public_hotline(number: Phone) -> bool:
    return number.kind == PhoneKind.SERVICE and (
        number.key.startswith("12") or number.key in _PUBLIC_HOTLINES
    )


def _part_of_a_code(text: str, start: int, end: int) -> bool:
    """Whether the digit run text[start:end] is (part of) an identifier."""
    at = start
    while at > 0 and text[at - 1] in _GLUE:
        at -= 1
    if at > 0 and text[at - 1].isascii() and text[at - 1].isalpha():
        return True
    at = end
    while at < len(text) and text[at] in _GLUE:
        at += 1
    if at < len(text) and text[at].isascii() and text[at].isalpha():
        return True
    return bool(_CODE_LABEL.search(text[max(0, start - 12) : start]))


def _before_a_bracket(run: str) -> Phone | None:
    """A number followed by a bracketed count: "0737-00001919（3次）"."""
    for at, char in enumerate(run):
        if char in "(（" and sum(c.isdigit() for c in run[:at]) >= 7:
            return normalize(run[:at])
    return None


def find_in_text(text: str) -> list[Phone]:
    """Every recognisable number in a pasted message, in order, each once.

    For "请于今日联系0731-8452 1234或139 0731 0000" this gives both numbers.
    Runs that are not numbers are dropped: those that fail normalize(), those
    followed by a unit (amounts, dates), those that carry letters or follow a
    label such as 编号 or 合同号 (case, contract and order numbers), and
    10–12-digit runs that would only be landlines with a trunk 0 they were
    not written with. At most FIND_LIMIT numbers are returned.
    """
    found: dict[str, Phone] = {}
    text = unicodedata.normalize("NFKC", text or "")
    text = _NUMERAL_RUN.sub(lambda run: run.group().translate(_NUMERALS), text)
    for match in _IN_TEXT.finditer(text):
        after = text[match.end() : match.end() + 1]
        before = text[match.start() - 1 : match.start()] if match.start() else ""
        digits = sum(char.isdigit() for char in match.group())
        if (after in _NOT_A_NUMBER_AFTER and digits <= _LONGEST_AMOUNT) or before in ("¥", "$"):
            continue
        if _part_of_a_code(text, match.start(), match.end()):
            continue
        number = normalize(match.group()) or _before_a_bracket(match.group())
        if number is None or _is_public_hotline(number):
            continue
        written = match.group().lstrip()
        if (
            number.kind == PhoneKind.LANDLINE
            and written[0] not in "0+"
            and not written.startswith("0086")
        ):
            # "合同号2025338190" would be 020-25338190 with a trunk 0 added:
            # a landline is written with its 0 (or +86).
            continue
        if number.key not in found:
            found[number.key] = number
            if len(found) == FIND_LIMIT:
                break
    return list(found.values())
