"""Text folding for name search: one function decides what "the same name" means.

Both sides of a search go through the same folding, so a query matches a name
whenever their folded forms match:

- NFKC (full-width ``ＡＢＣ１２３`` → ``abc123``), then OpenCC Traditional →
  Simplified (``資產管理`` → ``资产管理``), then lower case;
- everything that is not a letter or a digit is dropped (spaces, brackets,
  ``·``, dashes), so ``湖南 某某（长沙）`` and ``湖南某某长沙`` are the same;
- company-form words (有限公司, 有限责任公司, 股份有限公司, …) are removed wherever
  they occur, so they need not be typed and typing the wrong one still matches.

Pinyin comes from pypinyin's own dictionaries, but not from ``lazy_pinyin``
itself: that costs ~60 µs per character, which alone would cap an import at
~1,500 agencies a second. We segment with a greedy longest match over
pypinyin's phrase dictionary (the phrase readings are what get 长沙 → chang sha,
银行 → yin hang, 重庆 → chong qing right) and cache each phrase's reading.
"""

import re
import unicodedata
from functools import cache, lru_cache

import opencc
from pypinyin.phrases_dict import phrases_dict
from pypinyin.pinyin_dict import pinyin_dict

# Longest first: removing 有限公司 first would leave 股份 or 有限责任 behind.
COMPANY_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "股份合作公司",
    "有限公司",
    "股份公司",
    "有限合伙",
)
# Removed only at the very end: 公司 alone ("某某资产管理公司" as people say it).
TRAILING_FORMS = ("公司",)
# A query may stop part-way through a company form ("某某资产管理有限"); those
# leftovers are dropped from queries only (never from indexed names), and only
# when at least two characters long so that a real word ending in 有 survives.
_PARTIAL_FORMS = tuple(
    sorted(
        {form[:n] for form in (*COMPANY_FORMS, *TRAILING_FORMS) for n in range(2, len(form) + 1)},
        key=len,
        reverse=True,
    )
)

MAX_QUERY_CHARS = 100
_MAX_PHRASE = 6

_converter = opencc.OpenCC("t2s")


def is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\U00020000" <= char <= "\U0003134f"


def simplified(text: str) -> str:
    """Traditional characters as Simplified (OpenCC t2s); nothing else changes."""
    return _converter.convert(text)


