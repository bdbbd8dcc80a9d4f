"""The claims in a message that match a known pattern: threats of arrest,
impersonating a court, contacting family, scams, and so on.

The rules are data, `signals.yaml` next to this file, reviewed like an
article: each signal has a fixed code, a level, the explanation shown to the
reader (Chinese, and English beside it), the sources it rests on (facts the
articles cite) and regexes. Here they are only loaded, checked and applied:

- the message is folded for reading (`fold`): NFKC, Traditional → Simplified,
  no spaces, no comma inside a number (3,000), and the spellings of
  `spellings:` (zhua → 抓, 坐劳 → 坐牢) put right, a character put between the
  characters of a word to hide it (上*门) left out, and a sentence wrapped at a
  fixed width joined again — every folded character remembers where it stands
  in the text;
- it is cut into sentences at 。！？!?；; and line breaks, and each sentence
  into clauses at commas and at the conjunctions that turn a sentence
  round (但是, 否则, 不然 …), so that a negation or an exception applies to
  its own clause, not to the whole message ("你可以报警试试，明天就来抓你"
  is a threat; "你不用怕坐牢" is not);
- `{name}` in a pattern stands for the word list `words: name` (kinship
  words, the verbs of contacting, …), so patterns stay readable;
- a signal fires on a clause that matches one of its `patterns` and none of
  its `except` patterns, or on a `together` combination: each of its
  patterns in some clause of the message (a text that looks official *and*
  asks to be called on a mobile; "注销账户" in one clause and "影响征信" in the
  next); `unless`, found anywhere in the message, turns a rule off (an
  anti-fraud warning that lists the scams it warns of);
- it is reported once, quoting the first sentence that raised it, with the
  places in the text of every match (`matches`, offsets into the text as
  submitted, in code points);
- `night_contact` has no patterns: it fires on the time the reader gives;
- then the clause model (`model.py`) may add a signal no pattern raised, on
  a clause the signal's `except` patterns do not excuse, in a message no
  `unless` marks; never remove one.
"""

import dataclasses
import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import get_language

from portal.links import reverse_one

from ..search.textnorm import simplified
from . import model, pinyin

RULES_FILE = Path(__file__).resolve().parent / "signals.yaml"
LEVELS = ("violation", "warning", "info")  # also the order on the page
_SENTENCE_END = frozenset("。！？!?；;\n")
# Clause ends inside a sentence. Not 、 (it joins a list: 父母、同事) and not
# ：(a sender's header, "XX法务部：", is read with what follows it).
_CLAUSE_END = frozenset("，,")
# Words that start a new clause, so that what was said before them does not
# negate or excuse what follows (and the other way round).
# Not the 要不 of a question (要不要): it does not turn the sentence.
_TURNS = re.compile(
    r"(?<=.)(?=但是|但|可是|不过|然而|否则|不然|要不然|要不(?!要)|再不|如果不|若不|到时候)"
)
# Emoji variation selectors and zero-width characters: ⚖️ is ⚖ (a rule can name it).
_INVISIBLE = frozenset("\ufe0f\ufe0e\u200b\u200c\u200d\u2060\ufeff")
_WORD = re.compile(r"\{([a-z_]+)\}")  # {kin}, not the quantifier {9}
MAX_QUOTE = 160  # characters of a sentence quoted back
_QUOTE_BEFORE = 50  # characters kept before the first match when a sentence is cut
# Night, as the one verified rule on contact hours words it (22:00 to 08:00).
NIGHT_STARTS, NIGHT_ENDS = datetime.time(22, 0), datetime.time(8, 0)


def _english() -> bool:
    return (get_language() or "").startswith("en")


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    title: str
    message: str
    patterns: tuple[re.Pattern, ...]
    exceptions: tuple[re.Pattern, ...]
    sources: tuple[str, ...]  # legal references, as the articles cite them
    article: str  # slug
    steps: tuple[str, ...]
    when: str = ""  # "night": fires on the time given, not on the text
    # Combinations: each needs every one of its patterns, each in some clause.
    together: tuple[tuple[re.Pattern, ...], ...] = ()
    unless: tuple[re.Pattern, ...] = ()  # anywhere in the message: the rule does not apply
    title_en: str = ""
    message_en: str = ""

    # Pattern by pattern: one alternation of them all is several times slower
    # (the regex engine loses each pattern's literal prefix).
    def excused(self, clause: str) -> bool:
        return any(e.search(clause) for e in self.exceptions)

    def matches(self, clause: str) -> re.Match | None:
        """The first match of a pattern in one clause, unless an exception covers it."""
        for pattern in self.patterns:
            found = pattern.search(clause)
            if found:
                return None if self.excused(clause) else found
        return None

    @property
    def shown_title(self) -> str:
        return self.title_en if _english() and self.title_en else self.title

    @property
    def shown_message(self) -> str:
        return self.message_en if _english() and self.message_en else self.message


