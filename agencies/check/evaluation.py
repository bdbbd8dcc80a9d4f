"""How well the message check reads messages it was not written for.

The evaluation set (tests/data/check/, see its README) labels each message
with the signals it must raise, the phone numbers and credit codes in it and
the agencies it leads to. `score()` compares one reading per message with
those labels and counts, per signal and overall:

- a signal raised and labelled: true positive; raised, not labelled and not
  in `maybe`: false positive; labelled, not raised: false negative;
- for numbers, credit codes and agencies the same, item by item;
- a violation- or warning-level signal on a message labelled clean, which is
  what a reader must never be told about an ordinary message.

`make eval-check` (bench/eval_check.py) prints these figures for both halves;
tests/test_check_eval.py holds the held-out half to the targets.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import phones as phones_lib
from . import signals as signals_lib

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "check"
# tuning: the rules may be tuned on it; heldout: split off before any rule
# changed, judged only; fresh: written afterwards by someone who had seen
# neither the rules nor the other messages, judged only; unseen: 240 more,
# written the same way after the fifth tuning round and read once, judged only.
HALVES = ("tuning", "heldout", "fresh", "unseen")
ALARMING = ("violation", "warning")


def load(half: str) -> list[dict]:
    return yaml.safe_load((DATA / f"{half}.yaml").read_text(encoding="utf-8"))


def phone_key(written: str) -> str:
    number = phones_lib.normalize(written)
    return number.key if number else f"?{written}"


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: set, found: set, tolerated: set = frozenset()) -> None:
        self.tp += len(expected & found)
        self.fp += len(found - expected - tolerated)
        self.fn += len(expected - found)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Miss:
    id: str
    text: str
    missed: list[str]
    extra: list[str]


@dataclass
class Score:
    messages: int = 0
    clean: int = 0
    per_signal: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    phones: Tally = field(default_factory=Tally)
    codes: Tally = field(default_factory=Tally)
    agencies: Tally = field(default_factory=Tally)
    alarms_on_clean: list[str] = field(default_factory=list)  # ids
    violations_on_clean: list[str] = field(default_factory=list)  # ids
    misses: list[Miss] = field(default_factory=list)

    @property
    def messages_right(self) -> int:
        return self.messages - len(self.misses)


def levels() -> dict[str, str]:
    return {rule.code: rule.level for rule in signals_lib.rules().rules}


def score(messages: list[dict], read) -> Score:
    """`read(text)` is agencies.check.reading.read (or anything returning a Reading)."""
    level_of = levels()
    result = Score(per_signal={code: Tally() for code in level_of if code != "night_contact"})
    for message in messages:
        reading = read(message["text"])
        expected = set(message.get("signals") or ())
        tolerated = set(message.get("maybe") or ())
        found = {signal.rule.code for signal in reading.signals}
        result.messages += 1
        result.overall.add(expected, found, tolerated)
        for code, tally in result.per_signal.items():
            tally.add(expected & {code}, found & {code}, tolerated & {code})
        is_clean = not any(level_of.get(code) in ALARMING for code in expected)
        if is_clean:
            result.clean += 1
            alarms = {code for code in found - tolerated if level_of[code] in ALARMING}
            if alarms:
                result.alarms_on_clean.append(message["id"])
            if any(level_of[code] == "violation" for code in alarms):
                result.violations_on_clean.append(message["id"])

        wanted_phones = {phone_key(p) for p in message.get("phones") or ()}
        found_phones = {found.number.key for found in reading.phones}
        result.phones.add(wanted_phones, found_phones)
        result.codes.add(
            {c.upper() for c in message.get("codes") or ()},
            {code.code for code in reading.credit_codes},
        )
        wanted_agencies = set(message.get("agencies") or ())
        found_agencies = {found.agency.uscc for found in reading.agencies}
        result.agencies.add(wanted_agencies, found_agencies)
        missed = sorted(expected - found)
        extra = sorted(found - expected - tolerated)
        phones_wrong = wanted_phones ^ found_phones
        agencies_wrong = wanted_agencies ^ found_agencies
        if missed or extra or phones_wrong or agencies_wrong:
            detail = [f"numbers {sorted(phones_wrong)}"] if phones_wrong else []
            detail += [f"agencies {sorted(agencies_wrong)}"] if agencies_wrong else []
            result.misses.append(Miss(message["id"], message["text"], missed, extra + detail))
    return result


def report(name: str, result: Score, show_misses: int = 1000) -> str:
    lines = [
        f"== {name}: {result.messages} messages ({result.clean} clean), "
        f"{result.messages_right} read entirely right",
        f"{'signal':<22}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>9}",
    ]
    for code, tally in [*result.per_signal.items(), ("ALL SIGNALS", result.overall)]:
        lines.append(
            f"{code:<22}{tally.tp:>5}{tally.fp:>5}{tally.fn:>5}"
            f"{tally.precision:>11.1%}{tally.recall:>9.1%}"
        )
    for label, tally in (
        ("phone numbers", result.phones),
        ("credit codes", result.codes),
        ("agencies", result.agencies),
    ):
        lines.append(
            f"{label:<22}{tally.tp:>5}{tally.fp:>5}{tally.fn:>5}"
            f"{tally.precision:>11.1%}{tally.recall:>9.1%}"
        )
    lines.append(
        f"clean messages with a violation: {len(result.violations_on_clean)}"
        f" {result.violations_on_clean}; with a violation or warning:"
        f" {len(result.alarms_on_clean)} {result.alarms_on_clean}"
    )
    for miss in result.misses[:show_misses]:
        text = miss.text.replace("\n", " ⏎ ")
        lines.append(
            f"  {miss.id}: missed {miss.missed} extra {miss.extra} :: "
            f"{text[:150]}{'…' if len(text) > 150 else ''}"
        )
    return "\n".join(lines)


def signal_counts(messages: list[dict]) -> Counter:
    return Counter(code for message in messages for code in message.get("signals") or ())
