"""Checks over the real articles in articles/content/ (not fixtures).

The writer may still be adding files; these tests cover whatever is there.
"""

import html
import re
from pathlib import Path

import pytest
import yaml

from articles.citations import TITLE, names_same_source, short_title, stated_articles
from articles.loading import DEFAULT_DIR, read_directory, sync
from articles.models import Article
from articles.rendering import render

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
        "民法典第一百八十八条规定……《征信业管理条例》第十六条……[^1]\n"
        "## 参考依据\n- 《中华人民共和国民法典》第一百八十八条\n\n"
        "[^1]: 旧版为第十五条。\n"
    )
    stated, listed = stated_and_listed(body)
    assert stated_articles(stated) - stated_articles(listed) == {(15, ""), (16, "")}
    assert {short_title(t) for t in TITLE.findall(stated)} - {
        short_title(t) for t in TITLE.findall(listed)
    } == {"征信业管理条例"}


FOOTNOTE = re.compile(r"^\[\^[^\]]+\]:.*$", re.MULTILINE)


def stated_and_listed(body: str) -> tuple[str, str]:
    """(the text, its 参考依据). Footnotes are text wherever the file puts them."""
    stated, _, listed = body.partition("## 参考依据")
    notes = "\n".join(FOOTNOTE.findall(listed))
    return stated + "\n" + notes, FOOTNOTE.sub("", listed)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_rule_stated_is_listed_in_the_references(path):
    stated, listed = stated_and_listed(body_of(read(path)))
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


def test_a_front_matter_source_is_recognised_in_the_references():
    assert names_same_source(
        "《民法典》第188条", "《中华人民共和国民法典》第一百八十八条，2021年施行。"
    )
    assert not names_same_source("《民法典》第192条", "《中华人民共和国民法典》第一百八十八条。")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_references_already_name_every_front_matter_source(path):
    """The renderer would add a missing one (articles.rendering.merge_sources); written
    out in 参考依据 with its notes, it reads better than the front matter's short title."""
    text = read(path)
    sources = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---"))["sources"]
    _, listed = stated_and_listed(body_of(text))
    entries = re.findall(r"^- (.+)$", listed, re.MULTILINE)
    missing = [
        source["title"]
        for source in sources
        if not any(names_same_source(source["title"], entry) for entry in entries)
    ]
    assert not missing


# --- Reading length: what a reader on a phone gets through before the help --------------------

# A "what to do" section: a ## or ### heading naming an action. docs/articles.md states the rule.
ACTION_HEADING = re.compile(
    r"^#{2,3}[ \t]+.*(怎么办|怎么做|应对|步骤|该做什么|可以做什么|第一步)", re.MULTILINE
)
BEFORE_ACTION_BUDGET = 4_000  # characters of text before the first "what to do" section
SUMMARY_BUDGET = 120  # characters of the lead summary
# What /en/ pages put above the text instead; with these a phone's first screen still
# reaches the text's first answer (tests/browser/test_journeys.py).
SUMMARY_EN_BUDGET = 220
TITLE_EN_BUDGET = 60


def text_length(markdown: str) -> int:
    """Characters a reader reads: the rendered text, without markup, link addresses or spaces."""
    text = html.unescape(re.sub(r"<[^>]+>", "", render(markdown).html))
    return len(re.sub(r"\s", "", text))


def before_first_action(body: str) -> str:
    """The body up to its first "what to do" section; all of it when there is none."""
    found = ACTION_HEADING.search(body)
    return body[: found.start()] if found else body


@pytest.mark.parametrize(
    ("body", "before"),
    [
        ("甲\n\n## 为什么\n\n乙\n\n## 现在该怎么做\n\n丙\n", "甲\n\n## 为什么\n\n乙\n\n"),
        ("甲\n\n### 第一步：核实\n\n乙\n", "甲\n\n"),
        ("甲\n\n## 应对的步骤\n", "甲\n\n"),
        ("甲：你可以怎么做\n\n## 规定\n", "甲：你可以怎么做\n\n## 规定\n"),  # not a heading
        ("甲\n\n#### 怎么办\n", "甲\n\n#### 怎么办\n"),  # too deep to be a section
    ],
)
def test_what_counts_as_a_what_to_do_section(body, before):
    assert before_first_action(body) == before


def test_text_length_counts_what_a_reader_reads():
    assert text_length("**粗体** [链接](https://www.pbc.gov.cn/) &amp;\n\n- 甲 乙\n") == 7


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_help_starts_within_the_reading_budget(path):
    length = text_length(before_first_action(body_of(read(path))))
    assert length <= BEFORE_ACTION_BUDGET, (
        f"{length} characters before the first what-to-do section"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_summaries_fit_the_first_screen(path):
    meta = yaml.safe_load(read(path).split("\n---", 1)[0].removeprefix("---"))
    assert len(meta["summary"]) <= SUMMARY_BUDGET
    assert len(meta["summary_en"]) <= SUMMARY_EN_BUDGET
    assert len(meta["title_en"]) <= TITLE_EN_BUDGET
