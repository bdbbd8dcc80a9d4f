"""agencies.phoneprefixes answers as phonenumbers' geocoder and carrier do, without their memory."""

import re
import subprocess
import sys

import phonenumbers
import pytest
from phonenumbers import carrier as pn_carrier
from phonenumbers import geocoder as pn_geocoder
from phonenumbers.geodata import GEOCODE_DATA

from agencies import phonenames, phoneprefixes, phones, sample


def _mainland_numbers():
    """One number for each Chinese prefix in the data (every prefix up to 8
    digits, every 7th of the 9-digit mobile blocks), padded to a full length."""
    prefixes = sorted(
        p for p, names in GEOCODE_DATA.items() if p.startswith("86") and "zh" in names
    )
    long_ones = [p for p in prefixes if len(p) >= 9]
    chosen = [p for p in prefixes if len(p) < 9] + long_ones[::7]
    for prefix in chosen:
        national = prefix[2:]
        width = 11 if national.startswith("1") else 10 + (national[0] not in "12")
        yield phonenumbers.parse("+86" + national.ljust(width, "5"))


def test_mainland_regions_and_carriers_match_phonenumbers():
    checked = 0
    for number in _mainland_numbers():
        # phonenumbers' own answer, with the known misspellings and old names corrected.
        expected = phonenames.corrected(pn_geocoder.description_for_number(number, "zh"))
        assert phoneprefixes.region(number) == expected, number
        assert phoneprefixes.carrier(number) == pn_carrier.name_for_number(number, "zh"), number
        checked += 1
    assert checked > 20_000


def test_a_mainland_key_is_read_as_phonenumbers_parses_it():
    # agencies.phones builds the PhoneNumber of a mainland key itself instead of
    # parsing it again; for every prefix in the data, and every kind of key,
    # that must be the number phonenumbers.parse(key, "CN") gives.
    keys = [str(number.national_number) for number in _mainland_numbers()]
    keys = [key if key.startswith("1") else "0" + key for key in keys]
    keys += ["4000001234", "8000001234", "95588", "01000001234", "02000001234"]
    for key in keys:
        built, parsed = phones.mainland_number(key), phonenumbers.parse(key, "CN")
        assert (built.country_code, built.national_number) == (86, parsed.national_number), key
        assert phonenumbers.number_type(built) == phonenumbers.number_type(parsed), key
        assert phoneprefixes.describe(built) == (
            phoneprefixes.region(parsed),
            phoneprefixes.carrier(parsed),
        ), key
    assert len(keys) > 20_000


@pytest.mark.parametrize(
    "raw",
    [
        "+1 415 555 0123",
        "+44 20 7946 0958",
        "+852 2123 4567",
        "+886 2 2345 6789",
        "+81 3 1234 5678",
    ],
)
def test_foreign_numbers_match_phonenumbers(raw):
    number = phonenumbers.parse(raw)
    assert phoneprefixes.region(number) == pn_geocoder.description_for_number(number, "zh")
    assert phoneprefixes.carrier(number) == pn_carrier.name_for_number(number, "zh")


def test_the_number_page_facts_are_the_chinese_names():
    mobile = phones.normalize("139 0731 0000")
    assert mobile.region and mobile.carrier == "中国移动"
    landline = phones.normalize("0731-84521234")
    assert "长沙" in landline.region


def test_phonenumbers_geocoder_tables_are_never_loaded_by_the_site():
    # Their import is what cost each worker ~100 MB; a fresh interpreter that
    # describes a number must not have them.
    code = (
        "import sys; from agencies import phones; phones.normalize('13907310000');"
        "print(sorted(m for m in sys.modules if m.split('.')[1:2] in (['geodata'], ['carrierdata'])"
        " and m.startswith('phonenumbers')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the prefix data's names: corrections and English ---------------------------------


def _mainland_names() -> dict[str, str]:
    """Every Chinese region name of a mainland prefix, with the English name the
    data gives it most often."""
    counts: dict[str, dict[str, int]] = {}
    for prefix, names in GEOCODE_DATA.items():
        if prefix.startswith("86") and "zh" in names:
            english = counts.setdefault(names["zh"], {})
            english[names.get("en", "")] = english.get(names.get("en", ""), 0) + 1
    return {zh: max(english, key=english.get) for zh, english in counts.items()}


def test_each_correction_is_still_needed():
    # A correction the data no longer needs (phonenumbers fixed it) should go.
    names = "、".join(_mainland_names())
    for wrong in phonenames.CORRECTIONS:
        assert wrong in names, wrong


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("湖南省长沙市、湘潭市、株州市", "湖南省长沙市、湘潭市、株洲市"),
        ("湖北省襄樊市、襄樊市", "湖北省襄阳市"),
        ("贵州省毕节地区", "贵州省毕节市"),
        ("湖南省株洲市", "湖南省株洲市"),
    ],
)
def test_known_mistakes_in_the_prefix_data_are_corrected(raw, region):
    assert phonenames.corrected(raw) == region


