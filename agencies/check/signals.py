"""The claims in a message that match a known pattern: threats of arrest,
impersonating a court, contacting family, and so on.

The rules are data, `signals.yaml` next to this file, reviewed like an
article: each signal has a fixed code, a level, the explanation shown to the
reader, the sources it rests on (facts the articles cite) and regexes. Here
they are only loaded, checked and applied:

- the message is cut into sentences at 。！？!?；; and line breaks; each
  sentence is matched in Simplified characters, NFKC-normalised, without
  spaces ("聯 系 你 家 人" reads as 联系你家人);
- a signal fires on a sentence that matches one of its `patterns` and none of
  its `except` patterns (negations, fraud warnings), and is reported once,
  quoting the first such sentence as written;
- `night_contact` has no patterns: it fires on the time the reader gives.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from portal.links import reverse_one

from ..search.textnorm import simplified

RULES_FILE = Path(__file__).resolve().parent / "signals.yaml"
LEVELS = ("violation", "warning", "info")  # also the order on the page
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_SPACE = re.compile(r"\s+")
MAX_QUOTE = 160  # characters of a sentence quoted back
# Night, as the one verified rule on contact hours words it (22:00 to 08:00).
NIGHT_STARTS, NIGHT_ENDS = datetime.time(22, 0), datetime.time(8, 0)


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

    def matches(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in self.patterns) and not any(
            e.search(sentence) for e in self.exceptions
        )


@dataclass(frozen=True)
class Signal:
    rule: Rule
    quote: str
    position: int  # the sentence's number in the message

    @property
    def article_url(self) -> str:
        return reverse_one("articles:detail", "slug", self.rule.article)


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    steps: dict[str, str]


@cache
def rules() -> Rules:
    """signals.yaml, loaded and checked once per process."""
    return parse(RULES_FILE.read_text(encoding="utf-8"))


def parse(text: str) -> Rules:
    """The rules file as Rules, or ImproperlyConfigured saying what is wrong in it."""
    try:
        data = yaml.safe_load(text)
        steps = {key: str(step["text"]).strip() for key, step in data["steps"].items()}
        found = tuple(_rule(item, steps) for item in data["signals"])
    except (yaml.YAMLError, KeyError, TypeError, AttributeError, re.error, ValueError) as error:
        raise ImproperlyConfigured(f"{RULES_FILE.name}: {error}") from error
    codes = [rule.code for rule in found]
    if len(set(codes)) != len(codes):
        raise ImproperlyConfigured(f"{RULES_FILE.name}: a code appears twice")
    return Rules(found, steps)


def _rule(item: dict, steps: dict[str, str]) -> Rule:
    code = item["code"]
    if item["level"] not in LEVELS:
        raise ValueError(f"{code}: level must be one of {', '.join(LEVELS)}")
    unknown = [key for key in item["steps"] if key not in steps]
    if unknown:
        raise ValueError(f"{code}: unknown steps {unknown}")
    when = item.get("when", "")
    if when not in ("", "night") or bool(when) == bool(item["patterns"]):
        raise ValueError(f"{code}: needs either patterns or `when: night`")
    return Rule(
        code=code,
        level=item["level"],
        title=item["title"].strip(),
        message=item["message"].strip(),
        patterns=tuple(re.compile(p) for p in item["patterns"]),
        exceptions=tuple(re.compile(p) for p in item.get("except") or ()),
        # Several facts often come from one document: each document once.
        sources=tuple(dict.fromkeys(source["title"].strip() for source in item["sources"])),
        article=item["article"],
        steps=tuple(item["steps"]),
        when=when,
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


def sentences(text: str) -> list[tuple[str, str]]:
    """(the sentence as written, the form the patterns read) for each sentence."""
    found = []
    for part in _SENTENCE_END.split(text):
        written = part.strip()
        if written:
            found.append(
                (written, _SPACE.sub("", simplified(unicodedata.normalize("NFKC", written))))
            )
    return found


def is_night(moment: datetime.time) -> bool:
    return moment >= NIGHT_STARTS or moment < NIGHT_ENDS


def find(text: str, called_at: datetime.time | None = None) -> list[Signal]:
    """The signals in a message, violations first, each in the order it appears."""
    found: dict[str, Signal] = {}
    split = sentences(text)
    for rule in rules().rules:
        if rule.when == "night":
            if called_at is not None and is_night(called_at):
                found[rule.code] = Signal(rule, called_at.strftime("%H:%M"), -1)
            continue
        for position, (written, readable) in enumerate(split):
            if rule.matches(readable):
                found[rule.code] = Signal(rule, _quote(written), position)
                break
    return sorted(found.values(), key=lambda s: (LEVELS.index(s.rule.level), s.position))


def _quote(sentence: str) -> str:
    if len(sentence) <= MAX_QUOTE:
        return sentence
    return sentence[: MAX_QUOTE - 1] + "…"
