"""Markdown rendering: sanitizing, links, headings, contents, reading time, live figures."""

import html
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from articles.citations import names_same_source
from articles.rendering import (
    ALLOWED_TAGS,
    EXTERNAL_REL,
    STATS_MARKER_RE,
    fill_live_stats,
    heading_slug,
    render,
    sanitize,
)
from tests.factories import make_agency

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onclick="alert(1)">点我</div>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;script:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://evil.example/track.png)",
    '[x](https://example.com "t\\" onmouseover=\\"alert(1)")',
    '<object data="https://evil.example/x.swf"></object><embed src="x.swf">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!--><script>alert(1)</script>-->",
    '<p class="live-stat" data-live-stat="province:43"></p>',
    "<style>body{display:none}</style>",
    "<details open ontoggle=alert(1)>",
    "注[^x]\n\n[^x]: <script>alert(1)</script>[y](javascript:alert(1))",
    '<section class="footnotes evil" id="x" onclick="alert(1)"><sup class="x">1</sup></section>',
]

BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def parse_tags(fragment: str):
    collector = TagCollector()
    collector.feed(fragment)
    collector.close()
    return collector.tags


def assert_safe(fragment: str) -> None:
    for tag, attrs in parse_tags(fragment):
        assert tag in ALLOWED_TAGS, (tag, fragment)
        for name, value in attrs:
            assert not name.startswith("on"), fragment
            assert name not in {"style", "src", "srcdoc", "action", "formaction"}, fragment
            assert not name.startswith("data-"), fragment
            if name == "href":
                # What a browser would see after entity decoding and dropping controls.
                seen = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
                assert not seen.startswith(BAD_SCHEMES), fragment


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_output_is_safe(payload):
    assert_safe(render(f"正文\n\n{payload}\n\n结束").html)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_sanitizer_alone_is_safe(payload):
    """The second layer holds even if raw HTML reached it (markdown-it has HTML off)."""
    assert_safe(sanitize(payload))


def test_raw_html_is_shown_as_text():
    assert render("<b>粗体</b>").html == "<p>&lt;b&gt;粗体&lt;/b&gt;</p>\n"


def test_a_forged_live_stat_marker_is_not_filled():
    forged = '<p class="live-stat" data-live-stat="province:43"></p>'
    assert not STATS_MARKER_RE.search(render(forged).html)
    assert sanitize(forged) == "<p></p>"


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "[监管](https://www.nfra.gov.cn/)",
            f'<a href="https://www.nfra.gov.cn/" rel="{EXTERNAL_REL}">',
        ),
        ("<https://www.pbc.gov.cn/>", f'<a href="https://www.pbc.gov.cn/" rel="{EXTERNAL_REL}">'),
        ("[站内](/articles/limitation-period/)", '<a href="/articles/limitation-period/">'),
        ("[小节](#参考依据)", '<a href="#%E5%8F%82%E8%80%83%E4%BE%9D%E6%8D%AE">'),
        ("[写信](mailto:corrections@example.org)", '<a href="mailto:corrections@example.org">'),
    ],
)
def test_links(markdown, expected):
    assert expected in render(markdown).html


def test_own_site_links_are_not_marked_external(settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    out = render("[本站](https://cuishou.example/articles/)").html
    assert out == '<p><a href="https://cuishou.example/articles/">本站</a></p>\n'


def test_headings_get_ids_and_build_the_table_of_contents():
    rendered = render(
        "## 先弄清楚：谁在管催收\n\n### 信用卡 **欠款**\n\n#### 细节\n\n## 先弄清楚：谁在管催收\n"
    )
    assert '<h2 id="先弄清楚谁在管催收">先弄清楚：谁在管催收</h2>' in rendered.html
    assert '<h3 id="信用卡-欠款">信用卡 <strong>欠款</strong></h3>' in rendered.html
    assert '<h4 id="细节">细节</h4>' in rendered.html
    assert '<h2 id="先弄清楚谁在管催收-1">' in rendered.html
    assert rendered.toc == [
        {"level": 2, "id": "先弄清楚谁在管催收", "text": "先弄清楚：谁在管催收"},
        {"level": 3, "id": "信用卡-欠款", "text": "信用卡 欠款"},
        {"level": 2, "id": "先弄清楚谁在管催收-1", "text": "先弄清楚：谁在管催收"},
    ]


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("谁在管催收？", "谁在管催收"),
        ("Step 1: LPR 的 4 倍", "step-1-lpr-的-4-倍"),
        ("《民法典》第188条", "民法典第188条"),
        ("？！", "section"),
    ],
)
def test_heading_slug(text, slug):
    assert heading_slug(text) == slug


def test_table_alignment_uses_classes_not_style():
    out = render("| 左 | 中 | 右 |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n").html
    assert '<th class="align-left">左</th>' in out
    assert '<td class="align-center">2</td>' in out
    assert '<td class="align-right">3</td>' in out
    assert "style" not in out


@pytest.mark.parametrize(
    ("body", "minutes"),
    [("短。", 1), ("字" * 400, 1), ("字" * 401, 2), ("字" * 1200, 3), ("word " * 800, 2)],
)
def test_reading_minutes(body, minutes):
    assert render(body).reading_minutes == minutes


