"""English pages are in English: every piece of Chinese on them is a record's own data or
a quote, marked as Chinese (lang="zh-Hans"/"zh-Hant" or translate="no"), so screen
readers, translation tools and readers know what they are looking at.

The walk visits every page type on /en/ over a small directory and the real
articles, and reads the whole page — text, <title>, <meta> content,
placeholders, labels that CSS shows — for Chinese characters outside a marked
element. What may still be there is listed in EXCEPTIONS, each with its reason.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest

from agencies.enums import ActionKind, ChangeField, ChangeVia, NameKind, Status
from agencies.models import AgencyChange, RegulatoryAction
from agencies.search import index as search_index
from tests.factories import add_client, add_name, add_phone, make_agency

pytestmark = pytest.mark.django_db

# CJK Unified Ideographs, Extension A, compatibility ideographs, CJK punctuation
# and full-width forms: what Chinese text is written in.
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Elements whose content is not text a reader sees.
NOT_TEXT = {"script", "style"}
# Attributes that hold addresses, names for machines or choices, not words.
NOT_WORDS = {
    "href", "src", "action", "id", "class", "for", "name", "rel", "type", "hreflang", "lang",
    "datetime", "method", "role", "autocomplete", "maxlength", "property", "charset",
    "data-copy-target", "aria-labelledby", "aria-current", "hidden", "readonly", "checked",
    "selected", "translate", "viewbox", "xmlns", "d", "fill",
}  # fmt: skip
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@dataclass(frozen=True)
class Found:
    where: str  # "text in <p>", "<title>", "<meta name=description content>", …
    text: str


class ChineseOutsideMarks(HTMLParser):
    """Collects Chinese text and attribute values that no element marks as Chinese."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        # (tag, marked by the nearest lang, translate="no" here or above)
        self.stack: list[tuple[str, bool, bool]] = [("#document", False, False)]
        self.found: list[Found] = []

    def _marked(self) -> bool:
        _, by_lang, no_translate = self.stack[-1]
        return by_lang or no_translate

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        _, parent_lang, parent_no = self.stack[-1]
        lang = attrs.get("lang")
        by_lang = parent_lang if lang is None else lang.lower().startswith("zh")
        no_translate = parent_no or attrs.get("translate") == "no"
        marked = by_lang or no_translate
        if not marked:
            for name, value in attrs.items():
                if name in NOT_WORDS or not value or not CJK.search(value):
                    continue
                if name == "value" and attrs.get("type") in ("hidden", "checkbox", "radio"):
                    continue  # a filter's value, sent back in the query, never shown
                described = f"<{tag}"
                for key in ("name", "property", "type"):
                    if attrs.get(key):
                        described += f" {key}={attrs[key]}"
                self.found.append(Found(f"{described} {name}=", value))
        if tag not in VOID:
            self.stack.append((tag, by_lang, no_translate))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        tag = self.stack[-1][0]
        if tag in NOT_TEXT or self._marked() or not CJK.search(data):
            return
        where = "<title>" if tag == "title" else f"text in <{tag}>"
        self.found.append(Found(where, data.strip()))


def unmarked_chinese(html: str) -> list[Found]:
    parser = ChineseOutsideMarks()
    parser.feed(html)
    parser.close()
    return parser.found


# --- the walk -------------------------------------------------------------------------


@pytest.fixture
def records(directory):
    """The shared directory, and one agency with everything a record page can show."""
    agency = directory["xinda"]
    agency.entity_type = "有限责任公司（自然人投资或控股）"
    agency.legal_representative = "张三"
    agency.registered_capital = "1000万元人民币"
    agency.registration_authority = "长沙市市场监督管理局"
    agency.address = "长沙市开福区湘江中路"
    agency.business_scope = "受金融机构委托从事逾期账款催收服务"
    agency.source_url = "https://example.org/record"
    agency.retrieved_on = date(2026, 11, 1)
    agency.save()
    add_client(agency, "某某消费金融有限公司", since=date(2023, 1, 1))
    RegulatoryAction.objects.create(
        agency=agency,
        kind=ActionKind.PENALTY,
        decided_on=date(2024, 5, 6),
        authority="长沙市市场监督管理局",
        document_number="长市监处罚〔2024〕12号",
        summary="违反规定催收，罚款五万元。",
    )
    for field, old, new in [
        (ChangeField.STATUS, Status.CANCELLED, Status.EXISTING),
        (ChangeField.ADDRESS, "长沙市芙蓉区", agency.address),
        (ChangeField.PROVINCE, "北京市", "湖南省"),
    ]:
        AgencyChange.objects.create(
            agency=agency,
            field=field,
            old_value=old,
            new_value=new,
            changed_at=datetime(2026, 1, 5, 10, tzinfo=UTC),
            via=ChangeVia.IMPORT,
            source="国家企业信用信息公示系统",
        )
    dead = make_agency("长沙旧识商务咨询有限公司", status=Status.CANCELLED)
    add_name(dead, "长沙旧识催收有限公司", NameKind.FORMER)
    add_phone(dead, "0731-8888 8888")
    search_index.refresh([dead.id, agency.id])
    return {"agency": agency}