@dataclass(frozen=True)
class Signal:
    rule: Rule
    quote: str
    position: int  # the sentence's number in the message
    # Where the words that raised it stand in the text: (start, end) offsets.
    matches: tuple[tuple[int, int], ...] = ()
    quote_start: int = 0  # where the quote begins in the text
    cut_before: bool = False  # the quote leaves out the start of its sentence
    cut_after: bool = False
    learned: bool = False  # raised by the clause model (model.py), not by a pattern

    @property
    def article_url(self) -> str:
        return reverse_one("articles:detail", "slug", self.rule.article)

    @property
    def quote_parts(self) -> list[tuple[str, bool]]:
        """The quote as (text, marked) pieces: the words that raised the signal
        are marked (the page wraps them in <mark>)."""
        return _quote_parts(self, self.matches)


def _quote_parts(signal: Signal, spans) -> list[tuple[str, bool]]:
    """`signal`'s quote as (text, marked) pieces, the `spans` (offsets in the
    text) marked; spans may overlap (two signals' words), adjacent marks join."""
    quote, offset = signal.quote, signal.quote_start
    parts: list[tuple[str, bool]] = [("…", False)] if signal.cut_before else []
    at, end = offset, offset + len(quote)
    for start, stop in sorted(spans):
        start, stop = max(start, at), min(stop, end)
        if start >= stop:
            continue
        if start > at:
            parts.append((quote[at - offset : start - offset], False))
        parts.append((quote[start - offset : stop - offset], True))
        at = stop
    if at < end:
        parts.append((quote[at - offset :], False))
    if signal.cut_after:
        parts.append(("…", False))
    joined: list[tuple[str, bool]] = []
    for text, marked in parts:
        if joined and joined[-1][1] == marked:
            joined[-1] = (joined[-1][0] + text, marked)
        else:
            joined.append((text, marked))
    return joined


@dataclass(frozen=True)
class Passage:
    """One quoted sentence and the signals it raised: a sentence that raised
    three signals is quoted once, with the words of all three marked."""

    signals: tuple[Signal, ...]

    @property
    def quote_parts(self) -> list[tuple[str, bool]]:
        return _quote_parts(self.signals[0], [span for s in self.signals for span in s.matches])

    @property
    def is_time(self) -> bool:
        return self.signals[0].rule.when == "night"


def passages(found: list[Signal]) -> list[Passage]:
    """The signals grouped by the sentence they quote, in the order they come
    (violations first): each sentence is shown once."""
    groups: dict[tuple, list[Signal]] = {}
    for signal in found:
        key = ("time",) if signal.rule.when else (signal.quote_start, signal.quote)
        groups.setdefault(key, []).append(signal)
    return [Passage(tuple(group)) for group in groups.values()]


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    steps: dict[str, str]
    spellings: tuple[tuple[str, str], ...] = ()  # (as people type it, the word meant)
    steps_en: dict[str, str] | None = None
    # Pinyin (agencies.check.pinyin): a syllable's character when no word of the
    # rules covers it, and the rules' Han text the words are taken from.
    pinyin_single: tuple[tuple[str, str], ...] = ()
    han_texts: tuple[str, ...] = ()

    @cached_property
    def by_code(self) -> dict[str, Rule]:
        return {rule.code: rule for rule in self.rules}

    @cached_property
    def every_unless(self) -> tuple[re.Pattern, ...]:
        """Every rule's `unless` patterns, each once: most rules share
        `{not_to_you}`, and a long message searched for it once instead of seven
        times saves 3 ms. A message any of them matches is not addressed to the
        reader: the clause model adds nothing to it (nor learns from it)."""
        return tuple({p.pattern: p for rule in self.rules for p in rule.unless}.values())

    def step_text(self, key: str) -> str:
        if _english() and self.steps_en and self.steps_en.get(key):
            return self.steps_en[key]
        return self.steps[key]


