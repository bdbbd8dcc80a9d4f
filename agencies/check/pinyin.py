"""Messages typed in pinyin, read as the characters they stand for.

Collectors type pinyin to get past keyword filters: a whole message
("ni zai bu huan qian jiu deng zhe zuo lao ba", "nizaibuhuanqian…") or one
syllable in a word ("zha骗", "吃牢fan", "单wei"). The rules are written in
characters, so the check turns such pinyin back into characters before they
read it (signals.fold):

- the words come from the rules themselves: every run of Han characters in
  signals.yaml's word lists, spellings and patterns (and the pieces of two to
  five characters inside it), under each reading of its characters (还: hai
  and huan), is a word that pinyin may stand for. Where two words read the
  same, the one the rules use more often wins;
- a run of Latin words counts as pinyin when every word splits into whole
  syllables and the run has two syllables or more ("Hi Lisa" and "case" do
  not); it is read word by word, longest first, and a syllable no word covers
  takes the character the rules file gives it (`pinyin:` ni → 你, bu → 不), or
  stays as typed;
- a syllable or two written inside Han characters ("zha骗") becomes the
  character that makes a word of the rules with its neighbours (诈骗), and is
  left alone otherwise.

Only text with Latin letters pays for this; the vocabulary is built the first
time such a text is read.
"""

import itertools
import re
from dataclasses import dataclass

from pypinyin.phrases_dict import phrases_dict

from ..search.textnorm import is_han, readings, segment_pinyin, to_normal

_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
MAX_WORD = 5  # characters of a word taken from the rules
_MAX_READINGS = 8  # reading combinations of one word (还款: hai kuan, huan kuan)
_ADDRESS = frozenset("./_@:")
_CONTEXT = 2  # Han characters either side that may complete a word ("zha骗")


@dataclass(frozen=True)
class Vocabulary:
    # syllables -> (the rules' word, how many of its characters it reads in a
    # rarer reading: 洗 as xian, 还 as huan outside 还钱/还款)
    words: dict[tuple[str, ...], tuple[str, int]]
    single: dict[str, str]  # syllable -> character, from the rules file
    longest: int


def vocabulary(han_texts, single: dict[str, str]) -> Vocabulary:
    """The words pinyin may stand for, from the Han text of the rules."""
    counts: dict[str, int] = {}
    for text in han_texts:
        for run in _HAN_RUN.findall(text):
            for size in range(2, min(MAX_WORD, len(run)) + 1):
                for start in range(len(run) - size + 1):
                    word = run[start : start + size]
                    counts[word] = counts.get(word, 0) + 1
    words: dict[tuple[str, ...], tuple[str, int]] = {}
    rank: dict[tuple[str, ...], tuple[int, int]] = {}
    for word, count in counts.items():
        choices = [readings(char) for char in word]
        if any(choice == (char,) for choice, char in zip(choices, word, strict=True)):
            continue  # a character without a reading
        usual = _phrase_reading(word) or tuple(choice[0] for choice in choices)
        for key in itertools.islice(itertools.product(*choices), _MAX_READINGS):
            rarer = sum(a != b for a, b in zip(key, usual, strict=True))
            # The usual reading first, then the word the rules use most.
            if key not in rank or (rarer, -count) < rank[key]:
                words[key], rank[key] = (word, rarer), (rarer, -count)
    longest = max((len(key) for key in words), default=0)
    return Vocabulary(words, dict(single), longest)


def _phrase_reading(word: str) -> tuple[str, ...] | None:
    found = phrases_dict.get(word)
    if found is None or len(found) != len(word):
        return None
    return tuple(to_normal(reading[0]) for reading in found)


def _syllables(token: str) -> list[str] | None:
    """The syllables of one Latin word, or None when it is not whole pinyin."""
    found, partial = segment_pinyin(token)
    return None if partial or not found else found[0]


def convert(text: str, places: list, vocab: Vocabulary) -> tuple[str, list]:
    """`text` (folded: lower case, one space between Latin words) with its pinyin
    read as characters; `places` follows each character."""
    if not any("a" <= char <= "z" for char in text):
        return text, places
    out: list[str] = []
    out_places: list = []
    at = 0
    for run in _LATIN_RUN.finditer(text):
        out.extend(text[at : run.start()])
        out_places.extend(places[at : run.start()])
        at = run.end()
        replaced = None if _in_address(text, run) else _run(text, run, places, vocab)
        if replaced is None:
            out.extend(text[run.start() : run.end()])
            out_places.extend(places[run.start() : run.end()])
        else:
            out.extend(replaced[0])
            out_places.extend(replaced[1])
    out.extend(text[at:])
    out_places.extend(places[at:])
    return "".join(out), out_places