@pytest.fixture
def site(records):
    """The records and the site's real articles (each has an English title and summary)."""
    from articles.loading import DEFAULT_DIR, sync
    from articles.models import Article

    sync(DEFAULT_DIR)
    article = Article.objects.published().filter(tags__isnull=False).first()
    return {**records, "article": article}


def pages(site) -> dict[str, str]:
    article = site["article"]
    return {
        "home": "/en/",
        "provinces": "/en/provinces/",
        "a province": "/en/provinces/hunan/",
        "a province, filtered": "/en/provinces/hunan/?status=存续&city=长沙市",
        "an agency": "/en" + site["agency"].get_absolute_url(),
        "a number with agencies": "/en/phone/073188888888/",
        "a mobile number with an agency": "/en/phone/13907310000/",
        "a number without agencies": "/en/phone/13800000000/",
        "a foreign number": "/en/phone/+14155550123/",
        "search, empty": "/en/search/",
        "search with results": "/en/search/?q=长沙",
        "search without results": "/en/search/?q=不存在的公司名",
        "search, a mistyped credit code": "/en/search/?q=91430100MA4L0000X0",
        "articles": "/en/articles/",
        "an article": "/en" + article.get_absolute_url(),
        "a category": "/en" + article.category.get_absolute_url(),
        "a tag": "/en" + article.tags.first().get_absolute_url(),
        "about the data": "/en/about/data/",
        "privacy": "/en/about/privacy/",
        "message check": "/en/check/",
        "not found": "/en/provinces/atlantis/",
    }


@dataclass(frozen=True)
class Exception_:
    pages: tuple[str, ...]
    where: tuple[str, ...]  # how Found.where begins
    chinese: str  # the one piece of Chinese allowed there: a key of `allowed_chinese()`
    reason: str


# The deliberate exceptions: Chinese that an English page must carry where HTML
# cannot mark a language (<title>, <meta> content, a form field's value).
SEARCHES = ("search with results", "search without results")
EXCEPTIONS = (
    Exception_(
        ("an agency",),
        ("<title>", "<meta name=description"),
        "agency name",
        "A record's registered name has no English form, and a title that left it out would "
        "not say which agency the page is about; <title> and <meta> cannot mark a language "
        "(the page's <h1> marks it).",
    ),
    Exception_(
        SEARCHES,
        ("<title>", "<input name=q type=search value="),
        "query",
        "The visitor's own query, shown back as typed.",
    ),
    Exception_(
        ("a tag",),
        ("<title>", "<meta name=description", "<meta property=og:"),
        "tag name",
        "Tags have only Chinese names (articles.Tag); the page's <h1> marks it.",
    ),
)
# Not read at all: <script type="application/ld+json"> on article pages describes
# the Chinese article itself (schema.org inLanguage "zh-Hans": its headline,
# author and keywords are the article's own). The JSON API and its OpenAPI
# document have no language (no /en/ prefix) and no HTML documentation page.


def allowed_chinese(site) -> dict[str, str]:
    query = {"search with results": "长沙", "search without results": "不存在的公司名"}
    return {
        "agency name": site["agency"].name,
        "tag name": site["article"].tags.first().name,
        **{f"query:{page}": text for page, text in query.items()},
    }


def excusing(page: str, found: Found, allowed: dict[str, str]) -> Exception_ | None:
    """The exception that allows this piece of Chinese, if one does."""
    for exception in EXCEPTIONS:
        if page in exception.pages and found.where.startswith(exception.where):
            key = f"query:{page}" if exception.chinese == "query" else exception.chinese
            if not CJK.search(found.text.replace(allowed[key], "")):
                return exception
    return None


def test_every_english_page_marks_its_chinese(client, site):
    allowed = allowed_chinese(site)
    problems, used = {}, set()
    for name, path in pages(site).items():
        response = client.get(path)
        assert response.status_code in (200, 404), (name, response.status_code)
        for found in unmarked_chinese(response.content.decode()):
            if exception := excusing(name, found, allowed):
                used.add(exception)
            else:
                problems.setdefault(name, []).append(found)
    assert not problems, "\n".join(
        f"{name}: {f.where} {f.text[:80]!r}" for name, found in problems.items() for f in found
    )
    # An exception nothing needs any more should go from the list.
    assert used == set(EXCEPTIONS)


