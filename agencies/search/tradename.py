"""What people call a company short of its registered name: its trade name (字号), with or
without the place in front.

A Chinese enterprise name is built 行政区划 + 字号 + 行业或经营特点 + 组织形式
(企业名称登记管理规定): 岳阳鼎盛资产管理有限公司 is 岳阳 + 鼎盛 + 资产管理 + 有限公司.
The place may also stand after the trade name, in brackets (示例恒信资产管理（长沙）
有限公司) or before the industry (恒信长沙资产管理有限公司), and a province may
precede a city (湖南岳阳鼎盛…). People write the trade name alone (鼎盛的法务) or
with a place (岳阳鼎盛, 湖南鼎盛); the message check (agencies.check.tradenames)
finds agencies by both, through the keys `keys()` gives each agency.

`extract()` takes a name apart; it is pure and knows places only from the
`Places` it is given: the Province table and the cities the directory holds.
It answers None rather than guess: no place or industry word is ever taken
for a trade name, and neither is one or more than MAX_TRADE characters.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from . import textnorm

MIN_TRADE = 2  # characters: one character names nobody
MAX_TRADE = 6  # longer, the name was not understood (an industry word we don't know)
MAX_PLACE = 4  # characters of a place's short form in a key (乌鲁木齐, 呼和浩特)
MAX_KEY = MAX_TRADE + MAX_PLACE


def _words(text: str) -> list[str]:
    """A word list written as text, words apart (easier to read and review than literals)."""
    return text.split()


# What a registered name says about the business, after the trade name. Taken
# off the end one word at a time, longest first, so that any combination is
# understood (企业管理咨询, 法律咨询服务, 商务信息咨询, 金融服务外包). Also what
# tells the message check that the word before it is a company's name (鼎盛资产).
INDUSTRY_WORDS = tuple(
    sorted(
        set(
            _words(
                """
            资产 管理 咨询 服务 信息 商务 企业 法律 法务 信用 征信 催收 清收 追收 贷后 外包
            调解 调查 事务 事务所 账款 债务 债权 不良 处置 风险 风控 评估 认证 商账
            金融 投资 财务 融资 担保 保理 资本 基金 财富 金服 经济 保险 经纪 租赁 代账 记账
            税务 会计
            数据 大数据 科技 技术 网络 互联网 电子 电子商务 智能 软件 数字 信息化 计算机 通信
            通讯 系统 平台 云计算 人工智能 文化 传媒 传播 广告 营销 策划
            商贸 贸易 商业 实业 控股 集团 发展 产业 经营 运营 代理 顾问 人力资源 供应链 物流
            中心 工作室 国际 业务 教育 培训 物业 工程 建设 开发 研究 研究院 知识产权
            """
            )
        ),
        key=lambda word: (-len(word), word),
    )
)

# Trade names that are everyday words, or the names of lenders and platforms a
# collection message mentions as the creditor: "平安的催收" is not 长沙平安资产管理,
# and "明天" in a message is not 长沙明天商务咨询. Such a trade name is never looked
# up; the agency is still found by its whole name, number or code.
COMMON_WORDS = frozenset(
    # Time, and everyday words that make good company names too
    _words(
        """
    今天 明天 后天 昨天 现在 马上 立即 立刻 以后 未来 时代 世纪 永远 天天 每天 一定 一起
    大家 我们 你们 他们 中国 中华 华夏 东方 天下 国际 全国 国家 人民 社会 大众 平安 幸福
    美好 希望 阳光 和平 和谐 快乐 健康 长城 长江 黄河 团结 友谊 光明 前进 胜利 成功 诚信
    信誉 信用 合作 发展 联合 万家 家园 朋友 兄弟 先生 女士 同志 老板 公司 单位 工作 生活
    家庭 父母 正常 正式 重要 紧急 特别 专业 官方 正规 合法 合规
    """
    )
    # What collection messages are about
    + _words(
        """
    还款 欠款 借款 贷款 逾期 欠费 账单 分期 协商 处理 联系 通知 提醒 催告 回复 电话 短信
    微信 支付 转账 银行 法院 律师 警方 公安 政府 客服 专员 法务 调解
    """
    )
    # Creditors: banks, lenders and platforms whose names messages carry
    + _words(
        """
    工商 农业 建设 交通 招商 中信 光大 民生 兴业 浦发 广发 邮储 邮政 浙商 渤海 恒丰 北京
    上海 宁波 南京 江苏 杭州 京东 美团 蚂蚁 花呗 借呗 支付宝 微粒贷 度小满 捷信 招联 中邮
    苏宁 小米 网商 分期乐 宜信 拍拍贷 安逸花 海尔 携程 滴滴 抖音 快手 拼多多 淘宝 天猫
    唯品会 国美 百度 腾讯 阿里 阿里巴巴 华为 中银 哈银 长银 晋商 湖北 蒙商 尚诚 锦程 盛银
    金美信
    """
    )
)

# Longest first: 广西壮族自治区 → 广西, not 广西壮族.
_PROVINCE_SUFFIXES = _words("维吾尔自治区 壮族自治区 回族自治区 特别行政区 自治区 省 市")
_ETHNIC = (
    "土家|苗|朝鲜|侗|布依|傣|景颇|哈尼|彝|壮|白|傈僳|藏|羌|回|蒙古|哈萨克|柯尔克孜|黎|瑶|畲|"
    "土|撒拉|东乡|保安|裕固|达斡尔|鄂温克|鄂伦春|满|仫佬|毛南|仡佬|水|纳西|普米|独龙|怒|"
    "拉祜|佤|基诺|德昂|布朗|阿昌|锡伯|塔吉克|维吾尔|俄罗斯|门巴|珞巴"
)
# 湘西土家族苗族自治州 → 湘西, 岳阳市 → 岳阳, 大兴安岭地区 → 大兴安岭, 长沙县 → 长沙.
_CITY_FORM = re.compile(
    rf"^(?P<short>.{{2,}}?)(?:(?:(?:{_ETHNIC})族)+自治[州县旗]|市|地区|盟|县|区|旗)$"
)
# A bracketed part of a name: a place (（长沙）), or something to leave out (（有限合伙）).
_BRACKETED = re.compile(r"[(（\[【〔]([^()（）\[\]【】〔〕]*)[)）\]】〕]")
_HAS_BRACKET = re.compile(r"[(（\[【〔]")
# Branches: "…有限公司长沙分公司" is the company's; its name ends at the company form.
_FORMS = (*textnorm.COMPANY_FORMS, "分公司", "分部", "办事处")
# A prefix that is no place but says nothing of the business either (中国华融).
NATION = "中国"


def _fold(text: str) -> str:
    """textnorm.basic_fold() of text already in Simplified characters."""
    return "".join(char for char in text.lower() if char.isalnum())


def is_han(char: str) -> bool:
    """A Han character (the CJK blocks textnorm reads as Chinese)."""
    return "\u3400" <= char <= "\u9fff" or "\U00020000" <= char <= "\U0003134f"


def _is_han_word(text: str) -> bool:
    return bool(text) and all(map(is_han, text))


def province_short(name: str) -> str:
    """湖南省 → 湖南, 广西壮族自治区 → 广西, 北京市 → 北京."""
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name.removesuffix(suffix)
    return name


def city_short(city: str) -> str:
    """岳阳市 → 岳阳; a form without a known suffix stays as it is."""
    found = _CITY_FORM.match(city)
    return found["short"] if found else city


@dataclass(frozen=True)
class TradeName:
    trade: str  # 鼎盛
    places: tuple[str, ...]  # the places the name itself carries, short forms: ("岳阳",)
    industry: str  # 资产管理

    @property
    def distinctive(self) -> bool:
        """Whether the trade name may be looked up at all (see COMMON_WORDS)."""
        return self.trade not in COMMON_WORDS


class Places:
    """Every written form of the places names start with, each with its short form
    and province: 湖南省 and 湖南 → (湖南, 43); 岳阳市 and 岳阳 → (岳阳, 43)."""

    def __init__(
        self, provinces: Iterable[tuple[str, str]], cities: Iterable[tuple[str, str]] = ()
    ):
        """`provinces`: (code, name) as in the Province table; `cities`: (city, province code)."""
        self._forms: dict[str, tuple[str, str]] = {}
        self._province_short: dict[str, str] = {}
        self._cities: set[tuple[str, str]] = set()
        self._own: dict[tuple[str, str], tuple[str, ...]] = {}
        for code, name in provinces:
            short = province_short(name)
            self._province_short[code] = short
            self._add(name, short, code)
            self._add(short, short, code)
        for city, code in cities:
            self.add_city(city, code)
        self._add(NATION, NATION, "")

    @classmethod
    def load(cls) -> "Places":
        """From the database: the Province table and the cities agencies are in
        (the tallies, a few hundred rows, rather than the agency table)."""
        from ..models import AgencyTally, Province

        cities = AgencyTally.objects.exclude(city="").values_list("city", "province_id")
        return cls(Province.objects.values_list("code", "name"), cities.distinct())

    def _add(self, form: str, short: str, code: str) -> None:
        form, short = textnorm.basic_fold(form), textnorm.basic_fold(short)
        if len(short) >= 2 and _is_han_word(form):
            self._forms.setdefault(form, (short, code))

    def add_city(self, city: str, province_code: str) -> None:
        if (city, province_code) in self._cities:
            return
        self._cities.add((city, province_code))
        self._own.clear()
        city = textnorm.basic_fold(city)
        short = city_short(city)
        self._add(city, short, province_code)
        self._add(short, short, province_code)

    def short(self, form: str) -> str | None:
        found = self._forms.get(form)
        return found[0] if found else None

    def around(self, place: str) -> tuple[str, ...]:
        """A place and the province it is in: 岳阳 → (岳阳, 湖南)."""
        found = self._forms.get(place)
        if found is None:
            return (place,)
        short, code = found
        province = self._province_short.get(code)
        return (short,) if province in (None, short) else (short, province)

    def province(self, code: str) -> str:
        return self._province_short.get(code, "")

    def own(self, city: str, province_code: str) -> tuple[str, ...]:
        """The places an agency in `city` (as the directory writes it, 岳阳市) of that
        province is known by: 岳阳, 湖南. Remembered: many agencies share a city."""
        found = self._own.get((city, province_code))
        if found is None:
            places = self.around(city_short(textnorm.basic_fold(city))) if city else ()
            province = self.province(province_code)
            found = tuple(dict.fromkeys([*places, *([province] if province else [])]))
            self._own[city, province_code] = found
        return found

    def leading(self, text: str) -> str | None:
        """The longest written place form `text` starts with."""
        for length in range(min(len(text), 12), 1, -1):
            if text[:length] in self._forms:
                return text[:length]
        return None

    def trailing(self, text: str) -> str | None:
        for length in range(min(len(text), 12), 1, -1):
            if text[-length:] in self._forms:
                return text[-length:]
        return None


def extract(name: str, places: Places) -> TradeName | None:
    """岳阳鼎盛资产管理有限公司 → TradeName("鼎盛", ("岳阳",), "资产管理"); None when the
    name has no trade name that can be told apart from its place and business."""
    # One script conversion (the costly step); folding is then only case and punctuation.
    text = textnorm.simplified(unicodedata.normalize("NFKC", name or ""))
    found_places: list[str] = []

    def bracketed(match: re.Match) -> str:
        short = places.short(_fold(match[1]))
        if short:
            found_places.append(short)
        return ""  # whatever the brackets hold is not the trade name

    if _HAS_BRACKET.search(text):
        text = _BRACKETED.sub(bracketed, text)
    core = _fold(text)
    ends = [at for form in _FORMS if (at := core.find(form)) > 0]
    if ends:
        core = core[: min(ends)]
    core = textnorm.strip_company_forms(core)

    # The business comes off the end, then the places in front, then whatever
    # business and places stand after the trade name, in any order (恒信长沙资产
    # 管理). Never down to less than a trade name: 永安 is also a city, but in
    # 邵阳永安商务服务 it is what is left after 邵阳, so it is the trade name.
    industry: list[str] = []
    while (word := _ending(core)) and len(core) > len(word):
        industry.insert(0, word)
        core = core[: -len(word)]
    leading: list[str] = []
    while (form := places.leading(core)) and len(core) - len(form) >= MIN_TRADE:
        leading.append(places.short(form))
        core = core[len(form) :]
    trailing: list[str] = []
    while True:
        if (word := _ending(core)) and len(core) > len(word):
            industry.insert(0, word)
            core = core[: -len(word)]
        elif (form := places.trailing(core)) and len(core) - len(form) >= MIN_TRADE:
            trailing.insert(0, places.short(form))
            core = core[: -len(form)]
        else:
            break

    if not MIN_TRADE <= len(core) <= MAX_TRADE or not _is_han_word(core):
        return None
    if places.short(core) or core in INDUSTRY_WORDS:
        return None
    ordered = dict.fromkeys([*leading, *trailing, *found_places])
    return TradeName(core, tuple(ordered), "".join(industry))


_INDUSTRY_SET = frozenset(INDUSTRY_WORDS)
_INDUSTRY_LENGTHS = sorted({len(word) for word in INDUSTRY_WORDS}, reverse=True)


def _ending(text: str) -> str | None:
    """The longest industry word `text` ends with."""
    for length in _INDUSTRY_LENGTHS:
        if text[-length:] in _INDUSTRY_SET:
            return text[-length:]
    return None


def keys(
    trade_names: Iterable[TradeName], places: Places, city: str = "", province_code: str = ""
) -> dict[str, int]:
    """{key: length of its place} for one agency: each trade name alone (鼎盛: 0) and
    after each place it is known by (岳阳鼎盛: 2) — the places its names carry, the
    provinces those are in, and the agency's own city and province.

    Keys are what the message check looks up, so a trade name that is an everyday
    word (COMMON_WORDS) gives none.
    """
    own = places.own(city, province_code)
    result: dict[str, int] = {}
    for found in trade_names:
        if not found.distinctive:
            continue
        result.setdefault(found.trade, 0)
        known = [place for named in found.places for place in places.around(named)]
        for place in dict.fromkeys([*known, *own]):
            if 2 <= len(place) <= MAX_PLACE:
                result.setdefault(place + found.trade, len(place))
    return result


def agency_keys(
    name: str,
    former_names: Iterable[str],
    places: Places,
    city: str = "",
    province_code: str = "",
) -> dict[str, int]:
    """keys() of one agency from its registered name and former names (aliases are
    no registered names: the check looks for their whole form), its city and province.

    The agency's own city joins `places`, so that its name is understood even
    when no other agency is there yet.
    """
    if city:
        places.add_city(city, province_code)
    found = [extract(each, places) for each in (name, *former_names)]
    return keys([each for each in found if each], places, city, province_code)
