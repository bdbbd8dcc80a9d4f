"""The message check's rules (agencies/check/signals.yaml, signals.fold) on
shapes of language met in the tuning rounds, each in wording of our own:
what a collector says must raise its signal, what a reader, a bank or an
advice column says must not.

Trade names the check finds by the words around them (agencies/check/tradenames.py)
are at the end, against the evaluation directory.
"""

from pathlib import Path

import pytest
from django.core.management import call_command

from agencies.check import reading, signals

DIRECTORY = Path(__file__).parent / "data" / "check" / "directory.jsonl"


def codes(text: str) -> set[str]:
    return {signal.rule.code for signal in signals.find(text)}


# --- Raised ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Characters put between a word's characters to slip past filters.
        ("明天派人上*门，当面跟你谈。", "home_visit"),
        ("再拖下去就爆-通-讯-录，一个不落。", "third_party_contact"),
        # A line wrapped inside a sentence (a letter or SMS at a fixed width).
        (
            "您的欠款已逾期多日，我司将依约联系您的紧\n急联系人核实您的还款意愿。",
            "third_party_contact",
        ),
        # Going to a village committee or workplace "to find out about you".
        ("下礼拜我们去你们村委会“了解情况”。", "third_party_contact"),
        ("本周将有专员前往您工作单位调查取证。", "third_party_contact"),
        # Relatives will know, were sent the bill, already agreed to pay.
        ("你再这么拖，你爸妈迟早都会知道。", "third_party_contact"),
        ("我们已经把借款明细寄给她了，你们夫妻俩商量吧。", "third_party_contact"),
        ("你舅舅已经答应替你还一部分了。", "third_party_contact"),
        # Asking people to press the reader; tagging the employer online.
        ("麻烦各位帮忙督促他尽快还钱。", "third_party_contact"),
        ("我们会在微博上@你们公司的官方账号。", "third_party_contact"),
        ("内容已经发到你的大学同学群了。", "third_party_contact"),
        ("我们主管已经接到三次电话了，都是催我还网贷的。", "third_party_contact"),
        # Shanghainese, Henan and Hokkien words for you, parents and home.
        ("侬再勿还钞票，阿拉就寻侬爷娘。", "third_party_contact"),
        ("恁再不还钱，俺明天就去恁庄上。", "home_visit"),
        ("汝欠的钱拢无还，阮后日去汝厝。", "home_visit"),
        ("你家楼下见，不还钱就别想走。", "home_visit"),
        # Going to a relative's workplace: the relative's job is at stake.
        ("你妹在医院上班吧？这事传到她们医院去，她还想不想干了？", "family_liability"),
        ("恳请令尊代为偿还令郎所欠款项。", "family_liability"),
        ("逾期不处理，可能影响阁下子女升学。", "family_liability"),
        # Curses and threats.
        ("欠钱不还，全家等着火葬场见吧。", "abuse"),
        ("欠了钱躲着不出来，还活着干什么。", "abuse"),
        ("再不还钱，我们会给你好看！", "abuse"),
        ("你个杂鳖，电话也不接。", "abuse"),
        ("You are trash，欠钱不还。", "abuse"),
        # Posting the debt: notices, flyers, the whole village, an invitation to a group.
        ("欠款人李某拒不归还借款，现予以公示，望知情者转告。", "public_shaming"),
        ("催 款 公 告", "public_shaming"),
        ("你欠钱的传单已经印好了。", "public_shaming"),
        ("再不还，叫全庄的人都知道你。", "public_shaming"),
        ("你欠的钱不还，我让十里八乡都晓得。", "public_shaming"),
        ("下午你们单位群里都会知道你欠钱的事。", "public_shaming"),
        ("客服 邀请 王某、刘某 加入了群聊\n王某借款逾期两个月了。", "public_shaming"),
        ("你不还钱，明天就发抖音。", "public_shaming"),
        ("顺便让他们都晓得你是么子人。", "public_shaming"),
        # Arrest: detention ordered "by law", a complaint of fraud, in English.
        ("逾期未缴将依法司法拘留。", "threat_arrest"),
        ("明天我就去派出所报案，告你诈骗。", "threat_arrest"),
        ("你这样要遭抓起来的。", "threat_arrest"),
        ("届时您将面临刑事追责。", "threat_arrest"),
        ("A criminal record 会跟你一辈子。", "threat_arrest"),
        # Official-looking senders: a letterhead line, a regulator's hotline.
        ("某某调解中心\n您的案件已受理，请今天联系调解员。", "impersonation"),
        ("【某市金融纠纷调处中心】您的案件将移送法院。", "impersonation"),
        ("您好，这里是金融消费者投诉热线，请开启屏幕共享。", "impersonation"),
        ("中国银保监会通知：请添加专员微信核实身份。", "impersonation"),
        # Paying a person.
        ("你直接发微信红包给我，两百一个。", "pay_personal_account"),
        ("钱转给我个人就行，给你打折。", "pay_personal_account"),
        ("请缴纳登记费至经办人微信。", "pay_personal_account"),
        ("把钱转到我同事李某某的农业银行账户。", "pay_personal_account"),
        ("Please transfer to my personal Alipay account.", "pay_personal_account"),
        # The debt bought, moved to another body.
        ("这些欠款早就被我们公司买下来了。", "debt_sold"),
        ("您的债务已划转至某某资产处置中心。", "debt_sold"),
        # Scams and paid credit repair.
        ("需将本金转入清算专户核验。", "scam"),
        ("Please download the app and share your screen.", "scam"),
        ("您的逾期记录可申请修复，需缴纳工本费99元。", "debt_relief_fee"),
    ],
)
def test_raised(text, code):
    assert code in codes(text)