def test_the_walk_sees_chinese_wherever_html_cannot_mark_it():
    html = (
        '<html lang="en"><head><title>长沙</title><meta name="description" content="长沙">'
        '<script type="application/ld+json">{"name": "长沙"}</script></head><body>'
        '<p>Changsha <span lang="zh-Hans">长沙</span> <b translate="no">简体中文</b></p>'
        '<p lang="zh-Hans">长沙 <span lang="en">and 长沙</span></p>'
        '<input name="q" type="search" placeholder="例如" value="长沙">'
        '<input type="hidden" name="city" value="长沙市">'
        '<td data-label="号码">1</td><a href="/search/?q=长沙">x</a></body></html>'
    )
    assert [(f.where, f.text) for f in unmarked_chinese(html)] == [
        ("<title>", "长沙"),
        ("<meta name=description content=", "长沙"),
        ("text in <span>", "and 长沙"),
        ("<input name=q type=search placeholder=", "例如"),
        ("<input name=q type=search value=", "长沙"),
        ("<td data-label=", "号码"),
    ]


# --- what English pages say ---------------------------------------------------------------


def test_status_words_are_english_with_the_registry_word_beside_them(client, records):
    marked = 'Existing <span lang="zh-Hans">存续</span>'
    record = client.get("/en" + records["agency"].get_absolute_url()).content.decode()
    assert marked in record
    assert 'data-label="Old value">Deregistered <span lang="zh-Hans">注销</span>' in record
    search = client.get("/en/search/", {"q": "长沙"}).content.decode()
    assert marked in search and 'Deregistered <span lang="zh-Hans">注销</span>' in search
    assert ">Hunan</a>" in search  # the province facet
    province = client.get("/en/provinces/hunan/").content.decode()
    assert f'> {marked} <span class="count">' in province  # the filter's checkbox
    # Chinese pages: the word alone.
    chinese = client.get("/search/", {"q": "长沙"}).content.decode()
    assert ">存续</span>" in chinese and 'lang="zh-Hans">存续' not in chinese
    assert ">存續</span>" in client.get("/zh-hant/search/", {"q": "长沙"}).content.decode()


def test_the_search_box_speaks_english(client, records):
    html = client.get("/en/search/").content.decode()
    assert 'placeholder="e.g. 0731-88888888, Changsha Xinda, 91430100…"' in html
    assert '<span lang="zh-Hans">有限公司</span> (“Co., Ltd.”)' in html


def test_the_number_page_names_region_and_carrier_in_english(client, records):
    html = client.get("/en/phone/13907310000/").content.decode()
    assert "<dd>Changsha, Hunan" in html and "<dd>China Mobile" in html
    assert '<meta name="description" content="139 0731 0000 Changsha, Hunan' in html
    landline = client.get("/en/phone/073188888888/").content.decode()
    assert "Changsha / Xiangtan / Zhuzhou, Hunan" in landline
    assert "<dd>China" in client.get("/en/phone/4008001234/").content.decode()
    chinese = client.get("/phone/13907310000/").content.decode()
    assert "<dd>湖南省长沙市" in chinese and "<dd>中国移动" in chinese
    assert "株洲市" in client.get("/phone/073188888888/").content.decode()


def test_an_english_article_page_is_english_around_the_chinese_text(client, site):
    article = site["article"]
    html = client.get("/en" + article.get_absolute_url()).content.decode()
    assert f"<title>{article.title_en} · " in html
    assert f'<meta property="og:title" content="{article.title_en}">' in html
    assert 'property="og:description" content="' + article.summary_en[:40] in html
    assert f'<meta property="article:section" content="{article.category.name_en}">' in html
    assert 'property="article:tag"' not in html  # tags have no English names
    assert "<span>Site editors</span>" in html
    assert '<div class="article-body" lang="zh-Hans">' in html
    chinese = client.get(article.get_absolute_url()).content.decode()
    assert f'<meta property="og:title" content="{article.title}">' in chinese
    assert 'property="article:tag"' in chinese and "<span>本站编辑部</span>" in chinese


def test_an_english_summary_marks_the_chinese_words_it_quotes(client, site):
    article = site["article"]
    article.summary_en = "What '停息挂账' (pausing interest) does and does not mean."
    article.save()
    html = client.get("/en" + article.get_absolute_url()).content.decode()
    assert 'What &#x27;<span lang="zh-Hans">停息挂账</span>&#x27; (pausing interest)' in html
    listing = client.get("/en" + article.category.get_absolute_url()).content.decode()
    assert '<span lang="zh-Hans">停息挂账</span>' in listing