def test_the_number_page_writes_zhuzhou_as_the_province_page_does():
    number = phones.normalize("0731-88888888")
    assert number.region == "湖南省长沙市、湘潭市、株洲市"
    assert number.region_en == "Changsha / Xiangtan / Zhuzhou, Hunan"


def _region_of_area(area_code: str) -> str:
    for local in ("88888888", "8888888", "66666666", "6666666"):
        number = phones.normalize(area_code + local)
        if number and number.region:
            return number.region
    return ""


@pytest.mark.parametrize(
    ("city", "area_code"),
    [(city, code) for cities in sample.CITIES.values() for city, code in cities if code],
)
def test_number_regions_name_cities_as_the_province_pages_do(city, area_code):
    assert city in _region_of_area(area_code)


@pytest.mark.django_db
def test_the_prefix_data_begins_with_the_province_pages_provinces():
    from agencies.models import Province

    provinces = dict(Province.objects.values_list("code", "name"))
    for short, code in phonenames.PROVINCE_SHORT_NAMES.items():
        assert provinces[code].startswith(short), (short, provinces[code])


# Where this site's English differs from the English in phonenumbers' own data,
# and why.
ENGLISH_DIFFERS = {
    "新疆乌鲁木齐市": "phonenumbers writes Urumchi here, Urumqi elsewhere",
    "内蒙古呼伦贝尔市": "phonenumbers writes Hulun; the city is Hulunbuir",
    "内蒙古锡林郭勒盟": "phonenumbers writes Xilin; the league is Xilingol",
    "云南怒江": "phonenumbers writes Nujiangm, a typo",
    "云南迪庆": "Deqen, as phonenumbers writes 迪庆藏族自治州; here it writes Diqing",
    "西藏日喀则地区": "Shigatse, the usual English; phonenumbers writes Xigaze",
    "西藏日喀则地区、仲巴县": "Shigatse; phonenumbers writes Rikaze here",
    "西藏那曲地区、嘉黎县、聂荣县、申扎县、双湖、班戈县、尼玛县": "Nagqu; phonenumbers: Naqu",
    "西藏阿里、普兰、札达": "Ngari; phonenumbers writes Ali here",
    "吉林省延边朝鲜族自治州、珲春市、延吉市": "phonenumbers writes Yanbian Zhou here only",
    "湖北省襄樊市": "the city was renamed 襄阳 (Xiangyang) in 2010 (phonenames.CORRECTIONS)",
    "湖北省襄樊市、襄樊市": "the same: one city, Xiangyang",
}


def _letters(text: str) -> str:
    return "".join(c for c in text.lower().replace("ü", "u") if c.isalpha())


def test_english_regions_agree_with_phonenumbers_own_english():
    """pypinyin and the override table against the English phonenumbers ships: a
    character read in its other reading (长治 as Zhangzhi) shows here."""
    differ = {}
    for zh, english in _mainland_names().items():
        ours = phonenames.english_region(phonenames.corrected(zh))
        assert ours and not re.search("[\u4e00-\u9fff]", ours), zh
        if zh in ENGLISH_DIFFERS:
            continue
        ours_cities, _, ours_province = ours.rpartition(", ")
        their_cities, _, their_province = english.rpartition(", ")
        same_cities = {_letters(c) for c in ours_cities.split(" / ")} == {
            _letters(c) for c in their_cities.split("/")
        }
        if _letters(ours_province) != _letters(their_province) or not same_cities:
            differ[zh] = (ours, english)
    assert not differ, differ


def test_every_carrier_has_its_english_name():
    from phonenumbers.carrierdata import CARRIER_DATA

    names = {n["zh"]: n.get("en") for n in CARRIER_DATA.values() if "zh" in n}
    assert names and names == phonenames.CARRIER_NAMES_EN


@pytest.mark.parametrize(
    ("raw", "region_en", "carrier_en"),
    [
        ("139 0731 0000", "Changsha, Hunan", "China Mobile"),
        ("133 0731 0000", "Changsha, Hunan", "China Telecom"),
        ("010-88888888", "Beijing", ""),
        ("400-800-1234", "China", ""),
        ("+1 415 555 0123", "United States", ""),
        ("+82 2 1234 5678", "South Korea", ""),
    ],
)
def test_the_english_region_and_carrier(raw, region_en, carrier_en):
    number = phones.normalize(raw)
    assert (number.region_en, number.carrier_en) == (region_en, carrier_en)
