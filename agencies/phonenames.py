"""The names in the phone-number prefix data: known mistakes corrected, and their English.

agencies.phoneprefixes reads where a number range was allotted and to which
carrier from phonenumbers' data, in Chinese ("湖南省长沙市", "中国电信"). That
data spells a few cities wrong or by a name they no longer have;
`corrected()` gives the name the province pages and the registry use, and the
number page, the API and the message check all show that. /en/ pages show
the same place in English (`english_region()`: "Changsha, Hunan"), derived
from the corrected Chinese name — the province's English name as the province
pages give it, the city in pinyin, or its usual English name where pinyin is
not what English uses (Hohhot, Lhasa, Urumqi) or would read a character
wrongly — and the carrier's own English name (`english_carrier()`).
"""

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# The prefix data's name → the right one, each with its reason. Applied to the
# whole name, so "湖南省长沙市、湘潭市、株州市" is corrected too.
CORRECTIONS = {
    "株州市": "株洲市",  # a misspelling: the city is 株洲 (the province page, the registry)
    "襄樊市": "襄阳市",  # renamed in 2010
    "毕节地区": "毕节市",  # prefecture became a city, 2011
    "铜仁地区": "铜仁市",  # 2011
    "海东地区": "海东市",  # 2013
    "日喀则地区": "日喀则市",  # 2014
    "昌都地区": "昌都市",  # 2014
    "林芝地区": "林芝市",  # 2015
    "吐鲁番地区": "吐鲁番市",  # 2015
    "山南地区": "山南市",  # 2016
    "哈密地区": "哈密市",  # 2016
    "那曲地区": "那曲市",  # 2017
}


def corrected(name: str) -> str:
    """The prefix data's region name with known mistakes corrected; a place listed
    twice after a rename ("湖北省襄樊市、襄樊市") once."""
    for wrong, right in CORRECTIONS.items():
        name = name.replace(wrong, right)
    parts: list[str] = []
    for part in name.split("、"):
        if not any(seen.endswith(part) for seen in parts):
            parts.append(part)
    return "、".join(parts)


# The province as the prefix data begins a name: its short form, then one of
# these or nothing ("湖南省长沙市", "广西南宁市", "广西壮族自治区南宁市", "天津").
PROVINCE_SHORT_NAMES = {
    "北京": "11", "天津": "12", "河北": "13", "山西": "14", "内蒙古": "15", "辽宁": "21",
    "吉林": "22", "黑龙江": "23", "上海": "31", "江苏": "32", "浙江": "33", "安徽": "34",
    "福建": "35", "江西": "36", "山东": "37", "河南": "41", "湖北": "42", "湖南": "43",
    "广东": "44", "广西": "45", "海南": "46", "重庆": "50", "四川": "51", "贵州": "52",
    "云南": "53", "西藏": "54", "陕西": "61", "甘肃": "62", "青海": "63", "宁夏": "64",
    "新疆": "65", "台湾": "71", "香港": "81", "澳门": "82",
}  # fmt: skip
_PROVINCE = re.compile(
    "^(" + "|".join(sorted(PROVINCE_SHORT_NAMES, key=len, reverse=True)) + ")"
    "(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
)
# Peoples named in an autonomous prefecture's name, dropped from its English
# ("湘西土家族苗族自治州" → Xiangxi), as English sources and the registry's own
# short names do.
_PEOPLES = re.compile(
    "(白族|傣族|景颇族|傈僳族|壮族|苗族|彝族|哈尼族|藏族|朝鲜族|羌族|土家族|回族|侗族|布依族"
    "|蒙古族|蒙古|哈萨克|柯尔克孜)+自治州$"
)
_CITY_SUFFIXES = ("地区", "林区", "市", "盟", "县")

