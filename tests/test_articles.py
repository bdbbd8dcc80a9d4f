"""Article querysets and pages: what a reader sees, and what each page costs."""

import datetime
import itertools
import json
import re
from pathlib import Path

import pytest

from articles.loading import sync, tag_slug
from articles.models import Article, Category, Tag
from articles.rendering import render

FIXTURES = Path(__file__).parent / "data" / "articles"

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def make_article(category=None, tags=(), **fields) -> Article:
    """An article straight in the database, for edge cases and query-count tests."""
    n = next(_serial)
    category = category or Category.objects.get_or_create(slug="rules", name="催收规则")[0]
    body = fields.pop("body", f"## 第{n}节\n\n正文{n}。\n\n## 参考依据\n\n- 出处{n}。\n")
    rendered = render(body)
    fields.setdefault("slug", f"article-{n}")
    fields.setdefault("title", f"文章{n}")
    fields.setdefault("summary", f"摘要{n}")
    fields.setdefault("published_on", datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    fields.setdefault("updated_on", fields["published_on"])
    fields.setdefault("byline", "本站编辑部")
    fields.setdefault("sources", [{"title": f"出处{n}", "date": "2026-01-01"}])
    article = Article.objects.create(
        category=category,
        body=body,
        body_html=rendered.html,
        toc=rendered.toc,
        reading_minutes=rendered.reading_minutes,
        **fields,
    )
    for name in tags:
        tag, _ = Tag.objects.get_or_create(name=name, defaults={"slug": tag_slug(name)})
        article.tags.add(tag)
    return article


@pytest.fixture
def synced():
    """The four fixture articles in tests/data/articles/, synced as the command would."""
    sync(FIXTURES)
    return {a.slug: a for a in Article.objects.all()}


# --- querysets ---------------------------------------------------------------


def slugs(queryset) -> list[str]:
    return [a.slug for a in queryset]


def test_published_excludes_unpublished(synced):
    Article.objects.filter(slug="beta-rights").update(is_published=False)
    assert "beta-rights" not in slugs(Article.objects.published())
    assert Article.objects.published().count() == 3


def test_latest_orders_newest_first_with_slug_tie_break(synced):
    # gamma and delta share a date; the order between them is fixed by slug.
    assert slugs(Article.objects.published().latest()) == [
        "gamma-rules",
        "delta-credit",
        "beta-rights",
        "alpha-rules",
    ]


def test_latest_with_a_field_keeps_djangos_contract(synced):
    assert Article.objects.latest("updated_on").slug in {"gamma-rules", "delta-credit"}


def test_in_category_and_tagged_accept_objects_or_slugs(synced):
    rules = Category.objects.get(slug="rules")
    assert sorted(slugs(Article.objects.in_category(rules))) == ["alpha-rules", "gamma-rules"]
    assert sorted(slugs(Article.objects.in_category("rules"))) == ["alpha-rules", "gamma-rules"]
    tag = Tag.objects.get(name="催收规则")
    expected = ["alpha-rules", "beta-rights", "gamma-rules"]
    assert sorted(slugs(Article.objects.tagged(tag))) == expected
    assert sorted(slugs(Article.objects.tagged("cui-shou-gui-ze"))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("骚扰", ["beta-rights"]),  # title
        ("四倍", ["delta-credit"]),  # summary
        ("夜间不得", ["gamma-rules"]),  # body
        ("lpr", ["beta-rights", "delta-credit"]),  # case-insensitive
        ("LPR", ["beta-rights", "delta-credit"]),
        ("100%", []),  # % is matched literally, not as a wildcard
        ("", []),
        ("   ", []),
        ("\x00", []),  # PostgreSQL would reject a NUL byte
        ("骚\x00扰", ["beta-rights"]),
    ],
)
def test_matching(synced, text, expected):
    assert sorted(slugs(Article.objects.published().matching(text))) == expected


def test_before_and_after_follow_publication_order(synced):
    articles = Article.objects.published()
    gamma = synced["gamma-rules"]
    assert slugs(articles.before(gamma)) == ["delta-credit", "beta-rights", "alpha-rules"]
    assert slugs(articles.after(synced["alpha-rules"])) == [
        "beta-rights",
        "delta-credit",
        "gamma-rules",
    ]
    assert slugs(articles.in_category("rules").after(synced["alpha-rules"])) == ["gamma-rules"]


def test_related_to_prefers_shared_tags_then_category(synced):
    alpha = Article.objects.for_detail().get(slug="alpha-rules")
    # beta shares 催收规则 and gamma shares 催收规则 plus the category; delta shares nothing.
    assert slugs(Article.objects.published().related_to(alpha)) == ["gamma-rules", "beta-rights"]


