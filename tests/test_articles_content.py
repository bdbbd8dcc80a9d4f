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