# Where the English name is not the pinyin of the Chinese one: names in the
# local language (Hohhot, Lhasa, Urumqi, Harbin), and 长治, 漯河, 朝阳 and 珲春,
# whose first character pypinyin reads in its other reading (zhang, ta, zhao, hui).
CITY_NAMES_EN = {
    "长治": "Changzhi",
    "漯河": "Luohe",
    "朝阳": "Chaoyang",
    "珲春": "Hunchun",
    "哈尔滨": "Harbin",
    "齐齐哈尔": "Qiqihar",
    "大兴安岭": "Da Hinggan Ling",
    "呼和浩特": "Hohhot",
    "乌兰察布": "Ulanqab",
    "兴安": "Hinggan",
    "呼伦贝尔": "Hulunbuir",
    "巴彦淖尔": "Bayannur",
    "鄂尔多斯": "Ordos",
    "锡林郭勒": "Xilingol",
    "阿拉善": "Alxa",
    "乌鲁木齐": "Urumqi",
    "伊犁": "Ili",
    "克孜勒苏": "Kizilsu",
    "克拉玛依": "Karamay",
    "博尔塔拉": "Bortala",
    "巴音郭楞": "Bayingolin",
    "吐鲁番": "Turpan",
    "和田": "Hotan",
    "阿克苏": "Aksu",
    "阿勒泰": "Altay",
    "拉萨": "Lhasa",
    "日喀则": "Shigatse",
    "昌都": "Qamdo",
    "林芝": "Nyingchi",
    "那曲": "Nagqu",
    "阿里": "Ngari",
    "果洛": "Golog",
    "甘孜": "Garze",
    "迪庆": "Deqen",
    "香格里拉": "Shangri-La",
}

# The carriers in the prefix data, by the name it gives them, in English as the
# same data names them (a test compares the two).
CARRIER_NAMES_EN = {
    "中国电信": "China Telecom",
    "中国移动": "China Mobile",
    "中国联通": "China Unicom",
    "中国广电": "China Broadnet",
    "中国电信国际有限公司": "China Telecom Global Limited",
    "中信国际电讯": "CITIC",
    "中國南方電信(香港)有限公司": "South China Telecommunications",
    "和記電話有限公司": "Hutchison Telecom",
    "数码通": "SmarTone",
    "新移动通讯": "Sun Mobile",
    "香港寬頻企業方案有限公司": "Hong Kong Broadband Network",
    "香港移动通讯": "HKT",
    "21Vianet": "21Vianet",
    "3": "3",
    "Lycamobile": "Lycamobile",
    "Multibyte": "Multibyte",
}


def pinyin_name(chinese: str) -> str:
    """A place name in pinyin as English writes it: one word, capitalised, an
    apostrophe before a syllable that starts with a vowel (西安 → Xi'an)."""
    syllables = lazy_pinyin(chinese, style=Style.NORMAL, v_to_u=True)
    word = syllables[0]
    for syllable in syllables[1:]:
        word += ("'" if syllable[0] in "aoe" else "") + syllable
    return word.capitalize()


@lru_cache(maxsize=1024)
def english_city(name: str) -> str:
    """A city as the prefix data names it, in English: "长沙市" → Changsha,
    "湘西土家族苗族自治州" → Xiangxi, "芒市" → Mangshi."""
    stem = _PEOPLES.sub("", name)
    if stem == name:
        for suffix in _CITY_SUFFIXES:
            # A one-character name keeps its suffix: 芒市 is Mangshi.
            if name.endswith(suffix) and len(name) - len(suffix) > 1:
                stem = name.removesuffix(suffix)
                break
    return CITY_NAMES_EN.get(stem) or pinyin_name(stem)


@lru_cache(maxsize=1024)
def english_region(name: str) -> str:
    """A mainland region as the prefix data names it (corrected), in English:
    "湖南省长沙市" → "Changsha, Hunan"; "北京市" → "Beijing"; several cities joined
    with " / ". "" for anything else (a country's or a foreign city's name)."""
    # Here, not at the top: agencies.models imports phones, which imports this module.
    from .models import PROVINCE_NAMES_EN

    found = _PROVINCE.match(name)
    if not found:
        return ""
    province = PROVINCE_NAMES_EN[PROVINCE_SHORT_NAMES[found.group(1)]]
    cities = [city for city in name[found.end() :].split("、") if city]
    if not cities:
        return province
    return f"{' / '.join(english_city(city) for city in cities)}, {province}"


def english_carrier(name: str) -> str:
    return CARRIER_NAMES_EN.get(name, "")