# --- Not raised -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Someone's own worry, not a claim.
        ("我表姐很担心她儿子以后升学受影响，有人知道吗？", "family_liability"),
        # A caller asking after the family; advice to ask a parent.
        ("客服还问我家里有没有人生病，态度挺好。", "third_party_contact"),
        ("不懂的先问你姐姐，陌生电话别理。", "third_party_contact"),
        # A collector promising to deal with the reader alone.
        ("我们只找您本人协商，您担心我们联系您领导，这个不会的。", "third_party_contact"),
        # 找人代办 is help, not thugs; a reader asking about credit repair.
        ("听说要找人代办才能办下来。", "abuse"),
        ("请教一下，信用修复真的要交钱找人代办吗？真的假的？", "debt_relief_fee"),
        # Advice against scams and paid agents (Cantonese too).
        ("记住，谁要是让你把钱转进安全账户，马上挂断。", "scam"),
        ("提醒：有不法分子冒充客服，要求借款人向个人账户还款。", "pay_personal_account"),
        ("唔好信嗰啲話幫你洗白徵信嘅人，全部都係呃人。", "debt_relief_fee"),
        # What the new rules must leave alone.
        ("群里都知道你要结婚了，恭喜！", "public_shaming"),
        ("我们不会告你诈骗，请放心。", "threat_arrest"),
        ("想要资料的评论区扣1，私信发你。", "public_shaming"),
    ],
)
def test_not_raised(text, code):
    assert code not in codes(text)


def test_a_heading_is_not_joined_to_the_next_line():
    folded = signals.fold("国家金融监督管理总局消费者权益保护局\n关于您投诉事项的回执").text
    assert "\n" in folded


def test_a_chat_line_is_not_joined_to_the_next_speaker():
    folded = signals.fold("王某某：我们昨天谈过了，那就先这样吧\n客服：好的").text
    assert "\n" in folded


def test_a_wrapped_line_is_joined_and_keeps_its_places():
    text = "您的欠款已逾期多日，我司将依约联系您的紧\n急联系人"
    folded = signals.fold(text)
    assert "紧急联系人" in folded.text
    start = folded.text.index("紧急")
    assert folded.span(start, start + 2) == (text.index("紧"), text.index("急") + 1)


# --- Trade names ----------------------------------------------------------------------


@pytest.fixture
def directory(db):
    call_command("import_agencies", str(DIRECTORY), verbosity=0)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("这笔账已由渝信达接手，请勿向原平台还款。", "重庆渝信达商务信息咨询有限公司"),
        ("我是渝信达的协商顾问。", "重庆渝信达商务信息咨询有限公司"),
        ("閣下賬款已移交浦匯商務處理。", "上海浦汇商务咨询有限公司"),
        ("你的欠款已划给蓉信名下。", "成都蓉信企业管理咨询有限公司"),
        ("你好，我是秦润的小刘。", "西安秦润信息科技有限公司"),
        ("这笔钱现在由北京中和信达接手。", "北京中和信达资产管理有限公司"),
    ],
)
def test_a_trade_name_by_the_words_around_it(directory, text, name):
    assert [found.agency.name for found in reading.read(text).agencies] == [name]


@pytest.mark.parametrize(
    "text",
    [
        "我们正和平台协商分期。",  # 正和 is an everyday word
        "他的小孩在读书。",
    ],
)
def test_the_new_words_around_a_trade_name_name_no_one_by_themselves(directory, text):
    assert reading.read(text).agencies == []
