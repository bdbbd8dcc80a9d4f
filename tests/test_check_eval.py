"""The message check on messages it was not tuned on (tests/data/check/).

The issue's targets — held-out recall and precision 95 %, no violation on a
clean message, phone-number precision 100 % — are not met yet
(docs/benchmarks.md has the figures). These tests hold the floor reached,
so that a rule change that loses ground on the held-out half or the fresh set
fails here, on both databases; raise the floors as the figures rise.
"""

import pytest
from django.core.management import call_command

from agencies.check import evaluation, reading

pytestmark = pytest.mark.django_db

# Reached on 2026-12-07, after the seventh tuning round (held-out 92.8 % / 88.7 %,
# fresh 90.0 % / 79.2 %, unseen 88.5 % / 78.5 %). The sixth round traded a little
# precision on the judged sets for recall (fresh: 5 more claims found, 1 more
# false one; unseen: 4 more, 2 more false), so the precision floors of fresh and
# unseen went down a point then; the F1 floor holds the balance: a change may
# not buy one at the other's cost.
FLOORS = {
    "heldout": {"precision": 0.92, "recall": 0.88, "f1": 0.90, "violations_on_clean": 1},
    "fresh": {"precision": 0.89, "recall": 0.79, "f1": 0.84, "violations_on_clean": 2},
    # Written after the fifth tuning round, read once by its rules (89.2 % / 76.6 %).
    "unseen": {"precision": 0.88, "recall": 0.78, "f1": 0.83, "violations_on_clean": 4},
}


@pytest.fixture
def directory():
    call_command("import_agencies", str(evaluation.DATA / "directory.jsonl"), verbosity=0)


@pytest.mark.parametrize("half", sorted(FLOORS))
def test_signals_on_messages_the_rules_were_not_tuned_on(directory, half):
    result = evaluation.score(evaluation.load(half), reading.read)
    floor = FLOORS[half]
    report = evaluation.report(half, result, show_misses=0)
    assert result.overall.precision >= floor["precision"], report
    assert result.overall.recall >= floor["recall"], report
    precision, recall = result.overall.precision, result.overall.recall
    assert 2 * precision * recall / (precision + recall) >= floor["f1"], report
    assert len(result.violations_on_clean) <= floor["violations_on_clean"], report


def test_no_number_is_made_up_on_the_held_out_half(directory):
    """Every number the check reads out of a held-out message is one the
    message holds: no case number, contract number or amount is read as a
    phone number."""
    result = evaluation.score(evaluation.load("heldout"), reading.read)
    assert result.phones.precision == 1.0, evaluation.report("heldout", result)


def test_the_sets_are_what_the_readme_says():
    tuning, heldout = evaluation.load("tuning"), evaluation.load("heldout")
    ids = [m["id"] for half in evaluation.HALVES for m in evaluation.load(half)]
    assert len(ids) == len(set(ids))
    assert len(heldout) >= 250
    assert len(tuning) + len(heldout) >= 400
    clean = [
        m
        for m in tuning + heldout
        if not set(m.get("signals") or ()) - {"home_visit", "lawsuit_notice", "debt_sold"}
    ]
    assert len(clean) >= 150
