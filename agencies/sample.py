"""A deterministic, obviously fictitious sample directory for demos and tests.

Every record is flagged `is_sample` and every name contains 示例, so pages show
the 示例数据 badge and banner. Phone numbers follow artificial patterns that
point at no real subscriber: mobiles have 0000 as the middle four digits,
landlines have a local number starting 0000 (local numbers never start with
0), foreign numbers use the North-American 555-01xx range reserved for
fiction. Source URLs point at example.org, which is reserved for examples.

The records use the import-file shape, so they go through the same validation
as real data (agencies.importing).
"""

import random
from datetime import date, timedelta

from . import uscc

SEED = 20261128
SAMPLE_SOURCE = "示例数据（虚构，仅供演示）"
SAMPLE_URL = "https://example.org/sample/"
RETRIEVED_ON = "2026-11-01"

# Province code → [(city, area code)]. Hunan gets its cities; elsewhere the
# capital, which is enough to give every province page something to show.
CITIES = {
    "43": [
        ("长沙市", "0731"),
        ("株洲市", "0731"),
        ("湘潭市", "0731"),
        ("衡阳市", "0734"),
        ("岳阳市", "0730"),
        ("常德市", "0736"),
        ("郴州市", "0735"),
        ("邵阳市", "0739"),
        ("益阳市", "0737"),
        ("娄底市", "0738"),
        ("怀化市", "0745"),
        ("永州市", "0746"),
        ("张家界市", "0744"),
        ("湘西土家族苗族自治州", "0743"),
    ],
    "11": [("北京市", "010")],
    "12": [("天津市", "022")],
    "13": [("石家庄市", "0311")],
    "14": [("太原市", "0351")],
    "15": [("呼和浩特市", "0471")],
    "21": [("沈阳市", "024")],
    "22": [("长春市", "0431")],
    "23": [("哈尔滨市", "0451")],
    "31": [("上海市", "021")],
    "32": [("南京市", "025")],
    "33": [("杭州市", "0571")],
    "34": [("合肥市", "0551")],
    "35": [("福州市", "0591")],
    "36": [("南昌市", "0791")],
    "37": [("济南市", "0531")],
    "41": [("郑州市", "0371")],
    "42": [("武汉市", "027")],
    "44": [("广州市", "020")],
    "45": [("南宁市", "0771")],
    "46": [("海口市", "0898")],
    "50": [("重庆市", "023")],
    "51": [("成都市", "028")],
    "52": [("贵阳市", "0851")],
    "53": [("昆明市", "0871")],
    "54": [("拉萨市", "0891")],
    "61": [("西安市", "029")],
    "62": [("兰州市", "0931")],
    "63": [("西宁市", "0971")],
    "64": [("银川市", "0951")],
    "65": [("乌鲁木齐市", "0991")],
    # No mainland area codes: these sample agencies get foreign-format numbers only.
    "71": [("台北市", "")],
    "81": [("香港", "")],
    "82": [("澳门", "")],
}
HUNAN_COUNT = 100
PER_OTHER_PROVINCE = 7

BUSINESS_WORDS = ["资产管理", "信息咨询", "商务咨询", "企业管理咨询", "数据服务", "信用管理"]
BRANDS = ["恒信", "汇通", "安达", "正和", "诚远", "卓信"]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
ALIASES = ["示例法务部", "示例贷后服务中心", "示例调解中心", "示例催收服务中心"]
LENDERS = [
    "示例银行股份有限公司信用卡中心",
    "示例消费金融有限公司",
    "示例小额贷款有限公司",
    "示例网络科技有限公司（助贷平台）",
]
STATUSES = ["存续"] * 10 + ["在业"] * 4 + ["吊销", "注销", "迁出", "停业", "撤销", "其他"]
ACTION_KINDS = ["行政处罚", "经营异常名录", "严重违法失信名单"]
ENTITY_TYPES = ["有限责任公司（自然人投资或控股）", "有限责任公司（法人独资）", "股份有限公司"]


def _short_city(city: str) -> str:
    return city.removesuffix("市").removesuffix("土家族苗族自治州")


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["133", "135", "138", "139", "150", "158", "177", "186", "189", "199"])
    return f"{prefix}0000{rng.randrange(10000):04d}"


