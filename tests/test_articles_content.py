"""Checks over the real articles in articles/content/ (not fixtures).

The writer may still be adding files; these tests cover whatever is there.
"""

import re
from pathlib import Path

import pytest

from articles.loading import DEFAULT_DIR, read_directory, sync
from articles.models import Article

FILES = sorted(p for p in DEFAULT_DIR.glob("*.md") if not p.name.startswith("_"))

# From /work/shared/reference/law-facts.md, "勿用说法": claims found in circulating
# material that have no source or are wrong. None may appear in an article.
DASH = r"\s*[-–—~～至到]\s*"
FORBIDDEN = {
    "NIFA hours 9:00–17:00": rf"9[:：]00{DASH}17[:：]00",
    "NIFA hours 8:00–20:00": rf"8[:：]00{DASH}20[:：]00",
    "NIFA hours 8:00–21:00": rf"8[:：]00{DASH}21[:：]00",
    "NIFA hours 8:00–22:00": rf"(?<!次日)8[:：]00{DASH}22[:：]00",
    "NIFA 21:00 to 8:00": rf"21[:：]00{DASH}次日\s*8[:：]00",
    "公约六章三十八条": r"六章三十八条",
    "cooling-off period": r"5\s*个工作日冷静期",
    "AI voice ban": r"禁用\s*AI\s*语音",
    "48-hour complaints": r"48\s*小时响应",
    "公约第16条/第18条": r"公约.{0,6}第\s*(16|18|十六|十八)\s*条",
    "Art. 68 confidentiality": r"第(68|六十八)条.{0,20}(信息保密|对债务人信息保密)",
    "USCC mod 11": r"模\s*11|mod\s*11|11\s*减",
    "special-industry licence": r"特殊行业经营许可证",
    "made-up fine": r"罚决字〔2023〕78号|罚款\s*300\s*万元",
    "made-up complaint count": r"1\.2\s*万件",
    "36% as the law": r"非法债务(即|就是|指)[^。]{0,10}36%",
    # Rows added with sections 14–21 of the fact sheet.
    "Art. 196 as 'two demands, three months'": r"第(196|一百九十六)条规定的?[“‘\"]?两次",
    "3 months / 50,000 means jail": (
        r"满\s*5\s*万(元)?就(会)?坐牢|超过\s*3\s*个月[^。]{0,15}就(会)?坐牢"
    ),
    "停息挂账 as a right": r"停息挂账是法定权利|必须同意停息挂账|第(70|七十)条规定[^。]{0,10}必须",
    "made-up collection law": r"催收管理法",
    "licence or certificate for collectors": (
        r"催收(公司|机构|人员|员)[^。]{0,6}(须|必须|需要|应当)取得[^。]{0,8}(许可证|资格证)"
    ),
    "made-up visit rules": (
        r"间隔\s*7\s*天|停留不超过\s*30\s*分钟|催收外包管理办法"
        r"|第(1167|一千一百六十七)条[^。]{0,20}(债权人|催收)"
    ),
    "12378 around the clock": r"12378[^。]{0,10}24\s*小时",
    "credit repair deletes records": r"征信恢复新规|征信修复(可以|能|就能)删除",
    "made-up 12368 figures": r"1\.2\s*亿条|激增\s*67\s*%",
    "Hunan policies": r"湖南(也|已)?出台了?一系列政策",
    "made-up anti-collection penalties": (
        r"第(280|二百八十)条[^。]{0,10}最高\s*3\s*年|虚假投诉[^。]{0,6}拘留\s*10\s*日"
    ),
}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def body_of(text: str) -> str:
    return text.split("\n---", 2)[-1] if text.startswith("---") else text


@pytest.mark.skipif(not FILES, reason="articles/content/ has no articles yet")
@pytest.mark.django_db
def test_every_real_article_passes_sync_validation():
    _, articles = read_directory(DEFAULT_DIR)  # raises SyncError listing every problem
    assert len(articles) == len(FILES)
    for article in articles:
        assert article.sources, article.slug


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_article_has_sources_and_references(path):
    text = read(path)
    front = text.split("\n---", 1)[0]
    assert re.search(r"^sources:\s*\n\s+- title: \S", front, re.MULTILINE), "no source listed"
    assert re.search(r"^## 参考依据\s*$", body_of(text), re.MULTILINE), "no ## 参考依据 section"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_article_avoids_forbidden_claims(path):
    text = read(path)
    found = [name for name, pattern in FORBIDDEN.items() if re.search(pattern, text)]
    assert found == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_article_links_to_existing_articles(path):
    names = {p.stem for p in FILES}
    linked = set(re.findall(r"\]\(/articles/([a-z0-9-]+)/?(?:#[^)]*)?\)", read(path)))
    assert linked - names == set()


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("公约规定催收时间为工作日9:00–17:00", True),
        ("白名单8:00-20:00", True),
        ("正规机构持有《特殊行业经营许可证》", True),
        ("末位用模11计算", True),
        ("每日22:00至次日8:00严禁催收", False),
        ("以一年期LPR的4倍为限", False),
        ("恶意透支就是刑法第196条规定的“两次催收、超过三个月不还”", True),
        ("信用卡逾期超过3个月、欠款满5万就会坐牢", True),
        ("第70条规定银行必须同意停息挂账", True),
        ("根据《中华人民共和国催收管理法》", True),
        ("催收公司须取得许可证", True),
        ("上门催收每次须间隔7天以上", True),
        ("12378 24小时服务", True),
        ("征信修复可以删除不良记录", True),
        ("仿冒诈骗同比激增67%", True),
        ("湖南也出台了一系列政策来规范催收行为", True),
        ("伪造证明反催收：刑法第280条最高3年", True),
        ("刑法第一百九十六条只写“经发卡银行催收后仍不归还”", False),
        ("没有发现湖南专门规范催收行为的地方规定", False),
        ("12378的服务时间以官方公布为准", False),
    ],
)
def test_forbidden_patterns_catch_what_they_should(text, flagged):
    assert any(re.search(p, text) for p in FORBIDDEN.values()) is flagged


