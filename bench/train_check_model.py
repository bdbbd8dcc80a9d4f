#!/usr/bin/env python
"""Train the message check's clause model (agencies/check/model.py) on the
tuning half of the evaluation set, and nothing else.

    python bench/train_check_model.py            # cross-validate, then write model.json
    python bench/train_check_model.py --cv-only  # the cross-validation figures alone

Each clause of a tuning message is an example for each signal:

- a message not labelled with the signal (nor `maybe`): every clause is a
  negative;
- a message labelled with it: the clauses a rule raised it on are positives;
  its other clauses are negatives (hard ones: the same register, the claim
  not in them); where no rule raised it (a claim the rules miss), the clause
  the first model scores highest is taken as the positive (one round of
  multiple-instance learning), the model is trained again, and the other
  clauses are left out.

Logistic regression by stochastic gradient descent, in plain Python (it is
small: a few minutes on one core), over the character n-grams seen in two
clauses or more; seeded, so the same tuning.yaml gives the same model.json.

The threshold is chosen by 5-fold cross-validation within the tuning half:
the lowest probability (of GRID, going down) at which the signals the model
adds to what the rules found, on the folds it was not trained on, are still
right ≥ 95 % of the time and never alarm a clean message. One threshold for
every signal: the model adds only a handful of signals per fold, too few to
choose one per signal without fitting the noise.
"""

import argparse
import json
import math
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261207
FOLDS = 5
EPOCHS = 8
RATE = 0.2
L2 = 1e-5
MIN_COUNT = 2  # an n-gram seen in fewer training clauses is left out
KEEP = 0.02  # weights smaller than this are not written
GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995)
TARGET_PRECISION = 0.95


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def read_messages(messages: list[dict]) -> list[dict]:
    """Each message as the rules read it: its clauses, which rule hit which
    clause, and whether the message is marked as not addressed to the reader."""
    from agencies.check import signals

    every_unless = signals.rules().every_unless
    out = []
    for message in messages:
        text = message["text"]
        folded = signals.fold(text)
        parts, _ = signals.clauses(folded)
        found = {s.rule.code: s.matches for s in signals.find(text, learned=False)}
        clauses = []
        for clause in parts:
            start, end = folded.span(clause.start, clause.start + len(clause.text))
            hit = {
                code
                for code, spans in found.items()
                if any(a < end and b > start for a, b in spans)
            }
            clauses.append((clause.text, hit))
        out.append(
            {
                "id": message["id"],
                "labels": set(message.get("signals") or ()),
                "maybe": set(message.get("maybe") or ()),
                "rules": set(found),
                "clauses": clauses,
                "unless": any(p.search(folded.text) for p in every_unless),
            }
        )
    return out


def sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1 / (1 + math.exp(-z))


class Trainer:
    def __init__(self, codes: list[str], messages: list[dict]):
        from agencies.check import model

        self.codes = codes
        self.grams = [[model.grams(text) for text, _ in m["clauses"]] for m in messages]
        counts: dict[str, int] = {}
        for clause_grams in self.grams:
            for found in clause_grams:
                for gram in found:
                    counts[gram] = counts.get(gram, 0) + 1
        vocabulary = sorted(g for g, n in counts.items() if n >= MIN_COUNT)
        self.vocabulary = vocabulary
        index = {g: i for i, g in enumerate(vocabulary)}
        self.ids = [
            [sorted(index[g] for g in found if g in index) for found in clause_grams]
            for clause_grams in self.grams
        ]
        self.messages = messages

    def examples(self, chosen: dict | None = None) -> list[tuple[list[int], dict[int, int]]]:
        """(feature ids, {signal index: 0 or 1}) per clause; `chosen` maps
        (message number, signal index) to the clause taken as the positive
        where no rule hit."""
        out = []
        for m_at, message in enumerate(self.messages):
            for c_at, (_, hit) in enumerate(message["clauses"]):
                labels = {}
                for k, code in enumerate(self.codes):
                    if code in message["maybe"]:
                        continue
                    if code not in message["labels"]:
                        labels[k] = 0
                    elif code in hit or (chosen and chosen.get((m_at, k)) == c_at):
                        labels[k] = 1
                    elif code in message["rules"]:
                        labels[k] = 0  # the rules placed the claim elsewhere
                if labels:
                    out.append((self.ids[m_at][c_at], labels))
        return out

    def fit(self, examples) -> tuple[list[list[float]], list[float]]:
        n = len(self.codes)
        weights = [[0.0] * n for _ in self.vocabulary]
        bias = [0.0] * n
        order = list(range(len(examples)))
        shuffle = random.Random(SEED)
        for epoch in range(EPOCHS):
            shuffle.shuffle(order)
            rate = RATE / (1 + 0.5 * epoch)
            for at in order:
                ids, labels = examples[at]
                rows = [weights[i] for i in ids]
                for k, y in labels.items():
                    z = bias[k]
                    for row in rows:
                        z += row[k]
                    g = sigmoid(z) - y
                    if -1e-4 < g < 1e-4:
                        continue
                    step = rate * g
                    bias[k] -= step
                    for row in rows:
                        row[k] -= step + rate * L2 * row[k]
        return weights, bias

    def train(self):
        weights, bias = self.fit(self.examples())
        # Multiple-instance round: where the message holds the signal and no
        # rule found it, the clause scored highest stands for it.
        from agencies.check import signals

        rules = signals.rules().by_code
        chosen = {}
        for m_at, message in enumerate(self.messages):
            for k, code in enumerate(self.codes):
                if code not in message["labels"] or code in message["rules"]:
                    continue
                best, best_at = -math.inf, None
                for c_at, (text, _) in enumerate(message["clauses"]):
                    if rules[code].excused(text):
                        continue
                    z = bias[k] + sum(weights[i][k] for i in self.ids[m_at][c_at])
                    if z > best:
                        best, best_at = z, c_at
                if best_at is not None:
                    chosen[(m_at, k)] = best_at
        weights, bias = self.fit(self.examples(chosen))
        return self.as_data(weights, bias)

    def as_data(self, weights, bias) -> dict:
        kept = {}
        for gram, row in zip(self.vocabulary, weights, strict=True):
            pairs = [[k, round(w, 3)] for k, w in enumerate(row) if abs(w) >= KEEP]
            if pairs:
                kept[gram] = pairs
        return {
            "signals": self.codes,
            "bias": [round(b, 4) for b in bias],
            "thresholds": {code: 1.0 for code in self.codes},
            "weights": kept,
        }