def test_related_to_an_untagged_article_uses_the_category():
    lonely = make_article()
    sibling = make_article()
    make_article(category=Category.objects.create(slug="other", name="其他"))
    assert slugs(Article.objects.related_to(lonely)) == [sibling.slug]


def test_random_pick_is_stable_for_a_seed(synced):
    articles = Article.objects.published()
    first = slugs(articles.random_pick(3, seed="alpha-rules:2026-11-28"))
    assert len(first) == len(set(first)) == 3
    for _ in range(5):
        assert slugs(articles.random_pick(3, seed="alpha-rules:2026-11-28")) == first
    picks = {tuple(slugs(articles.random_pick(3, seed=f"s{i}"))) for i in range(20)}
    assert len(picks) > 1  # the seed does change the pick


def test_random_pick_with_fewer_articles_than_asked():
    assert slugs(Article.objects.random_pick(3, seed="x")) == []
    only = make_article()
    assert slugs(Article.objects.random_pick(3, seed="x")) == [only.slug]


# --- pages -------------------------------------------------------------------


def text_of(response) -> str:
    return response.content.decode()


def assert_csp_friendly(page: str) -> None:
    """No inline script code and no style attributes (script-src 'self', style-src 'self')."""
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert 'type="application/ld+json"' in tag or " src=" in tag, tag
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)


def test_index_page(client, synced):
    response = client.get("/articles/")
    page = text_of(response)

    assert response.status_code == 200
    assert "<h1>权利与规则</h1>" in page
    for article in synced.values():
        assert article.title in page
        assert article.get_absolute_url() in page
    # Categories with their published counts, the empty one included.
    assert '<a href="/articles/category/rules/">催收规则</a>' in page
    assert "术语与参考" in page
    assert "2 篇" in page and "0 篇" in page
    assert '<link rel="canonical" href="http://testserver/articles/">' in page
    assert 'href="/articles/feed/"' in page
    assert "不构成法律意见" in page
    assert_csp_friendly(page)
    assert not response.cookies


def test_index_page_is_paginated(client, settings):
    for _ in range(13):
        make_article()

    first = text_of(client.get("/articles/"))
    second = text_of(client.get("/articles/?page=2"))

    assert "第 1 页，共 2 页" in first
    assert 'rel="next" href="?page=2"' in first
    assert first.count('class="article-card"') == 12
    assert second.count('class="article-card"') == 1
    assert '<link rel="canonical" href="http://testserver/articles/?page=2">' in second
    assert "权利与规则（第 2 页）" in second


@pytest.mark.parametrize(("page", "expected"), [("abc", 1), ("0", 2), ("99", 2), ("-1", 2)])
def test_bad_page_numbers_show_a_real_page(client, page, expected):
    for _ in range(13):
        make_article()
    response = client.get("/articles/", {"page": page})
    assert response.status_code == 200
    assert f"第 {expected} 页，共 2 页" in text_of(response)


def test_category_page(client, synced):
    response = client.get("/articles/category/rules/")
    page = text_of(response)

    assert response.status_code == 200
    assert "<h1>催收规则</h1>" in page
    assert "催收方可以做什么" in page  # description
    assert synced["alpha-rules"].title in page and synced["gamma-rules"].title in page
    assert synced["beta-rights"].title not in page
    assert '<a href="/articles/">权利与规则</a>' in page  # breadcrumbs
    assert_csp_friendly(page)


def test_empty_category_page(client, synced):
    response = client.get("/articles/category/reference/")
    assert response.status_code == 200
    assert "这个分类下暂时还没有文章" in text_of(response)


def test_tag_page(client, synced):
    response = client.get("/articles/tag/cui-shou-gui-ze/")
    page = text_of(response)

    assert response.status_code == 200
    assert "标签：催收规则" in page
    for slug in ("alpha-rules", "beta-rights", "gamma-rules"):
        assert synced[slug].title in page
    assert synced["delta-credit"].title not in page


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/articles/no-such-article/", "没有找到这篇文章"),
        ("/articles/category/no-such-category/", "没有这个文章分类"),
        ("/articles/tag/no-such-tag/", "没有这个标签"),
    ],
)
def test_unknown_addresses_are_404_with_a_chinese_message(client, synced, url, message):
    response = client.get(url)
    assert response.status_code == 404
    assert message in text_of(response)


def test_unpublished_article_is_404(client, synced):
    Article.objects.filter(slug="beta-rights").update(is_published=False)
    response = client.get("/articles/beta-rights/")
    assert response.status_code == 404
    assert "已经下线" in text_of(response)
    assert synced["beta-rights"].title not in text_of(client.get("/articles/"))


