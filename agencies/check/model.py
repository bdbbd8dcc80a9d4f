"""A second reader of the message check's clauses: one logistic regression per
signal over the clause's characters, one to three at a time.

The rules (`signals.yaml`) say what they look for and why; this model only
notices the claims written in shapes no pattern foresaw. It is trained on the
tuning half of the evaluation set alone (`bench/train_check_model.py`, which
writes `model.json` next to this file) and it reads the same folded clauses
the rules read. It may add a signal, never remove one, and only:

- with a probability at or above the signal's threshold (chosen by
  cross-validation within the tuning half, so that what it adds there was
  right ≥ 95 % of the time);
- on a clause that the signal's own `except` patterns do not excuse
  (negations, advice: "你不用怕坐牢");
- in a message that no rule's `unless` marks as not addressed to the reader
  (news, advice columns, anti-fraud warnings).

Pure Python and a dictionary look-up per character n-gram: no numpy in the
web process.
"""

import base64
import hashlib
import json
import math
import sys
from array import array
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_FILE = Path(__file__).resolve().parent / "model.json"
_DIGITS = str.maketrans("123456789", "000000000")  # 15天 and 3天 read alike
START, END = "\x02", "\x03"  # where a clause begins and ends, as n-gram characters


def grams(text: str) -> set[str]:
    """The clause's characters, pairs and triples (with its two ends marked)."""
    plain = text.translate(_DIGITS)
    marked = START + plain + END
    found = set(plain)
    # Lists, not generators: a third faster, and this runs on every clause.
    found.update([marked[i : i + 2] for i in range(len(marked) - 1)])
    found.update([marked[i : i + 3] for i in range(len(marked) - 2)])
    return found


@dataclass(frozen=True)
class Model:
    codes: tuple[str, ...]  # the signals it reads, in the order of the weights
    bias: tuple[float, ...]
    cutoffs: tuple[float, ...]  # per signal: the log-odds it must reach (inf: never)
    # The weights, packed: an n-gram's row, and row r's (signal, weight) pairs
    # at starts[r]:starts[r + 1] of two flat arrays. As a dict of tuples of
    # Python floats the 30,000 n-grams took 34 MB in every worker; packed,
    # about 4 MB.
    rows: dict[str, int]
    starts: array
    signals: array
    weights: array

    def logits(self, text: str) -> list[float]:
        """Each signal's log-odds for one clause."""
        scores = list(self.bias)
        starts, signals, weights = self.starts, self.signals, self.weights
        for row in map(self.rows.get, grams(text)):
            if row is None:
                continue
            for at in range(starts[row], starts[row + 1]):
                scores[signals[at]] += weights[at]
        return scores

    def raised(self, text: str) -> list[tuple[str, float]]:
        """(code, probability) of each signal this clause reaches the threshold of."""
        return [
            (code, 1 / (1 + math.exp(-score)))
            for code, score, cutoff in zip(self.codes, self.logits(text), self.cutoffs, strict=True)
            if score >= cutoff
        ]


def logit(probability: float) -> float:
    if probability >= 1:
        return math.inf
    return math.log(probability / (1 - probability))


def from_data(data: dict) -> Model:
    """The model from the trainer's form: {"weights": {n-gram: [[signal, weight], …]}, …}."""
    return unpack(pack(data))


def pack(data: dict) -> dict:
    """What model.json holds: the trainer's form with the weights as three flat
    arrays (little-endian, base64) beside the list of n-grams.

    Read as nested lists, the file left ~25 MB of freed-but-held memory in
    every worker (a million small objects parsed, interleaved with the
    n-grams kept); three strings leave none.
    """
    grams, starts, signals, weights = [], array("I", [0]), array("B"), array("d")
    for gram, pairs in sorted(data["weights"].items()):
        grams.append(gram)
        for index, weight in pairs:
            signals.append(int(index))
            weights.append(float(weight))
        starts.append(len(signals))
    packed = {key: value for key, value in data.items() if key != "weights"}
    packed["grams"] = grams
    for key, values in (("starts", starts), ("signal_of", signals), ("weights", weights)):
        packed[key] = base64.b64encode(_little_endian(values).tobytes()).decode("ascii")
    return packed


def unpack(stored: dict) -> Model:
    codes = tuple(stored["signals"])
    arrays = {}
    for key, kind in (("starts", "I"), ("signal_of", "B"), ("weights", "d")):
        values = array(kind)
        values.frombytes(base64.b64decode(stored[key]))
        arrays[key] = _little_endian(values)
    return Model(
        codes=codes,
        bias=tuple(float(b) for b in stored["bias"]),
        cutoffs=tuple(logit(float(stored["thresholds"][code])) for code in codes),
        rows={gram: row for row, gram in enumerate(stored["grams"])},
        starts=arrays["starts"],
        signals=arrays["signal_of"],
        weights=arrays["weights"],
    )


def _little_endian(values: array) -> array:
    # The file is the same on every machine; array() reads and writes the host's order.
    if sys.byteorder == "big":
        values.byteswap()
    return values


def trained_on() -> dict[str, str]:
    """What `trained_on` in model.json holds: the SHA-256 of the messages it
    learns from and of the rules whose hits label them and whose `except` and
    `unless` patterns choose its thresholds. A change to either: train again."""
    # Here, not at the top: signals imports this module.
    from .evaluation import DATA
    from .signals import RULES_FILE

    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (DATA / "tuning.yaml", RULES_FILE)
    }


@cache
def model() -> Model | None:
    """model.json, loaded once per process; None when there is no model file."""
    if not MODEL_FILE.exists():
        return None
    return unpack(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