def _in_address(text: str, run: re.Match) -> bool:
    """Letters in a web address, e-mail or id ("http://dk.example.cn", "hx_kefu")."""
    before = text[run.start() - 1] if run.start() else ""
    after = text[run.end()] if run.end() < len(text) else ""
    return before in _ADDRESS or after in _ADDRESS


def _run(text: str, run: re.Match, places: list, vocab: Vocabulary):
    """The characters for one run of Latin words with their places, or None to
    leave it as typed."""
    syllables: list[str] = []
    spans: list = []  # each syllable's letters' places in the text as written
    at = run.start()
    for token in run.group().split(" "):
        pieces = _syllables(token)
        if pieces is None:
            return None
        for piece in pieces:
            syllables.append(piece)
            spans.append(places[at : at + len(piece)])
            at += len(piece)
        at += 1  # the space
    if len(syllables) >= 2:
        chars = _read(syllables, vocab)
    else:
        chars = _in_context(text, run, syllables, vocab)
        if chars is None:
            return None
    out: list[str] = []
    out_places: list = []
    for char, letters in zip(chars, spans, strict=True):
        if is_han(char):
            out.append(char)
            out_places.append((letters[0][0], letters[-1][1]))
        else:  # a syllable read as nothing: as typed
            out.extend(char)
            out_places.extend(letters)
    return out, out_places


# What a reading costs, to choose among the ways of reading a run: a word of the
# rules 1 (and 1 more for each character read in a rarer reading), a syllable
# alone 0.8 with a character from the rules file, 1.5 left as typed. "qing xian
# zhi fu bao zheng jin" is 请先支付保证金 (3.6), not 清洗支付宝证金 (洗 as xian: 4).
# Between readings that cost the same, the longer word comes first: "zuo lao
# ba" is 坐牢吧, not 坐老爸; "cun zhang bang ni" is 村长帮你, not 村张榜你.
_WORD_COST, _RARER_COST, _SINGLE_COST, _TYPED_COST = 1.0, 1.0, 0.8, 1.5
_LATER_START = 0.001


def _read(syllables: list[str], vocab: Vocabulary) -> list[str]:
    """The cheapest reading of a run of syllables (see the costs above)."""
    n = len(syllables)
    best: list[tuple[float, int, list[str]]] = [(0.0, 0, [])] + [(float("inf"), 0, [])] * n
    for i in range(n):
        cost, pieces, chars = best[i]
        if cost == float("inf"):
            continue
        one = vocab.single.get(syllables[i])
        options = [(one or syllables[i], 1, _SINGLE_COST if one else _TYPED_COST)]
        for size in range(2, min(vocab.longest, n - i) + 1):
            found = vocab.words.get(tuple(syllables[i : i + size]))
            if found:
                word, rarer = found
                options.append((word, size, _WORD_COST + _RARER_COST * rarer))
        for text, size, price in options:
            candidate = (cost + price - _LATER_START * i, pieces + 1)
            if candidate < best[i + size][:2]:
                item = [text] if size == 1 else list(text)
                best[i + size] = (*candidate, chars + item)
    return best[n][2]


def _in_context(text: str, run: re.Match, syllables, vocab: Vocabulary):
    """A syllable or two inside Han characters: the characters that make a word
    of the rules with their neighbours ("zha骗" → 诈骗), else None."""
    before = _han_side(text, run.start() - 1, -1)
    after = _han_side(text, run.end(), 1)
    if not before and not after:
        return None
    size = len(syllables)
    for total in range(min(vocab.longest, size + len(before) + len(after)), size, -1):
        for left in range(min(len(before), total - size), -1, -1):
            right = total - size - left
            if right > len(after):
                continue
            left_chars = before[len(before) - left :]
            right_chars = after[:right]
            for left_key in itertools.product(*(readings(c) for c in left_chars)):
                for right_key in itertools.product(*(readings(c) for c in right_chars)):
                    found = vocab.words.get((*left_key, *syllables, *right_key))
                    word = found[0] if found else ""
                    if word and word[:left] == left_chars and word[left + size :] == right_chars:
                        return list(word[left : left + size])
    return None


def _han_side(text: str, start: int, step: int) -> str:
    chars = []
    at = start
    while 0 <= at < len(text) and is_han(text[at]) and len(chars) < _CONTEXT:
        chars.append(text[at])
        at += step
    return "".join(chars if step > 0 else reversed(chars))