def generate(seed: int = SEED) -> list[dict]:
    """The sample records, identical on every run for the same seed."""
    rng = random.Random(seed)
    plan = [("43", HUNAN_COUNT)] + [(code, PER_OTHER_PROVINCE) for code in CITIES if code != "43"]
    records: list[dict] = []
    serial = 0
    shared_numbers: list[str] = []
    used_names: set[str] = set()
    for province_code, count in plan:
        for i in range(count):
            serial += 1
            city, area = CITIES[province_code][i % len(CITIES[province_code])]
            word = BUSINESS_WORDS[serial % len(BUSINESS_WORDS)]
            suffix = SUFFIXES[0] if serial % 5 else SUFFIXES[serial % 3]
            short = _short_city(city)
            name = (
                f"{short}示例{word}{('第' + str(serial) + '号') if serial % 3 == 0 else ''}{suffix}"
            )
            if serial % 4 == 0:
                brand = rng.choice(BRANDS)
                name = f"示例{brand}{word}（{short}）{suffix}"
            if province_code == "43" and i % 10 == 5:
                # Province-wide names, as people search for them ("湖南资产…").
                name = f"湖南{word}示例{rng.choice(BRANDS)}{suffix}"
            if name in used_names:
                # Real names are unique within a registration area; keep ours unique too.
                name = name.removesuffix(suffix) + f"第{serial}号" + suffix
            used_names.add(name)
            code = uscc.with_check_digit(f"91{province_code}0100MA000{serial:04d}")
            established = date(2008, 1, 1) + timedelta(days=rng.randrange(16 * 365))
            status = rng.choice(STATUSES)

            phones = []
            if area:
                phones.append(
                    {
                        "number": _mobile(rng),
                        "label": "年报联系电话（示例）",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "annual-report",
                        "reported_on": "2025-06-30",
                    }
                )
                phones.append(
                    {
                        "number": f"{area}-0000{rng.randrange(10000):04d}",
                        "label": "办公电话（示例）",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "registry",
                        "reported_on": "2025-06-30",
                    }
                )
            if serial % 6 == 0:
                phones.append(
                    {
                        "number": f"400-000-{rng.randrange(10000):04d}",
                        "label": "客服热线（示例）",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "website",
                        "reported_on": "2026-03-15",
                    }
                )
            if serial % 9 == 0:
                phones.append(
                    {
                        "number": f"106900000000{serial % 100:02d}",
                        "label": "短信发送号码（示例）",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "sms",
                        "reported_on": "2026-04-01",
                    }
                )
            if serial % 11 == 0 or not area:
                phones.append(
                    {
                        "number": f"+1 201-555-01{serial % 100:02d}",
                        "label": "境外来电（示例）",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "reports",
                        "reported_on": "2026-05-20",
                    }
                )
            # Some numbers are used by several companies: the number page must say so.
            if serial % 13 == 0 and shared_numbers:
                phones.append(
                    {
                        "number": shared_numbers[-1],
                        "label": "共用号码（示例）",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "shared",
                        "reported_on": "2026-02-01",
                    }
                )
            if serial % 13 == 1 and phones:
                shared_numbers.append(phones[0]["number"])

            record = {
                "uscc": code,
                "name": name,
                "former_names": [f"{short}示例投资咨询有限公司"] if serial % 3 == 1 else [],
                "aliases": [ALIASES[serial % len(ALIASES)]] if serial % 2 == 0 else [],
                "province": province_code,
                "city": city,
                "entity_type": ENTITY_TYPES[serial % len(ENTITY_TYPES)],
                "legal_representative": "示例人" + "甲乙丙丁戊己庚辛"[serial % 8],
                "registered_capital": f"{rng.choice([100, 200, 500, 1000, 3000])}万人民币",
                "established_on": established.isoformat(),
                "status": status,
                "registration_authority": f"（示例）{short}市场监督管理局",
                "address": f"{city}示例路{serial}号（虚构地址）",
                "business_scope": "示例经营范围：接受金融机构委托从事非金融性外包服务；"
                "企业管理咨询；信息技术咨询服务。（虚构）",
                "source": SAMPLE_SOURCE,
                "source_url": SAMPLE_URL + "registry",
                "retrieved_on": RETRIEVED_ON,
                "is_sample": True,
                "phones": phones,
                "clients": [],
                "actions": [],
            }
            if record["former_names"]:
                # The rename that made the former name former, as an import records
                # it, so that the demo's 变更记录 has something to show.
                record["history"] = [
                    {
                        "field": "name",
                        "old": record["former_names"][0],
                        "new": name,
                        "changed_at": f"{RETRIEVED_ON}T02:00:00+00:00",
                        "via": "import",
                        "source": SAMPLE_SOURCE,
                        "source_url": SAMPLE_URL + "registry",
                        "retrieved_on": RETRIEVED_ON,
                    }
                ]
            if serial % 4 == 1:
                client = {
                    "name": LENDERS[serial % len(LENDERS)],
                    "since": "2023-01-01",
                    "source_url": SAMPLE_URL + "partners",
                }
                if serial % 8 == 1:
                    client["until"] = "2025-12-31"
                record["clients"].append(client)
            if serial % 7 == 3:
                kind = ACTION_KINDS[serial % len(ACTION_KINDS)]
                record["actions"].append(
                    {
                        "kind": kind,
                        "authority": f"（示例）{short}市场监督管理局",
                        "decided_on": (established + timedelta(days=900)).isoformat(),
                        "document_number": f"示例罚字〔2025〕{serial:03d}号",
                        "summary": "示例记录：虚构的监管记录，用于演示页面展示。",
                        "source_url": SAMPLE_URL + "actions",
                    }
                )
            records.append(record)
    return records