@pytest.mark.skipif(not FILES, reason="articles/content/ has no articles yet")
@pytest.mark.django_db
def test_every_real_article_page_renders(client):
    sync(DEFAULT_DIR)
    assert Article.objects.published().count() == len(FILES)
    for article in Article.objects.published():
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200, article.slug
        assert article.title in response.content.decode()
        assert client.get(f"/api/v1/articles/{article.slug}").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_article_links_to_existing_provinces(path):
    from agencies.models import Province

    slugs = set(Province.objects.values_list("slug", flat=True))
    assert set(re.findall(r"\]\(/provinces/([a-z]+)/\)", read(path))) - slugs == set()


def test_fixed_article_links_in_templates_exist():
    """Home, agency and province pages link to articles by slug; those files must exist."""
    templates = Path(__file__).resolve().parent.parent / "templates"
    names = {p.stem for p in FILES}
    missing = {
        f"{template.relative_to(templates)}: {slug}"
        for template in templates.rglob("*.html")
        for slug in re.findall(r'href="/articles/([a-z0-9-]+)/"', read(template))
        if slug not in names
    }
    assert missing == set()


# --- Every rule stated is listed in 参考依据 ----------------------------------------------------

_DIGITS = {char: n for n, char in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
ARTICLE_NUMBER = r"[0-9]+|[零〇一二两三四五六七八九十百千]+"
ARTICLE = re.compile(rf"第\s*({ARTICLE_NUMBER})\s*条(之[一二三四五六七八九])?")
ARTICLE_RANGE = re.compile(
    rf"第\s*({ARTICLE_NUMBER})\s*条\s*[至到—–-]\s*第?\s*({ARTICLE_NUMBER})\s*条"
)
TITLE = re.compile(r"《([^《》]{2,60})》")


def article_number(text: str) -> int:
    """第一百八十八条 → 188, 第68条 → 68."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += (digit or 1) * _UNITS[char]
            digit = 0
    return total + digit


def stated_articles(text: str) -> set[tuple[int, str]]:
    found = {(article_number(n), suffix or "") for n, suffix in ARTICLE.findall(text)}
    for first, last in ARTICLE_RANGE.findall(text):
        found |= {(n, "") for n in range(article_number(first), article_number(last) + 1)}
    return found


def short_title(title: str) -> str:
    """《中华人民共和国民法典》 and 《民法典》 name the same law."""
    return re.sub(r"[（(][^）)]*[）)]", "", title.removeprefix("中华人民共和国")).strip()


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("第一百八十八条", 188),
        ("第68条", 68),
        ("第十条", 10),
        ("第二十五条", 25),
        ("第一千零三十三条", 1033),
    ],
)
def test_article_numbers_are_read_as_written(text, number):
    assert {n for n, _ in stated_articles(text)} == {number}


def test_a_rule_missing_from_the_references_is_caught():
    body = (
        "民法典第一百八十八条规定……《征信业管理条例》第十六条……\n"
        "## 参考依据\n- 《中华人民共和国民法典》第一百八十八条"
    )
    stated, listed = body.split("## 参考依据")
    assert stated_articles(stated) - stated_articles(listed) == {(16, "")}
    assert {short_title(t) for t in TITLE.findall(stated)} - {
        short_title(t) for t in TITLE.findall(listed)
    } == {"征信业管理条例"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_rule_stated_is_listed_in_the_references(path):
    body = body_of(read(path))
    stated, _, listed = body.partition("## 参考依据")
    missing = sorted(stated_articles(stated) - stated_articles(listed))
    assert not missing, f"第N条 in the text but not in 参考依据: {missing}"
    listed_titles = {short_title(t) for t in TITLE.findall(listed)}
    unlisted = {
        t
        for t in TITLE.findall(stated)
        if not any(short_title(t) in other or other in short_title(t) for other in listed_titles)
    }
    assert not unlisted, f"《…》 in the text but not in 参考依据: {sorted(unlisted)}"


@pytest.mark.django_db
def test_the_articles_and_the_printable_templates_are_published():
    sync(DEFAULT_DIR)
    published = Article.objects.published()
    assert published.exclude(category__slug="templates").count() >= 21
    templates = published.filter(category__slug="templates")
    assert {a.slug for a in templates} >= {
        "template-collection-log",
        "template-complaint-letter",
        "template-stop-contacting-third-parties",
        "template-repayment-negotiation",
    }


@pytest.mark.django_db
def test_a_printed_template_is_the_form_alone(client):
    sync(DEFAULT_DIR)
    html = client.get("/articles/template-collection-log/").content.decode()
    # articles.css hides the reading aids under this class when printing.
    assert '<article class="article article-templates"' in html
    assert "<table>" in html and "<pre" in html  # the form, and its copyable text version