@cache
def rules() -> Rules:
    """signals.yaml, loaded and checked once per process."""
    return parse(RULES_FILE.read_text(encoding="utf-8"))


def parse(text: str) -> Rules:
    """The rules file as Rules, or ImproperlyConfigured saying what is wrong in it."""
    try:
        data = yaml.safe_load(text)
        steps = {key: str(step["text"]).strip() for key, step in data["steps"].items()}
        steps_en = {
            key: str(step.get("text_en") or "").strip() for key, step in data["steps"].items()
        }
        words = {
            name: _alternation(name, items) for name, items in (data.get("words") or {}).items()
        }
        found = tuple(_rule(item, steps, words) for item in data["signals"])
        spellings = tuple(
            sorted(
                (
                    (str(typed).lower(), str(meant))
                    for typed, meant in (data.get("spellings") or {}).items()
                ),
                key=lambda pair: -len(pair[0]),
            )
        )
    except (yaml.YAMLError, KeyError, TypeError, AttributeError, re.error, ValueError) as error:
        raise ImproperlyConfigured(f"{RULES_FILE.name}: {error}") from error
    codes = [rule.code for rule in found]
    if len(set(codes)) != len(codes):
        raise ImproperlyConfigured(f"{RULES_FILE.name}: a code appears twice")
    single = tuple((str(k).lower(), str(v)) for k, v in (data.get("pinyin") or {}).items())
    return Rules(found, steps, spellings, steps_en, single, tuple(_han_texts(data)))


def _han_texts(data: dict):
    """What the rules match, as written in the file: the words pinyin may stand for."""
    for items in (data.get("words") or {}).values():
        yield from (str(item) for item in items)
    yield from (str(meant) for meant in (data.get("spellings") or {}).values())
    for item in data["signals"]:
        for key in ("patterns", "except", "unless"):
            yield from (str(p) for p in item.get(key) or ())
        for combo in item.get("together") or ():
            yield from (str(p) for p in combo)


def warm() -> None:
    """Load the rules, build the pinyin vocabulary and read the clause model
    before the first request (gunicorn's post_worker_init): a quarter of a
    second each, otherwise paid by the first visitor whose message has Latin
    letters in it, and by the first visitor at all."""
    _vocabulary()
    model.model()


@cache
def _vocabulary() -> pinyin.Vocabulary:
    loaded = rules()
    return pinyin.vocabulary(loaded.han_texts, dict(loaded.pinyin_single))


def _alternation(name: str, items) -> str:
    if not isinstance(items, list) or not items:
        raise ValueError(f"words: {name} must be a list of words")
    words = [str(i) for i in items]
    # Plain words go into a prefix tree (爸(?:爸|妈)?): the regex engine then
    # reads one character to rule out a whole list, not every word in turn;
    # the few items that are patterns themselves stay as they are.
    plain = [word for word in words if re.escape(word) == word]
    patterns = [word for word in words if re.escape(word) != word]
    # Longest first, so that 老婆 is not read as 老 followed by something else
    # (the tree tries the longer word first too).
    branches = [_tree(plain)] if plain else []
    branches += sorted(patterns, key=len, reverse=True)
    return "(?:" + "|".join(branches) + ")"


def _tree(words: list[str], escape=lambda text: text) -> str:
    """One regex for the words, sharing their first characters: longer words are
    tried before the shorter words they start with. Plain words go in as they
    are; pass `escape=re.escape` for words that may hold regex characters (a
    space, a dot)."""
    heads: dict[str, list[str]] = {}
    for word in dict.fromkeys(words):
        heads.setdefault(word[0], []).append(word[1:])
    branches = []
    for head, tails in heads.items():
        longer = [tail for tail in tails if tail]
        if not longer:
            branches.append(escape(head))
            continue
        optional = "?" if len(longer) < len(tails) else ""
        branches.append(f"{escape(head)}(?:{_tree(longer, escape)}){optional}")
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _compile(pattern: str, words: dict[str, str]) -> re.Pattern:
    def word_list(match: re.Match) -> str:
        if match.group(1) not in words:
            raise ValueError(f"unknown word list {{{match.group(1)}}} in {pattern!r}")
        return words[match.group(1)]

    return re.compile(_WORD.sub(word_list, pattern))


