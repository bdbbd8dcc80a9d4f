"""The message check, second version: each way the first one misread messages
(issue 20) — adjacency, negation scope, bare keywords, numbers that are not
numbers, official-looking impersonation, scams — with messages that the first
version got wrong, and where in the text each signal was raised.

The figures over the whole evaluation set are in tests/test_check_eval.py.
"""

import re

import pytest
from django.utils.html import escape

from agencies import phones
from agencies.check import signals


def raised(text: str) -> set[str]:
    return {signal.rule.code for signal in signals.find(text)}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # 把 before the object, words between the verb and its object
        ("把你的联系人一个个都打一遍，看你还要不要脸", "third_party_contact"),
        ("今天不处理的话，你的事就发到你们村的群里", "public_shaming"),
        ("让你单位都知道你借钱不还的事", "third_party_contact"),
        # family named by kinship
        ("下午就给你姐姐打电话", "third_party_contact"),
        ("你老公也得跟着还", "family_liability"),
        ("下午就給你姐姐打電話", "third_party_contact"),
        ("你老公也得跟著還", "family_liability"),
    ],
)
def test_a_claim_with_words_between_its_parts_is_read(text, code):
    assert code in raised(text)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # A negation or an exception in one clause does not excuse another.
        ("你可以报警试试，明天就来抓你", {"threat_arrest"}, set()),
        ("我们不会上门，但是会联系你的家人", {"third_party_contact"}, {"home_visit"}),
        # A negation with a word between it and what it negates.
        ("你不用怕坐牢，但是这个月必须还上", set(), {"threat_arrest"}),
        ("欠钱一般不会因此被抓去坐牢，请放心协商", set(), {"threat_arrest"}),
    ],
)
def test_a_negation_applies_to_its_own_clause(text, present, absent):
    found = raised(text)
    assert present <= found
    assert not (absent & found)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("2027年考公考编全程班报名中，政审材料一站式指导，回T退订", "family_liability"),
        ("如遇暴力催收，可向公安机关报案，公安机关会依法立案调查。", "threat_arrest"),
        ("外访记录：无", "home_visit"),
        ("材料请发到你们公司邮箱，谢谢", "home_visit"),
    ],
)
def test_a_bare_keyword_is_not_a_claim(text, absent):
    assert absent not in raised(text)


@pytest.mark.parametrize(
    "text",
    [
        "编号 TX-2025-338190，请于3日内处理",
        "合同号2025338190的借款已逾期",
        "订单号：13900001101",
        "工号 80231 为您服务",
    ],
)
def test_an_identifier_is_not_a_phone_number(text):
    assert phones.find_in_text(text) == []


def test_a_landline_needs_its_trunk_zero_or_country_code():
    assert [p.key for p in phones.find_in_text("请拨打 0731-00003333")] == ["073100003333"]
    assert [p.key for p in phones.find_in_text("请拨打 +86 731 0000 3333")] == ["073100003333"]
    assert phones.find_in_text("第2025338190期") == []
    assert phones.find_in_text("批次 7310000333") == []


def test_the_anti_fraud_line_is_not_read_as_the_sender():
    assert phones.find_in_text("有疑问请拨打96110咨询") == []


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        (
            "【岳阳市人民法院】你的案件已进入执行程序，请24小时内联系承办法官13900001101处理，"
            "逾期将冻结名下账户。",
            {"impersonation"},
            set(),
        ),
        (
            "【某某县公安局】你涉嫌一起洗钱案，请立即添加办案民警微信配合调查。",
            {"impersonation"},
            set(),
        ),
        (
            "【岳阳市岳阳楼区人民法院】（2025）湘0602民初1234号案件已立案，"
            "请登录人民法院在线服务查看诉讼材料，如有疑问请拨打12368。",
            {"lawsuit_notice"},
            {"impersonation", "scam", "pay_personal_account"},
        ),
    ],
)
def test_official_looking_texts(text, present, absent):
    found = raised(text)
    assert present <= found
    assert not (absent & found)


@pytest.mark.parametrize(
    "text",
    [
        "您好，我是某某金融客服，根据国家新规需要注销您的学生账户，否则会影响个人征信。",
        "为证明您的还款能力，请将资金转入我司安全账户进行验证，验证后原路退回。",
        "请下载视频会议App，输入会议号后开启屏幕共享，我来指导你操作。",
        "您的贷款已审批通过，因银行卡号填写错误资金被冻结，需缴纳解冻金2000元后才能放款。",
        "请把手机上刚收到的验证码告诉我，我帮你取消扣费。",
    ],
)
def test_scams_that_target_borrowers_are_flagged(text):
    found = {s.rule.code: s.rule.level for s in signals.find(text)}
    assert found.get("scam") == "warning"