def test_article_page(client, synced):
    response = client.get("/articles/beta-rights/")
    page = text_of(response)

    assert response.status_code == 200
    assert '<h1 id="article-title">贝塔：遇到骚扰怎么办</h1>' in page
    assert "<title>贝塔：遇到骚扰怎么办 · 催收查询</title>" in page
    assert '<p class="lead">测试文章乙' in page
    assert "测试编辑部" in page
    assert '发布于 <time datetime="2026-02-01">2026年2月1日</time>' in page
    assert '更新于 <time datetime="2026-03-01">2026年3月1日</time>' in page
    assert "约 1 分钟读完" in page
    # Table of contents, then the body with matching ids.
    toc = page.split('class="toc toc-full"')[1].split("</nav>")[0]
    assert '<a href="#%E4%BF%9D%E5%AD%98%E8%AF%81%E6%8D%AE">保存证据</a>' in toc
    assert '<h2 id="保存证据">保存证据</h2>' in page
    assert "<p>录音、截图、短信。</p>" in page
    # One list of sources: the body's 参考依据, which already names the front matter's.
    assert "资料来源" not in page
    shown = page.split("</head>")[1]  # the JSON-LD in <head> cites the sources too
    assert shown.count("《中华人民共和国治安管理处罚法》第五十条") == 1
    # Tags and the disclaimer.
    assert '<a class="tag" href="/articles/tag/wei-quan-tou-su/">维权投诉</a>' in page
    assert "本站文章是一般性信息，不构成法律意见" in page
    assert_csp_friendly(page)
    assert not response.cookies


def test_on_a_phone_the_contents_are_folded_to_the_top_level_sections(client, synced):
    page = text_of(client.get("/articles/alpha-rules/"))
    compact = page.split('class="toc toc-compact"')[1].split("</nav>")[0]
    assert "<summary>目录（2 节）</summary>" in compact
    assert re.findall(r"<a [^>]*>(.*?)</a>", compact) == ["谁可以被催收", "参考依据"]
    # The wide-screen copy lists the sub-sections too.
    full = page.split('class="toc toc-full"')[1].split("</nav>")[0]
    assert re.findall(r"<a [^>]*>(.*?)</a>", full) == ["谁可以被催收", "信用卡欠款", "参考依据"]
    english = text_of(client.get("/en/articles/alpha-rules/"))
    assert "<summary>Contents (2 sections)</summary>" in english
    assert "<summary>目錄（2 節）</summary>" in text_of(
        client.get("/zh-hant/articles/alpha-rules/")
    )


def test_front_matter_sources_are_merged_into_the_references(client, synced):
    page = text_of(client.get("/articles/alpha-rules/"))
    references = page.split('<h2 id="参考依据">参考依据</h2>')[1].split("</ul>")[0]
    items = re.findall(r"<li>(.*?)</li>", references)
    # Named in the body already: listed once, with the front matter's address added.
    assert items[0] == (
        "《商业银行信用卡业务监督管理办法》第六十八条。网址："
        '<a href="https://www.nfra.gov.cn/" rel="nofollow noopener noreferrer">www.nfra.gov.cn</a>'
    )
    # Only in the front matter: added, with its date.
    assert items[1:] == ["某行业指引（2026年1月）"]
    assert page.split("</head>")[1].count("第六十八条") == 1


def test_article_page_breadcrumbs(client, synced):
    page = text_of(client.get("/articles/alpha-rules/"))
    # Compact: on a phone only the way up, to the category, shows (articles.css).
    crumbs = page.split('class="breadcrumbs breadcrumbs-compact"')[1].split("</nav>")[0]
    assert re.findall(r"<li>(.*?)</li>", crumbs) == [
        '<a href="/">首页</a>',
        '<a href="/articles/">权利与规则</a>',
        '<a href="/articles/category/rules/">催收规则</a>',
        '<span aria-current="page">阿尔法：催收的规则</span>',
    ]


def test_article_page_does_not_show_an_update_that_did_not_happen(client, synced):
    assert "更新于" not in text_of(client.get("/articles/alpha-rules/"))


def test_article_page_previous_next_and_lists(client, synced):
    alpha = text_of(client.get("/articles/alpha-rules/"))
    gamma = text_of(client.get("/articles/gamma-rules/"))

    # Within 催收规则: alpha (January) comes before gamma (March).
    assert 'rel="next" href="/articles/gamma-rules/"' in alpha
    assert 'rel="prev"' not in alpha.split('class="article-pager"')[1].split("</nav>")[0]
    assert 'rel="prev" href="/articles/alpha-rules/"' in gamma

    related = alpha.split('id="article-related-title"')[1].split("</section>")[0]
    assert re.findall(r'href="(/articles/[^"]+)"', related) == [
        "/articles/gamma-rules/",
        "/articles/beta-rights/",
    ]
    latest = alpha.split('id="article-latest-title"')[1].split("</section>")[0]
    assert re.findall(r'href="(/articles/[^"]+)"', latest) == [
        "/articles/gamma-rules/",
        "/articles/delta-credit/",
        "/articles/beta-rights/",
    ]
    random_list = alpha.split('id="article-random-title"')[1].split("</section>")[0]
    picked = re.findall(r'href="(/articles/[^"]+)"', random_list)
    assert len(picked) == 3 and "/articles/alpha-rules/" not in picked