def basic_fold(text: str) -> str:
    """Width, script and case folded; only letters and digits kept."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _converter.convert(text).lower()
    return "".join(char for char in text if char.isalnum())


def strip_company_forms(folded: str) -> str:
    for form in COMPANY_FORMS:
        folded = folded.replace(form, "")
    for form in TRAILING_FORMS:
        if folded.endswith(form) and len(folded) > len(form):
            folded = folded.removesuffix(form)
    return folded


def fold_name(text: str) -> str:
    """The searchable form of a stored name."""
    return strip_company_forms(basic_fold(text))


def fold_query(text: str) -> str:
    """The searchable form of what someone typed. Never longer than MAX_QUERY_CHARS.

    Several keywords separated by spaces (``常德 商务``) come back as their
    folded forms joined by one space: name search then requires every one of
    them, in any order (`query_keywords()`). A folded form never holds a
    space otherwise, so one string carries both kinds of query.
    """
    keywords = _keywords(text)
    if not keywords:
        return _fold_phrase(text)
    return " ".join(keywords)[:MAX_QUERY_CHARS].strip()


def query_keywords(folded: str) -> list[str]:
    """The keywords of a folded query (`fold_query()`): one for a plain query."""
    return folded.split()


def _fold_phrase(text: str) -> str:
    folded = basic_fold((text or "")[: MAX_QUERY_CHARS * 4])
    stripped = _without_partial_form(strip_company_forms(folded))
    # A query that is nothing but a company form ("有限公司") stays as typed: it
    # then matches nothing, which is the honest answer.
    return (stripped or folded)[:MAX_QUERY_CHARS]


def _without_partial_form(folded: str) -> str:
    for partial in _PARTIAL_FORMS:
        if folded.endswith(partial) and len(folded) > len(partial):
            return folded.removesuffix(partial)
    return folded


# More keywords than this is a sentence, not a name: the rest are left out.
MAX_KEYWORDS = 5


def _keywords(text: str) -> list[str]:
    """The pieces of a query between spaces, folded, as name search requires them.

    Pieces that are one Han character each are one keyword together (``长 沙``
    is 长沙), and so are pieces of Latin letters (``chang sha`` is pinyin typed
    with spaces). Company forms, whole or cut short (有限公司, 有限), are no
    keyword, and neither is a keyword inside another one (``长沙 长沙资产``).
    """
    pieces = []
    for piece in (text or "")[: MAX_QUERY_CHARS * 4].split():
        folded = strip_company_forms(basic_fold(piece))
        if folded and folded not in _PARTIAL_FORMS:
            pieces.append(folded)
    # [keyword so far, what its pieces are]: "han1" single Han characters,
    # "latin" Latin letters, "" anything else.
    merged: list[list[str]] = []
    for piece in pieces:
        kind = _piece_kind(piece)
        if kind and merged and merged[-1][1] == kind:
            merged[-1][0] += piece
        else:
            merged.append([piece, kind])
    keywords = [piece for piece, _kind in merged]
    if keywords:
        keywords[-1] = _without_partial_form(keywords[-1])
    keywords = list(dict.fromkeys(keywords))
    keywords = [k for k in keywords if not any(k != other and k in other for other in keywords)]
    return keywords[:MAX_KEYWORDS]


def _piece_kind(piece: str) -> str:
    if len(piece) == 1 and is_han(piece):
        return "han1"
    if piece.isascii() and piece.isalpha():
        return "latin"
    return ""


def to_normal(reading: str) -> str:
    """Toneless reading, ü as v (as pypinyin's NORMAL style), without pypinyin's
    own converter: that costs ~35 µs a reading, this ~1 µs."""
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=65536)
def _phrase_syllables(phrase: str) -> tuple[str, ...]:
    readings = phrases_dict.get(phrase)
    if readings is not None:
        return tuple(to_normal(reading[0]) for reading in readings)
    return (_char_syllable(phrase),)


@lru_cache(maxsize=65536)
def _char_syllable(char: str) -> str:
    readings = pinyin_dict.get(ord(char))
    if not readings:
        return char
    return to_normal(readings.split(",")[0])


@lru_cache(maxsize=65536)
def readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one Han character, the one names use first
    (长 → chang, zhang); the character itself when it has none."""
    value = pinyin_dict.get(ord(char))
    if not value:
        return (char,)
    return tuple(dict.fromkeys(to_normal(reading) for reading in value.split(",")))


def syllables(folded: str) -> list[str]:
    """Toneless pinyin, one item per Han character; other letters and digits in runs.

    ``湖南tcl资产`` → ``["hu", "nan", "tcl", "zi", "chan"]``.
    """
    result: list[str] = []
    i, n = 0, len(folded)
    while i < n:
        char = folded[i]
        if not is_han(char):
            j = i + 1
            while j < n and not is_han(folded[j]):
                j += 1
            result.append(folded[i:j])
            i = j
            continue
        for length in range(min(_MAX_PHRASE, n - i), 1, -1):
            piece = folded[i : i + length]
            if piece in phrases_dict:
                result.extend(_phrase_syllables(piece))
                i += length
                break
        else:
            result.append(_char_syllable(char))
            i += 1
    return result


def initials(folded: str, sylls: list[str]) -> str:
    """First letter of each Han syllable; runs of Latin letters or digits stay whole.

    `sylls` must be `syllables(folded)`: ``湖南tcl资产`` → ``hntclzc``.
    """
    result = []
    position = 0
    for syllable in sylls:
        if position < len(folded) and is_han(folded[position]):
            result.append(syllable[:1])
            position += 1
        else:
            result.append(syllable)
            position += len(syllable)
    return "".join(result)


@lru_cache(maxsize=1)
def _syllable_set() -> frozenset[str]:
    found = set()
    for value in pinyin_dict.values():
        for reading in value.split(","):
            found.add(to_normal(reading))
    # Interjections without a vowel (m, n, ng, hm, hng) would split almost any
    # typed string; nobody types them as part of a company name.
    return frozenset(s for s in found if s.isascii() and any(v in s for v in "aeiouv"))


@lru_cache(maxsize=1)
def _syllable_prefixes() -> frozenset[str]:
    return frozenset(s[:n] for s in _syllable_set() for n in range(1, len(s)))


def looks_like_pinyin(folded: str) -> bool:
    return bool(folded) and folded.isascii() and folded.isalpha()


_MAX_SEGMENTATIONS = 4


def segment_pinyin(text: str) -> tuple[list[list[str]], bool]:
    """Split typed pinyin into syllables: ``changsha`` → ``[["chang", "sha"]]``.

    Returns (segmentations, partial). When no split into whole syllables
    exists, the last piece may be the beginning of a syllable (someone still
    typing, ``changsh``) and `partial` is True. At most a few segmentations,
    fewest pieces first (``xian`` → ``[["xian"], ["xi", "an"]]``).
    """
    if not looks_like_pinyin(text) or len(text) > 40:
        return [], False
    whole = _segment(text, allow_partial=False)
    if whole:
        return whole, False
    return _segment(text, allow_partial=True), True


def _segment(text: str, *, allow_partial: bool) -> list[list[str]]:
    syllable_set = _syllable_set()
    prefixes = _syllable_prefixes()

    @cache
    def split(start: int) -> tuple[tuple[str, ...], ...]:
        if start == len(text):
            return ((),)
        found: list[tuple[str, ...]] = []
        for end in range(min(len(text), start + 6), start, -1):
            piece = text[start:end]
            if piece in syllable_set:
                found.extend((piece, *rest) for rest in split(end))
            elif allow_partial and end == len(text) and piece in prefixes:
                found.append((piece,))
            if len(found) > 16:
                break
        return tuple(found)

    results = sorted(split(0), key=len)[:_MAX_SEGMENTATIONS]
    return [list(r) for r in results]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_input(raw: str, limit: int = 200) -> str:
    """What we echo back: NUL and other control characters removed, length capped.

    PostgreSQL rejects NUL in text parameters, so this runs before anything
    reaches a query.
    """
    return _CONTROL.sub("", raw or "")[:limit].strip()


SORT_KEY_MAX = 200


@lru_cache(maxsize=1024)
def read_name(name: str) -> tuple[str, tuple[str, ...]]:
    """(fold_name(name), its syllables): what both search and sorting need of a name.

    Cached because the import asks twice for each record's name, once for the
    sort key and once for the search rows, and folding plus pinyin is the
    larger part of checking a record.
    """
    folded = fold_name(name)
    return folded, tuple(syllables(folded))


def sort_key(name: str) -> str:
    """What a list "by name" sorts on: the name's toneless pinyin, syllable by syllable.

    ``长沙鑫达资产管理有限公司`` → ``chang sha xin da zi chan guan li``. Sorting
    the characters themselves would follow code points, an order no reader
    knows; pinyin is the dictionary order. Company forms are left out, as in
    search, so the trade name decides.
    """
    folded, sylls = read_name(name)
    if not folded:  # nothing but a company form: sort on what there is
        sylls = syllables(basic_fold(name))
    return " ".join(sylls)[:SORT_KEY_MAX]