def _rule(item: dict, steps: dict[str, str], words: dict[str, str]) -> Rule:
    code = item["code"]
    if item["level"] not in LEVELS:
        raise ValueError(f"{code}: level must be one of {', '.join(LEVELS)}")
    unknown = [key for key in item["steps"] if key not in steps]
    if unknown:
        raise ValueError(f"{code}: unknown steps {unknown}")
    when = item.get("when", "")
    textual = bool(item.get("patterns") or item.get("together"))
    if when not in ("", "night") or bool(when) == textual:
        raise ValueError(f"{code}: needs either patterns or `when: night`")
    together = tuple(
        tuple(_compile(p, words) for p in combo) for combo in item.get("together") or ()
    )
    if any(len(combo) < 2 for combo in together):
        raise ValueError(f"{code}: each `together` needs two patterns or more")
    return Rule(
        code=code,
        level=item["level"],
        title=item["title"].strip(),
        message=item["message"].strip(),
        patterns=tuple(_compile(p, words) for p in item.get("patterns") or ()),
        exceptions=tuple(_compile(p, words) for p in item.get("except") or ()),
        # Several facts often come from one document: each document once.
        sources=tuple(dict.fromkeys(source["title"].strip() for source in item["sources"])),
        article=item["article"],
        steps=tuple(item["steps"]),
        when=when,
        together=together,
        unless=tuple(_compile(p, words) for p in item.get("unless") or ()),
        title_en=str(item.get("title_en") or "").strip(),
        message_en=str(item.get("message_en") or "").strip(),
    )


@register()
def rules_file_is_valid(app_configs, **kwargs):
    """`manage.py check` (and every deploy) fails on a broken signals.yaml,
    instead of the first message checked."""
    try:
        rules()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="agencies.E001")]
    return []