@pytest.mark.parametrize(
    "text",
    [
        "【某某银行】验证码 482913，用于登录手机银行，切勿告诉他人。",
        "警方提示：凡是要求转账到安全账户的都是诈骗，如有疑问请拨打96110。",
        "您的借款将于3月5日到期，请通过官方App还款，客服电话95588。",
    ],
)
def test_warnings_and_ordinary_service_texts_are_not_scams(text):
    assert "scam" not in raised(text)


def test_each_signal_says_where_in_the_text_it_was_raised():
    text = "你好。你可以报警试试，明天就来zhua你！再不还就联系你姐姐"
    found = {signal.rule.code: signal for signal in signals.find(text)}
    arrest = found["threat_arrest"]
    assert [text[start:end] for start, end in arrest.matches] == ["zhua你"]
    assert arrest.quote == "你可以报警试试，明天就来zhua你"
    assert ("zhua你", True) in arrest.quote_parts
    contact = found["third_party_contact"]
    (span,) = contact.matches
    assert "姐姐" in text[span[0] : span[1]]


def test_a_long_sentence_is_quoted_around_what_raised_the_signal():
    text = "您好" * 200 + "再不还钱就让你坐牢" + "谢谢" * 100
    (signal,) = [s for s in signals.find(text) if s.rule.code == "threat_arrest"]
    assert len(signal.quote) <= signals.MAX_QUOTE
    assert "坐牢" in "".join(part for part, marked in signal.quote_parts if marked)
    assert signal.cut_before and signal.cut_after


@pytest.mark.django_db
def test_the_page_marks_the_words_and_the_api_gives_their_offsets(client):
    text = "明天就来抓你，你等着"
    page = client.post("/check/", {"text": text})
    assert "<mark>抓你</mark>" in page.content.decode()
    answer = client.post("/api/v1/check", {"text": text}, content_type="application/json").json()
    (signal,) = [s for s in answer["signals"] if s["code"] == "threat_arrest"]
    assert [text[m["start"] : m["end"]] for m in signal["match"]] == ["抓你"]


@pytest.mark.django_db
def test_rules_and_steps_are_in_english_on_english_pages(client):
    page = client.post("/en/check/", {"text": "明天就来抓你，你等着"}).content.decode()
    rule = next(r for r in signals.rules().rules if r.code == "threat_arrest")
    assert escape(rule.title_en) in page
    assert rule.title not in page
    assert escape(signals.rules().steps_en["evidence"]) in page


@pytest.mark.django_db
def test_rules_are_in_traditional_characters_on_traditional_pages(client):
    page = client.post("/zh-hant/check/", {"text": "明天就来抓你，你等着"}).content.decode()
    assert "以抓人、坐牢、立案相威脅" in page
    # What was pasted is quoted as it was written.
    assert "<mark>抓你</mark>" in page


def test_every_article_a_rule_states_is_in_its_sources():
    """A reader who follows a rule's sources finds each article its message names."""
    article = re.compile(r"第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?")
    for rule in signals.rules().rules:
        cited = "".join(rule.sources)
        missing = [number for number in article.findall(rule.message) if number not in cited]
        assert not missing, (rule.code, missing)