@pytest.mark.django_db
def test_live_stats_are_filled_per_request():
    html_with_marker = render("前文\n\n[[stats:province=43]]\n\n后文").html
    make_agency("湖南甲催收有限公司")
    make_agency("湖南乙催收有限公司")
    make_agency("广东丙催收有限公司", province_code="44")

    today = timezone.localdate(timezone=ZoneInfo("Asia/Shanghai"))
    filled = fill_live_stats(html_with_marker)

    assert (
        '<p class="live-stat">本站收录<a href="/provinces/hunan/">湖南省</a>机构 2 家'
        f"（截至 {today.year}年{today.month}月{today.day}日）</p>"
    ) in filled
    assert "data-live-stat" not in filled

    make_agency("湖南丁催收有限公司")
    assert "机构 3 家" in fill_live_stats(html_with_marker)


@pytest.mark.django_db
def test_html_without_markers_needs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert fill_live_stats("<p>正文</p>") == "<p>正文</p>"


# --- footnotes -----------------------------------------------------------------------------


def test_footnotes_come_after_the_text_and_link_both_ways():
    out = render(
        "期限2年[^v]，见上[^v]。\n\n## 参考依据\n\n- 规定\n\n[^v]: 2013年原版为第七条。\n"
    ).html
    assert out.count('<sup class="footnote-ref"><a href="#fn1" id="fnref1') == 2
    assert "[1:1]" not in out  # every reference to note 1 says [1]
    references, notes = out.split('<hr class="footnotes-sep">')
    assert "2013年原版" not in references
    assert '<li id="fn1" class="footnote-item"><p>2013年原版为第七条。' in notes
    assert '<a href="#fnref1" class="footnote-backref">' in notes


# --- front-matter sources merged into 参考依据 ------------------------------------------------

BODY = "正文。\n\n## 参考依据\n\n- 《中华人民共和国民法典》第一百八十八条，2021年1月1日起施行。\n"


def references(html: str) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", html.split('id="参考依据"')[1])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Named already (short title, parenthesised notes and spacing aside): nothing added.
        ({"title": "《民法典》（2020年）第188条"}, []),
        ({"title": "《中华人民共和国民法典》"}, []),
        # A different article of the same law, a different document: added.
        ({"title": "《中华人民共和国民法典》第一百九十二条"},
         ["《中华人民共和国民法典》第一百九十二条"]),
        ({"title": "《征信业管理条例》第十六条", "date": "2013-03-15"},
         ["《征信业管理条例》第十六条（2013年3月15日）"]),
        ({"title": "某行业指引", "date": "2026"}, ["某行业指引（2026年）"]),
        (
            {"title": "某提示", "url": "https://www.pbc.gov.cn/"},
            [f'<a href="https://www.pbc.gov.cn/" rel="{EXTERNAL_REL}">某提示</a>'],
        ),
    ],
)  # fmt: skip
def test_a_source_the_references_do_not_name_is_added_once(source, expected):
    first = "《中华人民共和国民法典》第一百八十八条，2021年1月1日起施行。"
    assert references(render(BODY, [source]).html) == [first, *expected]
    assert references(render(BODY, [source, source]).html) == [first, *expected]


def test_a_source_already_listed_adds_its_address_to_that_entry():
    sources = [
        {"title": "《中华人民共和国民法典》第一百八十八条", "url": "https://flk.npc.gov.cn/"},
        {"title": "《民法典》第一百八十八条", "url": "https://flk.npc.gov.cn/"},
    ]
    assert references(render(BODY, sources).html) == [
        "《中华人民共和国民法典》第一百八十八条，2021年1月1日起施行。网址："
        f'<a href="https://flk.npc.gov.cn/" rel="{EXTERNAL_REL}">flk.npc.gov.cn</a>'
    ]


def test_sources_go_into_the_references_section_only():
    body = "## 参考依据\n\n见下列文件。\n\n## 附录\n\n- 不是来源\n"
    html = render(body, [{"title": "某规定"}]).html
    head, appendix = html.split('id="附录"')
    assert "<ul>\n<li>某规定</li>\n</ul>" in head
    assert "某规定" not in appendix
    ordered = render("## 参考依据\n\n1. 甲规定\n", [{"title": "乙规定"}]).html
    assert "<ol>\n<li>甲规定</li>\n<li>乙规定</li>\n</ol>" in ordered


def test_a_source_title_is_text_not_markdown():
    html = render(BODY, [{"title": "**粗** [x](javascript:alert(1)) <b>"}]).html
    assert "**粗** [x](javascript:alert(1)) &lt;b&gt;" in html
    assert_safe(html)


@pytest.mark.parametrize(
    ("source", "entry", "same"),
    [
        ("《民法典》第188条", "《中华人民共和国民法典》第一百八十八条，第一百九十二条", True),
        ("《民法典》第188条、第195条", "《中华人民共和国民法典》第一百八十八条", False),
        ("《民法典》", "《征信业管理条例》", False),
        ("《刑法》第二百九十三条之一", "《中华人民共和国刑法》第二百九十三条", False),
        ("征信中心声明（“征信修复”）", "征信中心声明（2024年10月29日）", True),
        ("甲通知；乙提示", "甲通知（2020年）；乙提示（2021年）", True),
        ("甲通知；丙提示", "甲通知（2020年）；乙提示（2021年）", False),
    ],
)  # fmt: skip
def test_names_same_source(source, entry, same):
    assert names_same_source(source, entry) is same
