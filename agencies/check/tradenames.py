"""Agencies a pasted text names short of a registered name: by place and trade name
(岳阳鼎盛的法务, 廣州宏達的催收專員, 株洲华盈) or by trade name alone (鼎盛的法务,
【鼎盛】). agencies.search.tradename says what these are for each agency; its
`TradeNameKey` rows hold them.

Naming the wrong company accuses it, so a word of the text counts only where
it stands as a name:

- it ends where a word ends: at the end of the text or a punctuation mark, or
  before what follows a company's name — an industry word (资产, 咨询), a
  company form, a role (法务, 催收, 客服, 的法务), or what someone of it does
  (的人说, 又打来, 打来的, 由渝信达接手, 划给蓉信名下, 是秦润的。, 秦润的小王);
  after a place also before 的 or 了 (岳阳鼎盛的…, 转给常德恒信了);
- a trade name without a place also begins where a word begins: at the start,
  after a punctuation mark, or after 是, 来自, 受, 自称, 移交… So 正和 in 真正和 and 恒信
  in 永恒信念 name no one, nor 鼎盛 in 那是鼎盛的时候, nor 鼎盛 in 北京鼎盛 when the
  only 鼎盛 in the directory is in 岳阳;
- a trade name (or place and trade name) names an agency only when no other
  agency has it. A shared one lists the agencies that carry it (`Shared`),
  unless the text already led to one of them (by number or by name);
- inside a registered name that the text holds (names.find) a word is that
  name's, not a second company.

Trade names that are everyday words or lenders' names are never looked up
(tradename.COMMON_WORDS), nor any of one character.

Cost: the candidate words are the text's windows of 2 to tradename.MAX_KEY
characters that end where a word may end, looked up exactly in one query
whatever the text or the directory: one range of the `tradenamekey_key` index
per word, at most SHOWN agencies of each returned, with how many there are.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from ..search import tradename
from ..search.models import TradeNameKey
from ..search.textnorm import COMPANY_FORMS, TRAILING_FORMS
from .names import FoldedText, NameHit

# Agencies listed for a shared trade name (the answer says how many there are).
SHOWN = 10
# Words looked up at most (a 300-character message has a few hundred).
MAX_WORDS = 6000

# What stands after a company's name: its business, its form, who speaks for it.
ROLES = (
    "法务", "法务部", "催收", "催收部", "催收员", "客服", "专员", "工作人员", "员工", "同事",
    "经理", "主管", "律师", "律所", "调解员", "调解中心", "外访", "贷后", "委外", "团队", "部门",
    "总部", "分公司", "公司", "集团", "提醒", "通知", "温馨提示", "委托", "致电", "来电", "协商",
)  # fmt: skip
# What someone of a company does, said right after its name or after 的: 博远的又
# 打来了, 金诚打来的, 宁泰的人说…; a break after 的 counts too (是秦润的。).
ACTS = (
    "打", "来", "发", "给", "让", "派", "说", "称", "要", "找", "催", "又", "再", "也", "还", "都",
    "会", "将", "一直", "天天", "每天", "已经", "上门", "接手", "接管", "名下",
)  # fmt: skip
# 小: 秦润的小王 (a colleague called by a nickname).
PEOPLE = ("人", "男的", "女的", "那个", "这个", "那边", "这边", "谁", "小")
# After a place and a trade name, anything after 的, and these: 转给常德恒信了.
AFTER_PLACE = ("的", "了", "已", "在", "和", "与", "跟")
# Before a trade name alone: 我是鼎盛的…, 来自鼎盛…, 受鼎盛委托, 自称正和的.
BEFORE = (
    "是", "自", "受", "由", "被", "向", "给", "找", "和", "与", "跟", "及", "代表", "委托", "联系",
    "称", "移交", "转交",
)  # fmt: skip

_ENDINGS = frozenset((*ROLES, *tradename.INDUSTRY_WORDS, *COMPANY_FORMS, *TRAILING_FORMS, "有限"))
_ENDINGS |= frozenset("的" + role for role in ROLES)
_ACTS = frozenset(ACTS)
_AFTER_DE = frozenset((*ACTS, *PEOPLE))
_LOOSE_ENDINGS = frozenset(AFTER_PLACE)
_BEFORE = frozenset(BEFORE)
_ENDING_FIRST = frozenset(ending[0] for ending in _ENDINGS)
_LONGEST_ENDING = max(map(len, _ENDINGS))
_PLACE_SUFFIXES = "市省"  # 岳阳市鼎盛, 湖南省鼎盛: looked up as 岳阳鼎盛, 湖南鼎盛
_SHORTEST_WITH_PLACE = 2 + tradename.MIN_TRADE

# How a word may end, surest first: before a break or what ends company names
# (STRONG); before what someone of a company does (ACTS); before anything a
# place and trade name may be followed by (LOOSE). A trade name alone needs
# ACTS at least, a place and trade name LOOSE.
STRONG, ACT, LOOSE = 3, 2, 1


@dataclass
class TradeHit:
    agency_id: int
    how: str  # "place_and_trade_name" or "trade_name" (reading.FOUND_BY_ORDER)
    matched_text: str
    start: int


@dataclass
class Shared:
    """A trade name (or place and trade name) that several agencies carry."""

    key: str  # folded: 恒信, 常德恒信
    how: str  # as TradeHit.how
    matched_text: str  # as it stands in the text
    agency_ids: list[int]  # the first SHOWN
    count: int  # how many agencies carry it


@dataclass
class Found:
    hits: list[TradeHit] = field(default_factory=list)
    shared: list[Shared] = field(default_factory=list)

    @property
    def agency_ids(self) -> list[int]:
        ids = [hit.agency_id for hit in self.hits]
        ids.extend(agency_id for shared in self.shared for agency_id in shared.agency_ids)
        return ids


class _Word(NamedTuple):
    start: int
    end: int
    # For 岳阳市鼎盛 looked up as 岳阳鼎盛: where the 市 stood in the word; it
    # must then be right after the place.
    dropped: int | None = None


class _Text:
    """Where in a folded text words may begin and end."""

    def __init__(self, folded: FoldedText):
        self.text = text = folded.folded
        places, original = folded.places, folded.original
        n = len(text)
        # A break between folded characters i-1 and i: anything left out of the
        # folded text (punctuation, spaces) or a change between Han and Latin.
        self.broken = [True] * (n + 1)
        # reach[i]: where the longest stretch ending at i that a key could be
        # begins. Keys are Han characters only, never hold 的, and a word does not
        # cross punctuation (spaces it may: 岳阳 鼎盛).
        self.reach = reach = [0] * n
        low = 0
        han = [tradename.is_han(char) for char in text]
        for i, char in enumerate(text):
            if i:
                gap = places[i] - places[i - 1] > 1
                self.broken[i] = gap or han[i - 1] != han[i]
                if gap and original[places[i - 1] + 1 : places[i]].strip(" \u3000\u00b7"):
                    low = i
            if not han[i] or char == "的":
                low = i + 1
            reach[i] = low

    def end_kind(self, end: int) -> int:
        """STRONG, ACT, LOOSE or 0: how a word may end before position `end`."""
        if self.broken[end]:
            return STRONG
        after = self.text[end : end + _LONGEST_ENDING]
        if after[0] in _ENDING_FIRST and any(
            after[:length] in _ENDINGS for length in range(2, len(after) + 1)
        ):
            return STRONG
        if after[0] == "的":
            if self.broken[end + 1] or after[1:2] in _AFTER_DE or after[1:3] in _AFTER_DE:
                return ACT
            return LOOSE
        if after[:1] in _ACTS or after[:2] in _ACTS:
            return ACT
        if after[:1] in _LOOSE_ENDINGS:
            return LOOSE
        return 0

    def begins(self, start: int) -> bool:
        """Whether a trade name alone may begin at `start`."""
        if start == 0 or self.broken[start]:
            return True
        before = self.text[max(0, start - 2) : start]
        return before[-1:] in _BEFORE or before in _BEFORE

    def words(self) -> dict[str, list[_Word]]:
        """{key to look up: where it stands}: every window that ends where a word may,
        less those too short to hold a place and that cannot be a trade name alone."""
        text, reach, found = self.text, self.reach, {}
        for end in range(tradename.MIN_TRADE, len(text) + 1):
            longest = min(end - reach[end - 1], tradename.MAX_KEY)
            if longest < tradename.MIN_TRADE:
                continue
            kind = self.end_kind(end)
            if not kind:
                continue
            for length in range(tradename.MIN_TRADE, longest + 1):
                start = end - length
                if length < _SHORTEST_WITH_PLACE and not (kind >= ACT and self.begins(start)):
                    continue
                word = text[start:end]
                found.setdefault(word, []).append(_Word(start, end))
                if length > _SHORTEST_WITH_PLACE and ("市" in word or "省" in word):
                    for at in range(2, length - tradename.MIN_TRADE):
                        if word[at] in _PLACE_SUFFIXES:
                            shorter = word[:at] + word[at + 1 :]
                            found.setdefault(shorter, []).append(_Word(start, end, at))
            if len(found) >= MAX_WORDS:
                break
        return found


def find(folded: FoldedText, names: list[NameHit], known: set[int]) -> Found:
    """The agencies the text names by place and trade name or trade name alone, and
    the trade names it uses that several agencies share. `names`: the registered
    names found in it; `known`: agencies the text led to already (by number or
    name), preferred where a trade name is shared."""
    text = _Text(folded)
    words = text.words()
    if not words:
        return Found()
    by_key: dict[tuple[str, int], tuple[list[int], int]] = {}
    for key, length, agency_id, count in TradeNameKey.objects.first_of_each(
        list(words), known, SHOWN
    ):
        by_key.setdefault((key, length), ([], count))[0].append(agency_id)
    mentions = []
    for (key, length), (agency_ids, count) in by_key.items():
        for word in words[key]:
            if _stands(text, word, length):
                mentions.append((word, key, length, agency_ids, count))
    return _resolve(folded, _outermost(mentions, names, text.text), known)


def _stands(text: _Text, word: _Word, place_length: int) -> bool:
    """Whether the text uses the word as a name (see the module's docstring)."""
    kind = text.end_kind(word.end)
    if place_length:
        return word.dropped in (None, place_length) and kind >= LOOSE
    return word.dropped is None and kind >= ACT and text.begins(word.start)


def _outermost(mentions: list, names: list[NameHit], text: str) -> list:
    """Drops words inside a registered name the text holds (wherever it stands) or
    inside a longer word that names someone."""
    # named[p]: how far the registered names that begin at or before p reach.
    named = [0] * (len(text) + 1)
    for name in {hit.folded for hit in names}:
        at = text.find(name)
        while at != -1:
            named[at] = max(named[at], at + len(name))
            at = text.find(name, at + 1)
    for position in range(1, len(named)):
        named[position] = max(named[position], named[position - 1])
    mentions.sort(key=lambda m: (m[0].start - m[0].end, m[0].start))
    kept: list = []
    longest_from: dict[int, int] = {}  # start -> the furthest end of a kept word there
    for mention in mentions:
        start, end = mention[0].start, mention[0].end
        if named[start] >= end:
            continue
        inside = False
        for other in range(max(0, end - tradename.MAX_KEY), start + 1):
            reach = longest_from.get(other, -1)
            if reach >= end and (other, reach) != (start, end):
                inside = True
                break
        if not inside:
            kept.append(mention)
            longest_from[start] = max(longest_from.get(start, -1), end)
    kept.sort(key=lambda m: m[0].start)
    return kept


def _resolve(folded: FoldedText, mentions: list, known: set[int]) -> Found:
    found = Found()
    seen_hits: set[tuple[int, str]] = set()
    seen_shared: set[tuple[str, int]] = set()
    for word, key, length, agency_ids, count in mentions:
        how = "place_and_trade_name" if length else "trade_name"
        matched = folded.original_span(word.start, word.end - word.start)
        chosen = agency_ids if count == 1 else [i for i in agency_ids if i in known]
        for agency_id in chosen:
            if (agency_id, how) not in seen_hits:
                seen_hits.add((agency_id, how))
                found.hits.append(TradeHit(agency_id, how, matched, word.start))
        if not chosen and (key, length) not in seen_shared:
            seen_shared.add((key, length))
            found.shared.append(Shared(key, how, matched, agency_ids, count))
    return found
