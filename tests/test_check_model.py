"""The message check's clause model (agencies/check/model.py, model.json): what
it adds to the rules, where it must stay quiet, and that the committed model is
the one trained on the tuning half as it stands. Messages in our own wording.
"""

import json

import pytest

from agencies.check import model, signals

# No pattern of signals.yaml reads this (a contact's label, "the number saved
# as 老公", then "we got through"); the model does, from the tuning half's
# messages about contact lists.
MISSED_BY_RULES = "你躲着不接也没用，通讯录里备注老公的那个号码我们已经打通了。"
CLAIM = "通讯录里备注老公的那个号码我们已经打通了"


def test_a_claim_the_rules_miss_is_raised_by_the_model_with_its_clause_marked():
    assert signals.find(MISSED_BY_RULES, learned=False) == []
    (signal,) = signals.find(MISSED_BY_RULES)
    assert signal.rule.code == "third_party_contact" and signal.learned
    assert [MISSED_BY_RULES[start:end] for start, end in signal.matches] == [CLAIM]
    assert signal.quote_parts == [("你躲着不接也没用，", False), (CLAIM, True)]


@pytest.mark.django_db
def test_the_api_gives_the_model_s_signal_as_it_gives_a_rule_s(client):
    answer = client.post(
        "/api/v1/check", {"text": MISSED_BY_RULES}, content_type="application/json"
    ).json()
    (signal,) = answer["signals"]
    assert signal["code"] == "third_party_contact" and signal["level"] == "violation"
    assert [MISSED_BY_RULES[m["start"] : m["end"]] for m in signal["match"]] == [CLAIM]
    page = client.post("/check/", {"text": MISSED_BY_RULES}).content.decode()
    assert f"<mark>{CLAIM}</mark>" in page


@pytest.mark.parametrize(
    "text",
    [
        "【某银行】尊敬的客户，您尾号0000的信用卡本期账单已出，最低还款额500元，"
        "请于本月25日前还款，如已还款请忽略。",
        "您好，我是某消费金融的客服，您的分期本月10号到期，可以在APP里还款，有问题随时联系我们。",
        "明天记得把上个月借你的500块还我哈，不急",
    ],
)
def test_a_reminder_that_follows_the_rules_stays_clean(text):
    assert signals.find(text) == []


def test_a_warning_that_quotes_the_claim_stays_clean():
    """The model reads the quoted claim, but an anti-fraud warning is marked by
    the rules' `unless`: the model adds nothing to it."""
    text = f"反诈提醒：骗子常说“{CLAIM}”，别信。"
    assert any(code == "third_party_contact" for code, _ in model.model().raised(CLAIM))
    assert signals.find(text) == []


def test_the_model_reads_every_textual_signal_and_was_trained_on_the_data_as_it_is():
    """When tuning.yaml or signals.yaml changes, run `make check-model` (it
    writes model.json): the rules' hits label the examples."""
    read = model.model()
    textual = [rule.code for rule in signals.rules().rules if not rule.when]
    assert list(read.codes) == textual
    assert model.MODEL_FILE.stat().st_size < 2_000_000
    data = json.loads(model.MODEL_FILE.read_text(encoding="utf-8"))
    assert data["trained_on"] == model.trained_on()
    # One threshold for every signal, and a high one: the model only adds what it is sure of.
    assert len(set(data["thresholds"].values())) == 1
    assert 0.95 <= data["thresholds"]["threat_arrest"] <= 1