def best_clause_scores(data: dict, messages: list[dict]) -> list[dict[str, float]]:
    """Per message, per signal: the highest probability over the clauses the
    signal's `except` patterns do not excuse (0 in a message marked by `unless`)."""
    from agencies.check import model, signals

    rules = signals.rules().by_code
    read = model.from_data(data)
    out = []
    for message in messages:
        best = dict.fromkeys(read.codes, 0.0)
        if not message["unless"]:
            for text, _ in message["clauses"]:
                for code, z in zip(read.codes, read.logits(text), strict=True):
                    p = sigmoid(z)
                    if p > best[code] and not rules[code].excused(text):
                        best[code] = p
        out.append(best)
    return out


def added(codes, messages, scores, threshold_of, levels) -> dict[str, list[int]]:
    """Per signal: [right, wrong, on a clean message] among the signals the model
    adds to the rules' at the given thresholds."""
    tally = {code: [0, 0, 0] for code in codes}
    for message, best in zip(messages, scores, strict=True):
        clean = not any(levels[c] in ("violation", "warning") for c in message["labels"])
        for code in codes:
            if code in message["rules"] or best[code] < threshold_of(code):
                continue
            if code in message["labels"]:
                tally[code][0] += 1
            elif code not in message["maybe"]:
                tally[code][1] += 1
                if clean and levels[code] in ("violation", "warning"):
                    tally[code][2] += 1
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv-only", action="store_true")
    args = parser.parse_args()
    setup()
    from agencies.check import evaluation, model

    levels = evaluation.levels()
    codes = [code for code in levels if code != "night_contact"]
    messages = read_messages(evaluation.load("tuning"))
    order = list(range(len(messages)))
    random.Random(SEED).shuffle(order)
    fold_of = {m: at % FOLDS for at, m in enumerate(order)}
    scores: list = [None] * len(messages)
    for fold in range(FOLDS):
        train = [m for i, m in enumerate(messages) if fold_of[i] != fold]
        test = [i for i in range(len(messages)) if fold_of[i] == fold]
        data = Trainer(codes, train).train()
        for i, best in zip(
            test, best_clause_scores(data, [messages[i] for i in test]), strict=True
        ):
            scores[i] = best
        print(f"fold {fold + 1}/{FOLDS} done", file=sys.stderr)

    print(f"{'threshold':<10}{'right':>6}{'wrong':>6}{'clean':>6}  (signals added to the rules')")
    threshold = 1.0
    for theta in reversed(GRID):
        right, wrong, clean = (
            sum(t[i] for t in added(codes, messages, scores, lambda c, t=theta: t, levels).values())
            for i in range(3)
        )
        print(f"{theta:<10}{right:>6}{wrong:>6}{clean:>6}")
        if clean or (right + wrong and right / (right + wrong) < TARGET_PRECISION):
            break  # a lower threshold only adds to what already failed here
        if right:
            threshold = theta
    missed = sum(len(m["labels"] - m["rules"] - {"night_contact"}) for m in messages)
    print(f"chosen: {threshold} (the rules miss {missed} signals in the tuning half)")
    if args.cv_only:
        return 0
    data = Trainer(codes, messages).train()
    data["thresholds"] = dict.fromkeys(codes, threshold)
    data["trained_on"] = model.trained_on()
    text = json.dumps(model.pack(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    model.MODEL_FILE.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {model.MODEL_FILE.relative_to(ROOT)}: {len(data['weights'])} n-grams")
    return 0


if __name__ == "__main__":
    sys.exit(main())