@pytest.mark.django_db
def test_a_sentence_that_raised_several_signals_is_quoted_once(client):
    text = "明天就去你单位找你们领导，还要让警察抓你"
    page = client.post("/check/", {"text": text}).content.decode()
    found = {s.rule.code for s in signals.find(text)}
    assert {"third_party_contact", "threat_arrest", "home_visit"} <= found
    assert page.count("<blockquote") == 1
    assert "<mark>抓你</mark>" in page and "<mark>去你单位找你们领导</mark>" in page
    # The explanation is there, folded.
    assert page.count('<details class="signal-detail">') == len(found)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # The third party named first, what "we" did to them after it.
        ("你公司的财务我们上周已经找过了", "third_party_contact"),
        # Several relatives in a row, then the visit.
        ("你舅舅、你姨那边我们下周挨个上门", "third_party_contact"),
        # One by one down the contact list.
        ("你通讯录里那些人，我们一个一个打过去", "third_party_contact"),
        # The relative in one clause, "her" in the next.
        ("你表姐在哪家医院上班我们清楚，今晚就给她打电话", "third_party_contact"),
        # A letter sent on to the workplace.
        ("您的欠款我司已寄函至您所在单位人事部门", "third_party_contact"),
        # Talking to someone else about the reader's affairs.
        ("我们刚跟他聊了聊你欠钱的事", "third_party_contact"),
        # Relatives told they owe it too.
        ("你哥欠的钱，当弟弟的也得扛着", "family_liability"),
        ("你妈得替你还", "family_liability"),
        ("政审的时候一查到家里有人欠钱，你妹就别想过了", "family_liability"),
        # The reader's papers posted where the neighbours pass.
        ("把你的欠条照片贴到你们小区电梯口", "public_shaming"),
        ("下周一群发至你手机通讯录全部联系人", "public_shaming"),
        ("马上发到你所在的所有微信群", "public_shaming"),
        # Veiled threats against the family.
        ("小心你家娃", "abuse"),
        ("你媳妇一般几点下班？", "abuse"),
        # A thousands comma does not cut the sentence in two.
        ("今天交2,500块到我微信，马上给你销账", "pay_personal_account"),
        # Cantonese and typing slips.
        ("唔還就揾你阿媽", "third_party_contact"),
        ("明天警擦就来抅留你", "threat_arrest"),
    ],
)
def test_more_ways_of_putting_a_claim(text, code):
    assert code in raised(text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("银手镯是外婆留下的", "threat_arrest"),
        ("楼下大爷把我乱扔垃圾的事贴到公告栏了", "public_shaming"),
        ("我们不会去你单位，也不会跟你同事说", "third_party_contact"),
        ("你千万别跟我姐说啊", "third_party_contact"),
        ("催收说要找你领导，能不能这么做？", "third_party_contact"),
        ("他们把我照片P成通缉令发到群里了", "threat_arrest"),
        ("请添加承办人私人微信提交材料", "pay_personal_account"),
        (
            "【某某县人民法院】诉讼费请按缴费通知书缴纳，本院不接受任何个人账户缴费。",
            "impersonation",
        ),
        ("有网友反映，催收扬言要报警抓他坐牢，律师表示这涉嫌违规", "threat_arrest"),
        ("你的账户因涉嫌异常交易被限制，请通过官方App核实", "threat_arrest"),
        ("我表弟上个月找我借了五千，要不要跟我姨说一声？", "third_party_contact"),
    ],
)
def test_look_alikes_that_are_not_the_claim(text, absent):
    assert absent not in raised(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # What a third party said back: they were reached.
        ("你舅舅说他根本不清楚你借了网贷", "third_party_contact"),
        ("你们车队长讲了，下班会转告你", "third_party_contact"),
        ("你也不想你同事知道这件事吧", "third_party_contact"),
        # The person first, what was done to them in the next clause.
        ("你那个开出租的堂哥，我们已经联系上了", "third_party_contact"),
        ("你小姨，微信我们加上了", "third_party_contact"),
        ("你岳母那头我们也聊过了", "third_party_contact"),
        ("你嫂子单位的座机我们查到了", "third_party_contact"),
        ("已经把你的事反映给你们小区物业了", "third_party_contact"),
        ("我们的人正在你外婆家坐着等", "third_party_contact"),
        ("你通讯录三百多人，每人一条，文案都准备好了", "third_party_contact"),
        ("你通讯录三百多人，每人一条，文案都准备好了", "public_shaming"),
        # Going to a place: 了 between the verb and the place, the place first.
        ("昨天下午我们去了你们二号车间", "home_visit"),
        ("你户籍地我们这个月会去一趟", "home_visit"),
        ("有人到厂里找你，说你欠钱", "home_visit"),
        ("你现在住哪我们清楚得很，周末见", "home_visit"),
        # Exposure announced with a time and a place.
        ("你的欠条已经做成海报了，明晚群里见", "public_shaming"),
        ("你们小区的业主群我已经进来了", "public_shaming"),
        # Intimidation without a curse word.
        ("下班路上多留个心眼", "abuse"),
        ("你家门牌号我们抄下来了", "abuse"),
        ("叫上几个兄弟去你店里坐坐", "abuse"),
        # Family named, then what "he" or "she" must do.
        ("你哥签过字，那他也得替你还", "family_liability"),
        ("你爱人在事业单位吧？影响她的晋升可别怪我们", "family_liability"),
        ("信息会通报给你儿子所在的学校", "family_liability"),
        # The debt taken over, put in other words.
        ("这笔账已经从银行那边接过来了", "debt_sold"),
        ("你的欠款已由我们受让", "debt_sold"),
        # A verification code not called by its name; a check account.
        ("把短信里那串6位数字读一下给我", "scam"),
        ("先往核验账户转一笔钱证明还款能力", "scam"),
        # A question, not a turn of the sentence: 要不要 does not cut the clause.
        ("你家门牌号要不要我念给你听", "abuse"),
    ],
)
def test_claims_made_indirectly(text, code):
    assert code in raised(text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        # Someone else's trouble, told by a friend.
        ("我同事被催收折腾得够呛，他们给他老婆单位打电话", "third_party_contact"),
        # A rule forbidding the words, not the words.
        ("培训要求：不准提家人，不许说“坐牢”", "threat_arrest"),
        ("培训要求：不准提家人，不许说“坐牢”", "third_party_contact"),
        # A joke with the reader's own mother.
        ("我妈说要去我单位找我领导请假😂", "third_party_contact"),
        # Advice that quotes the rule it relies on.
        (
            "催收说要找你村长？告诉他们：不得向与债务无关的第三人催收。",
            "third_party_contact",
        ),
        # A real police visit to warn about fraud.
        ("【某某派出所】民警明天上门开展反诈劝阻，请配合", "threat_arrest"),
        # A scammer's "frozen" loan is not a court freezing assets.
        ("您的借款因卡号填错被冻结，需缴纳解冻金", "lawsuit_notice"),
        # A lender saying it charges nothing for an instalment plan.
        ("平台可以申请停催分期，不收任何费用", "debt_relief_fee"),
        # "More than me" is not "we know".
        ("你女儿的学校你比我清楚", "abuse"),
        # A tradesman's visit.
        ("空调清洗，24小时上门", "home_visit"),
    ],
)
def test_more_look_alikes(text, absent):
    assert absent not in raised(text)