def test_article_page_is_the_same_for_every_visitor(client, synced):
    first = client.get("/articles/alpha-rules/").content
    for _ in range(3):
        assert client.get("/articles/alpha-rules/").content == first


def test_article_page_copy_link(client, synced):
    page = text_of(client.get("/articles/alpha-rules/"))
    # Without JavaScript the link is there to copy by hand; the button waits for the script.
    assert re.search(
        r'<input id="article-share-url"[^>]*value="http://testserver/articles/alpha-rules/"'
        r"[^>]*readonly>",
        page,
    )
    assert re.search(r'<button type="button" class="copy-link"[^>]*hidden>复制链接</button>', page)
    assert '<script src="/static/js/copy-link.js" defer></script>' in page


def test_article_page_live_figure(client, synced):
    from tests.factories import make_agency

    make_agency("湖南甲催收有限公司")
    page = text_of(client.get("/articles/alpha-rules/"))
    assert re.search(
        r"本站收录<a href=\"/provinces/hunan/\">湖南省</a>机构 1 家（截至 \d{4}年", page
    )
    assert "data-live-stat" not in page


def test_article_page_external_links_are_nofollow(client, synced):
    page = text_of(client.get("/articles/alpha-rules/"))
    assert (
        '<a href="https://www.nfra.gov.cn/" rel="nofollow noopener noreferrer">监管网站</a>' in page
    )
    assert '<a href="/articles/beta-rights/">测试文章乙</a>' in page


def test_canonical_link_uses_portal_base_url(client, synced, settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    page = text_of(client.get("/articles/alpha-rules/"))
    assert '<link rel="canonical" href="https://cuishou.example/articles/alpha-rules/">' in page
    assert (
        '<meta property="og:url" content="https://cuishou.example/articles/alpha-rules/">' in page
    )


def test_article_page_open_graph_and_json_ld(client, synced):
    page = text_of(client.get("/articles/alpha-rules/"))
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:title" content="阿尔法：催收的规则">' in page
    assert '<meta property="article:tag" content="催收规则">' in page

    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    data = {item["@type"]: item for item in map(json.loads, blocks)}
    assert data["Article"]["headline"] == "阿尔法：催收的规则"
    assert data["Article"]["datePublished"] == "2026-01-10"
    assert data["Article"]["mainEntityOfPage"] == "http://testserver/articles/alpha-rules/"
    assert data["Article"]["citation"][0]["url"] == "https://www.nfra.gov.cn/"
    assert [i["name"] for i in data["BreadcrumbList"]["itemListElement"]] == [
        "首页",
        "权利与规则",
        "催收规则",
        "阿尔法：催收的规则",
    ]
    assert data["BreadcrumbList"]["itemListElement"][0]["item"] == "http://testserver/"


def test_json_ld_cannot_be_broken_out_of(client):
    make_article(slug="tricky", title="</script><script>alert(1)</script>&<!--")
    page = text_of(client.get("/articles/tricky/"))
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert "<" not in block.group(1) and "&" not in block.group(1)
    assert json.loads(block.group(1))["headline"] == "</script><script>alert(1)</script>&<!--"
    assert "<script>alert(1)" not in page


# --- query budgets -------------------------------------------------------------


def populate(n: int) -> None:
    categories = [
        Category.objects.get_or_create(slug=slug, name=slug)[0] for slug in ("rules", "rights")
    ]
    for i in range(n):
        make_article(category=categories[i % 2], tags=[f"标签{i % 3}", f"标签{i % 5}"])


@pytest.mark.parametrize(
    "url",
    [
        "/articles/",
        "/articles/?page=2",
        "/articles/category/rules/",
        "/articles/tag/biao-qian-1/",
        "/articles/article-1/",
    ],
)
def test_query_count_does_not_grow_with_articles(
    client, count_queries, url, django_assert_max_num_queries
):
    populate(13)  # enough for a second page
    url = url.replace("article-1", Article.objects.order_by("pk").first().slug)
    few = count_queries(url)
    populate(26)
    many = count_queries(url)

    assert few == many
    with django_assert_max_num_queries(12):
        client.get(url)
