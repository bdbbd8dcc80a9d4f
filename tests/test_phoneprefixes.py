"""agencies.phoneprefixes answers as phonenumbers' geocoder and carrier do, without their memory."""

import subprocess
import sys

import phonenumbers
import pytest
from phonenumbers import carrier as pn_carrier
from phonenumbers import geocoder as pn_geocoder
from phonenumbers.geodata import GEOCODE_DATA

from agencies import phoneprefixes, phones


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
        assert phoneprefixes.region(number) == pn_geocoder.description_for_number(number, "zh"), (
            number
        )
        assert phoneprefixes.carrier(number) == pn_carrier.name_for_number(number, "zh"), number
        checked += 1
    assert checked > 20_000


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
