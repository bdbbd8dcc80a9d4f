"""Where a number was allotted and to which carrier, in Chinese, without 100 MB per worker.

``phonenumbers.geocoder`` and ``phonenumbers.carrier`` load their prefix
tables for every country and every language when they are imported: ~95 MB
and ~10 MB in each gunicorn worker, most of a worker's memory, for the few
hundred Chinese names this site ever shows. This module reads the same
generated data files (the ``data*.py`` files of ``phonenumbers.geodata`` and
``phonenumbers.carrierdata``) as text, line by line, without importing those
packages, keeps only the entries that have a Chinese name, and stores them as
sorted arrays of integers per prefix length plus a list of the ~400 distinct
names: ~3 MB.

The answers are phonenumbers' own: the same data, the same longest-prefix
rule, the same number-type checks as ``geocoder.description_for_number`` and
``carrier.name_for_number`` with ``lang="zh"``, except that the data's known
misspellings and old city names are corrected (agencies.phonenames, which
also gives the names in English); a test compares the two on the mainland
prefixes in the data.
"""

import importlib.util
import itertools
import re
from array import array
from bisect import bisect_left
from functools import cache
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from . import phonenames

_PACKAGE_DIR = Path(phonenumbers.__file__).resolve().parent
LANG = "zh"


# One entry of a generated data file, as its generator writes it:
#  '861508212':{'en': 'Ziyang, Sichuan', 'zh': u('\\u56db\\u5ddd...')},
_ENTRY = re.compile(r"^ '(\d+)':\{.*'zh': (?:u\()?'((?:[^'\\]|\\.)*)'")


def _load_module(package: str, path: Path):
    """Execute one generated file as phonenumbers.<package>.<name>, without
    importing <package> itself (whose __init__ loads every data file at once).
    """
    spec = importlib.util.spec_from_file_location(f"phonenumbers.{package}.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chinese_entries(package: str):
    """(prefix, name) for every entry with a Chinese name, file by file, line by line.

    Read as text rather than imported: executing a file builds a dict of every
    language for 10,000 prefixes, and the memory that frees is not given back
    to the system, so a worker would keep ~40 MB for nothing.
    """
    files = sorted((_PACKAGE_DIR / package).glob("data*.py"), key=lambda p: int(p.stem[4:]))
    if not files:
        raise RuntimeError(f"phonenumbers has no {package} data files")
    for path in files:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if "'zh'" in line and (match := _ENTRY.match(line)):
                    name = match.group(2).encode("ascii", "backslashreplace")
                    yield match.group(1), name.decode("unicode_escape")


class PrefixTable:
    """Longest-prefix lookup over E.164 digits, Chinese names only."""

    def __init__(self, package: str):
        names: list[str] = []
        index: dict[str, int] = {}
        self.keys: dict[int, array] = {}
        self.slots: dict[int, array] = {}
        for prefix, name in _chinese_entries(package):
            slot = index.setdefault(name, len(names))
            if slot == len(names):
                names.append(name)
            length = len(prefix)
            if length not in self.keys:
                self.keys[length], self.slots[length] = array("Q"), array("I")
            self.keys[length].append(int(prefix))
            self.slots[length].append(slot)
        if not names:
            raise RuntimeError(f"no Chinese names read from phonenumbers' {package}")
        for length, keys in self.keys.items():
            # The generator writes prefixes in order, so this is already true;
            # bisect depends on it, so make sure.
            if any(a >= b for a, b in itertools.pairwise(keys)):
                order = sorted(range(len(keys)), key=keys.__getitem__)
                self.keys[length] = array("Q", (keys[i] for i in order))
                self.slots[length] = array("I", (self.slots[length][i] for i in order))
        self.names = names
        self.lengths = sorted(self.keys, reverse=True)

    def lookup(self, digits: str) -> str:
        """The name of the longest prefix of `digits` (E.164 without '+'), or ''."""
        for length in self.lengths:
            if length > len(digits):
                continue
            wanted = int(digits[:length])
            keys = self.keys[length]
            at = bisect_left(keys, wanted)
            if at < len(keys) and keys[at] == wanted:
                return self.names[self.slots[length][at]]
        return ""


@cache
def _geo() -> PrefixTable:
    table = PrefixTable("geodata")
    # The data's known misspellings and old names, corrected once (agencies.phonenames).
    table.names = [phonenames.corrected(name) for name in table.names]
    return table


@cache
def _carriers() -> PrefixTable:
    return PrefixTable("carrierdata")


@cache
def _country_names(lang: str = LANG) -> dict[str, str]:
    locale = _load_module("geodata", _PACKAGE_DIR / "geodata" / "locale.py").LOCALE_DATA
    names = {}
    for region, by_lang in locale.items():
        name = by_lang.get(lang, "")
        if name.startswith("*"):  # "use the name in that other language"
            name = by_lang.get(name[1:], "")
        if name:
            names[region] = name
    return names


def _e164_digits(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def country_name(number: phonenumbers.PhoneNumber, lang: str = LANG) -> str:
    """The country or territory, if the country code belongs to exactly one
    (or the number is valid in exactly one of those sharing it); in Chinese, or
    in English for lang="en"."""
    regions = phonenumbers.region_codes_for_country_code(number.country_code)
    if len(regions) != 1:
        valid = [r for r in regions if phonenumbers.is_valid_number_for_region(number, r)]
        if len(valid) != 1:
            return ""
        regions = valid
    return _country_names(lang).get(regions[0], "")


def region(number: phonenumbers.PhoneNumber) -> str:
    """As geocoder.description_for_number(number, "zh"), with the data's known
    mistakes corrected (agencies.phonenames.CORRECTIONS)."""
    return describe(number)[0]


_CARRIER_TYPES = (
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PAGER,
)


def carrier(number: phonenumbers.PhoneNumber) -> str:
    """As carrier.name_for_number(number, "zh")."""
    return describe(number)[1]


def describe(number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    """(region(number), carrier(number)), working out the number's type once:
    phonenumbers.number_type() matches the number against its country's
    patterns, and was a third of looking a number up (the number page and API
    do it on every request)."""
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return "", ""
    digits = _e164_digits(number)
    if not phonenumbers.is_number_type_geographical(kind, number.country_code):
        where = country_name(number)
    else:
        where = _geo().lookup(digits) or country_name(number)
    return where, _carriers().lookup(digits) if kind in _CARRIER_TYPES else ""


def warm() -> None:
    """Read the tables now (~0.6 s) rather than in a visitor's first number lookup."""
    _geo()
    _carriers()
    _country_names()