@dataclass(frozen=True)
class Folded:
    """A message as the patterns read it, each character with the place
    (start, end) in the text as written that it stands for."""

    text: str
    places: tuple[tuple[int, int], ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.places[start][0], self.places[end - 1][1]


def fold(text: str) -> Folded:
    chars: list[str] = []
    places: list[tuple[int, int]] = []
    latin = False  # a space next to a Latin word is kept until pinyin is read
    for at, char in enumerate(text):
        if _groups_digits(text, at):
            continue  # 3,000 is one number, not the end of a clause
        for part in unicodedata.normalize("NFKC", char):
            if part in _INVISIBLE:
                continue
            if part == "\n" or not part.isspace():
                chars.append(part)
                places.append((at, at + 1))
            elif chars and _latin_between(chars[-1], text, at + 1):
                chars.append(" ")
                places.append((at, at + 1))
                latin = True
    joined = "".join(chars)
    converted = simplified(joined)
    if len(converted) != len(joined):  # a rare phrase conversion: go by character
        converted = "".join(simplified(char) or char for char in chars)
    converted = converted.lower()
    if any("a" <= char <= "z" for char in converted):
        converted, places = pinyin.convert(converted, places, _vocabulary())
    spellings = rules().spellings
    if spellings:
        converted, places = _spelled(converted, places, spellings)
    if _BROKEN.search(converted):
        converted, places = _mended(converted, places)
    if latin:
        kept = [i for i, char in enumerate(converted) if char != " "]
        converted = "".join(converted[i] for i in kept)
        places = [places[i] for i in kept]
    return Folded(converted, tuple(places))


# A character put between the characters of a word to hide it from filters
# ("上*门", "爆-通-讯-录"), and a line broken inside a sentence (a letter or an
# SMS wrapped at a fixed width: "请在今\n天16:00前").
_HAN = "\u4e00-\u9fff"
_BROKEN = re.compile(f"(?<=[{_HAN}])[-*_~·•.](?=[{_HAN}])|(?<=[{_HAN}0-9])\n(?=[{_HAN}])")
_WRAPPED_LINE = 12  # a line at least this long, not ended by punctuation, wrapped
_PROSE = re.compile("[,。、;]")  # running text, not a heading (NFKC: ，→,)
_HEADER = re.compile(r"[^\n:]{0,10}:")  # the next line starts with "name:" or "10:12:"


def _mended(converted: str, places) -> tuple[str, list]:
    """Hiding characters dropped, and the line breaks of a wrapped sentence:
    a break after a long line of running text (it has a comma or a full stop
    in it, a heading has none) that does not end with punctuation, before a
    line that goes on with a Han character (not a chat's "name: …")."""
    drop = set()
    for found in _BROKEN.finditer(converted):
        at = found.start()
        if converted[at] != "\n":
            drop.add(at)
            continue
        line_start = converted.rfind("\n", 0, at) + 1
        line = converted[line_start:at]
        if (
            len(line) >= _WRAPPED_LINE
            and _PROSE.search(line)
            and not _HEADER.match(converted, at + 1)
        ):
            drop.add(at)
    if not drop:
        return converted, places
    kept = [i for i in range(len(converted)) if i not in drop]
    return "".join(converted[i] for i in kept), [places[i] for i in kept]


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _latin_between(before: str, text: str, at: int) -> bool:
    """A space between two Latin words, or a Latin word and a number ("¥299
    activation fee"): kept until pinyin and spellings have read the words."""
    while at < len(text) and text[at].isspace() and text[at] != "\n":
        at += 1
    after = unicodedata.normalize("NFKC", text[at])[:1] if at < len(text) else ""
    if not (before.isascii() and before.isalnum() and after.isascii() and after.isalnum()):
        return False
    return before.isalpha() or after.isalpha()


def _spelled(converted: str, places, spellings) -> tuple[str, list]:
    """The spellings of `spellings:` put right, each character keeping its place."""
    out_chars: list[str] = []
    out_places: list[tuple[int, int]] = []
    pattern = _spelling_pattern(spellings)
    meant = dict(spellings)
    at = 0
    for found in pattern.finditer(converted):
        out_chars.extend(converted[at : found.start()])
        out_places.extend(places[at : found.start()])
        begin, end = places[found.start()][0], places[found.end() - 1][1]
        for char in meant[found.group()]:
            out_chars.append(char)
            out_places.append((begin, end))
        at = found.end()
    out_chars.extend(converted[at:])
    out_places.extend(places[at:])
    return "".join(out_chars), out_places


def _groups_digits(text: str, at: int) -> bool:
    """A comma between two digits (3,000 or 3，000)."""
    return (
        text[at] in ",，"
        and 0 < at < len(text) - 1
        and text[at - 1].isdigit()
        and text[at + 1].isdigit()
    )


@cache
def _spelling_pattern(spellings: tuple[tuple[str, str], ...]) -> re.Pattern:
    # A Latin spelling (zhua, fy) counts only as a word of its own, not inside
    # another (an English word) nor in an address or an id (fy12368.cn, zx0000888).
    # Each kind is one prefix tree: a lookaround on every item would keep the
    # engine from skipping ahead on their first characters (3x slower).
    latin = [typed for typed, _ in spellings if typed.isascii()]
    other = [typed for typed, _ in spellings if not typed.isascii()]
    branches = []
    if latin:
        branches.append(f"(?<![a-z0-9_./@]){_tree(latin, re.escape)}(?![a-z0-9_])")
    if other:
        branches.append(_tree(other, re.escape))
    return re.compile("|".join(branches))


@dataclass(frozen=True)
class Clause:
    text: str
    start: int  # in the folded text
    sentence: int  # the number of its sentence


def clauses(folded: Folded) -> tuple[list[Clause], list[tuple[int, int]]]:
    """The clauses of a folded message, and each sentence's (start, end) in it."""
    found: list[Clause] = []
    sentences: list[tuple[int, int]] = []
    text = folded.text
    begin = 0
    for at in range(len(text) + 1):
        if at == len(text) or text[at] in _SENTENCE_END:
            if at > begin:
                number = len(sentences)
                sentences.append((begin, at))
                found.extend(_clauses_of(text, begin, at, number))
            begin = at + 1
    return found, sentences


def _clauses_of(text: str, begin: int, end: int, sentence: int) -> list[Clause]:
    parts: list[Clause] = []
    start = begin
    for at in range(begin, end + 1):
        if at == end or text[at] in _CLAUSE_END:
            if at > start:
                piece = text[start:at]
                cuts = [m.start() for m in _TURNS.finditer(piece)]
                for left, right in zip([0, *cuts], [*cuts, len(piece)], strict=True):
                    if right > left:
                        parts.append(Clause(piece[left:right], start + left, sentence))
            start = at + 1
    return parts


def is_night(moment: datetime.time) -> bool:
    return moment >= NIGHT_STARTS or moment < NIGHT_ENDS


def find(text: str, called_at: datetime.time | None = None, learned: bool = True) -> list[Signal]:
    """The signals in a message, violations first, each in the order it appears;
    `learned=False`: the rules' alone, without the clause model's."""
    found: dict[str, Signal] = {}
    searched: dict[str, bool] = {}  # an `unless` pattern's answer, asked once per message
    folded = fold(text)
    parts, sentences = clauses(folded)
    for rule in rules().rules:
        if rule.when == "night":
            if called_at is not None and is_night(called_at):
                found[rule.code] = Signal(rule, called_at.strftime("%H:%M"), -1)
            continue
        hits: list[tuple[Clause, int, int]] = []  # clause, start and end in the folded text
        for clause in parts:
            match = rule.matches(clause.text)
            if match and match.end() > match.start():
                hits.append((clause, clause.start + match.start(), clause.start + match.end()))
        for combo in rule.together:
            combo_hits = []
            for pattern in combo:  # the first pattern that finds nothing ends it
                hit = _first_hit(rule, pattern, parts)
                if hit is None:
                    break
                combo_hits.append(hit)
            else:
                hits.extend(combo_hits)
        if hits and any(_found(pattern, folded.text, searched) for pattern in rule.unless):
            hits = []
        if hits:
            hits.sort(key=lambda hit: hit[1])
            found[rule.code] = _signal(rule, text, folded, sentences, hits)
    if learned:
        _add_learned(found, text, folded, parts, sentences, searched)
    return sorted(found.values(), key=lambda s: (LEVELS.index(s.rule.level), s.position))


def _found(pattern: re.Pattern, text: str, searched: dict[str, bool]) -> bool:
    if pattern.pattern not in searched:
        searched[pattern.pattern] = pattern.search(text) is not None
    return searched[pattern.pattern]


def _add_learned(found: dict, text: str, folded: Folded, parts, sentences, searched) -> None:
    """The signals the clause model (model.py) reads in a clause and the rules
    did not raise: only where the signal's `except` patterns do not excuse the
    clause and no rule's `unless` marks the message as not addressed to the
    reader. The whole clause is what it marks."""
    learned = model.model()
    if learned is None:
        return
    loaded = rules().by_code
    proposed: dict[str, Clause] = {}
    for clause in parts:
        for code, _ in learned.raised(clause.text):
            if code not in found and code not in proposed and not loaded[code].excused(clause.text):
                proposed[code] = clause
    if not proposed or any(_found(p, folded.text, searched) for p in rules().every_unless):
        return
    for code, clause in proposed.items():
        hit = (clause, clause.start, clause.start + len(clause.text))
        signal = _signal(loaded[code], text, folded, sentences, [hit])
        found[code] = dataclasses.replace(signal, learned=True)


def _first_hit(rule: Rule, pattern, parts: list[Clause]) -> tuple[Clause, int, int] | None:
    """The first clause, not excused, that a `together` pattern matches."""
    for clause in parts:
        match = pattern.search(clause.text)
        if match and match.end() > match.start() and not rule.excused(clause.text):
            return clause, clause.start + match.start(), clause.start + match.end()
    return None


def _signal(rule, text, folded, sentences, hits) -> Signal:
    matches = tuple(dict.fromkeys(folded.span(start, end) for _, start, end in hits))
    first_clause = hits[0][0]
    sentence_start, sentence_end = sentences[first_clause.sentence]
    begin, end = folded.span(sentence_start, sentence_end)
    # The sentence as written, without the spaces around it.
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    cut_before = cut_after = False
    if end - begin > MAX_QUOTE:
        match_start = matches[0][0]
        new_begin = max(begin, match_start - _QUOTE_BEFORE)
        cut_before = new_begin > begin
        begin = new_begin
        if end - begin > MAX_QUOTE:
            end, cut_after = begin + MAX_QUOTE, True
    return Signal(
        rule,
        text[begin:end],
        first_clause.sentence,
        matches,
        quote_start=begin,
        cut_before=cut_before,
        cut_after=cut_after,
    )