def test_asking_whether_it_is_a_scam_still_reads_the_pasted_scam():
    text = "这是不是诈骗？说我的学生贷账户要注销，不然影响征信"
    assert "scam" in raised(text)


# Sixth tuning round (issue 20): pinyin and English read as words, the disposal
# 将, emoji, the third party as the one who receives or passes on, negation
# through "不会因为……就". Sentences written for these tests.


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # A whole message in pinyin, with spaces and without
        ("hou tian zai bu huan qian, wo men jiu qu ni jia zhao ni ba ma", "third_party_contact"),
        ("hou tian zai bu huan qian, wo men jiu qu ni jia zhao ni ba ma", "home_visit"),
        ("nibuhuanqianjiudengzhezuolaoba", "threat_arrest"),
        # One syllable in a word of characters
        ("再拖下去就送你去吃牢fan", "threat_arrest"),
        # English words inside a Chinese message, and a number before them
        ("不还的话我们会 contact 你的 emergency contact", "third_party_contact"),
        ("审批已通过，请先支付 ¥199 activation fee 才能放款", "scam"),
        # Emoji standing for a word, with its variation selector
        ("你再装死，你老板的📱️明天就响一整天", "third_party_contact"),
        # Written 将 for 把
        ("我们已将你的家人全部拉进群了", "third_party_contact"),
        # The third party as the one who receives, or is asked to pass it on
        ("再拖一周，你姐夫厂里的车间主任马上就会知道", "third_party_contact"),
        ("刚才有人打电话让我转告我表弟赶紧还钱", "third_party_contact"),
        ("催收的说我是她的紧急联系人，还问我知不知道她住哪", "third_party_contact"),
        # A place of the relative's, not the reader's
        ("你欠的钱再不还，明天我们就去她单位唠唠", "home_visit"),
        # Passives: the third party as the agent, the relative's job as the patient
        ("你欠钱的事迟早被你们厂长知道", "third_party_contact"),
        ("你女儿的升学会被你拖累", "family_liability"),
    ],
)
def test_pinyin_english_and_reported_claims_are_read(text, code):
    assert code in raised(text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        # The negation reaches past 因为…就
        ("放心，警察不会因为你晚还几天就上门抓人", "threat_arrest"),
        ("放心，警察不会因为你晚还几天就上门抓人", "home_visit"),
        # Saying it is not a crime, not a threat
        ("欠网贷又不是犯法，谁能随便抓你", "threat_arrest"),
        # Someone who says they will expose a shop, not the reader
        ("这家奶茶店太坑了，我要去网上曝光他们", "public_shaming"),
        # A debt-optimisation firm the writer warns against
        ("那个“债务优化”公司千万别去，都是要收钱的", "debt_relief_fee"),
        # Everyday chat with the words of a reported claim, but no debt in it
        ("让你爸接一下电话，我有事问他", "third_party_contact"),
        ("我把会议纪要发到部门群里了，你们自己看", "public_shaming"),
        ("你爸妈都在家吗？我周末过去玩", "abuse"),
        # Letters in a web address are not pinyin nor an abbreviation
        ("查询案件请访问 http://fy12368.example.cn 或拨打12368", "impersonation"),
    ],
)
def test_more_look_alikes_of_the_sixth_round(text, absent):
    assert absent not in raised(text)


def test_pinyin_is_read_back_as_characters_that_point_at_the_letters():
    text = "ming tian qu ni dan wei"
    folded = signals.fold(text)
    assert folded.text == "明天去你单位"
    # 单 stands for the letters "dan"
    start = folded.text.index("单")
    assert text[slice(*folded.span(start, start + 1))] == "dan"


def test_latin_that_is_not_pinyin_is_left_as_typed():
    assert signals.fold("Hi Lisa, your case").text == "hilisa,yourcase"
    assert "fy12368" in signals.fold("http://fy12368.example.cn").text
