"""Markdown → safe HTML, table of contents and reading time, done once at sync time.

Two layers keep article HTML safe, so a mistake in one is caught by the other:

1. markdown-it runs with raw HTML switched off. Authors write Markdown only;
   anything that looks like a tag is shown as text, and markdown-it already
   refuses `javascript:`, `vbscript:`, `file:` and `data:` link targets.
2. nh3 then keeps only a short list of tags and attributes and only http(s),
   mailto and tel links, whatever the first layer let through.

The front matter's `sources` are merged into the body's 参考依据 list
(`merge_sources()`), so a page has one list of sources: each source the body
does not already list is added to it, and a duplicate only adds its address.

Live figures (the `[[stats:province=43]]` paragraph) are turned into a marker
element that nh3 would strip from author input, so only this module can emit
one; the view fills it in with `fill_live_stats()` on each request.
"""

import hashlib
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin

from agencies.models import Province

from .citations import names_same_source

# Bump when the output of render() changes: sync_articles compares hashes that
# include this, so every article is re-rendered once on the next sync.
RENDERER_VERSION = "2"  # 2: front-matter sources merged into 参考依据

# Chinese prose is read at roughly 400 characters a minute.
CHARS_PER_MINUTE = 400

EXTERNAL_REL = "nofollow noopener noreferrer"

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    "sup", "section",  # footnotes
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},  # id: a footnote reference, the footnote links back to it
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "ol": {"start"},
    "li": {"id"},  # a footnote
}
# Table column alignment, moved from style="" (not allowed) to these classes;
# nh3 allows `class` through allowed_classes only, never free-form.
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
# What markdown-it's footnote plugin marks its parts with.
FOOTNOTE_CLASSES = {
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

STATS_PARAGRAPH = re.compile(r"<p>\[\[stats:province=(\d{2})\]\]</p>")
STATS_ANY = re.compile(r"\[\[stats:([^\]]*)\]\]")
STATS_SOURCE = re.compile(r"^province=(\d{2})$")
# Emitted after sanitizing; nh3 strips data-* attributes, so authors cannot forge it.
STATS_MARKER = '<p class="live-stat" data-live-stat="province:{code}"></p>'
STATS_MARKER_RE = re.compile(r'<p class="live-stat" data-live-stat="province:(\d{2})"></p>')

REFERENCES_TITLE = "参考依据"

CJK_OR_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+(?:[.'-][A-Za-z0-9]+)*")


@dataclass
class Rendered:
    html: str
    toc: list[dict]
    reading_minutes: int
    stats_codes: list[str]


def heading_slug(text: str) -> str:
    """An id for a heading that keeps Chinese characters: "谁在管催收？" → "谁在管催收".

    Browsers accept any non-space characters in ids and URL fragments, and a
    readable Chinese fragment is easier to share than a pinyin transliteration.
    """
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    slug = re.sub(r"[\s_]+", "-", slug).strip("-")
    return slug or "section"


def _table_alignment_to_class(state) -> None:
    """markdown-it aligns table cells with style="text-align:…"; CSP and nh3 both forbid style."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style") or ""
            if style.startswith("text-align:"):
                token.attrs.pop("style", None)
                token.attrSet("class", "align-" + style.removeprefix("text-align:"))


def _is_external(href: str) -> bool:
    parts = urlsplit(href)
    if not parts.netloc:
        return False
    own = urlsplit(settings.PORTAL_BASE_URL).netloc if settings.PORTAL_BASE_URL else ""
    return parts.netloc.lower() != own.lower()


def _footnote_caption(self, tokens, idx, options, env) -> str:
    """[1] for every reference to footnote 1; the plugin's own says [1:1] for the second."""
    return f"[{tokens[idx].meta['id'] + 1}]"


def _make_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable("table")
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=heading_slug)
    # Version notes and other detail a reader rarely needs: "[^1]" in the text,
    # "[^1]: …" anywhere in the file; the notes come after the body's last section.
    md.use(footnote_plugin, inline=False)
    md.add_render_rule("footnote_caption", _footnote_caption)
    md.core.ruler.push("table_alignment", _table_alignment_to_class)
    return md


_md = _make_markdown()


def _collect_text(token: Token) -> str:
    return "".join(
        child.content for child in token.children or [] if child.type in ("text", "code_inline")
    )


def _toc(tokens: list[Token]) -> list[dict]:
    entries = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            entries.append(
                {
                    "level": int(token.tag[1]),
                    "id": token.attrGet("id"),
                    "text": _collect_text(tokens[i + 1]),
                }
            )
    return entries


def reading_minutes(tokens: list[Token]) -> int:
    """Each Chinese character, and each run of Latin letters or digits, counts as one unit."""
    units = sum(
        len(CJK_OR_WORD.findall(_collect_text(token))) for token in tokens if token.type == "inline"
    )
    return max(1, math.ceil(units / CHARS_PER_MINUTE))


def _add_external_rel(tokens: list[Token]) -> None:
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open" and _is_external(str(child.attrGet("href") or "")):
                child.attrSet("rel", EXTERNAL_REL)


def _inline_text(tokens: list[Token], start: int, end: int) -> str:
    return "".join(_collect_text(t) for t in tokens[start:end] if t.type == "inline")


def _source_date(value: str) -> str:
    """2026 → 2026年, 2026-01 → 2026年1月, 2026-01-05 → 2026年1月5日."""
    parts = [int(part) for part in value.split("-")]
    return "".join(f"{n}{unit}" for n, unit in zip(parts, "年月日", strict=False))


def _link(url: str, text: str) -> list[Token]:
    return [
        Token("link_open", "a", 1, attrs={"href": url}),
        Token("text", "", 0, content=text),
        Token("link_close", "a", -1),
    ]


def _source_item(source: dict, level: int, tight: bool) -> list[Token]:
    """A list item for a source the body does not list: its title (linked), then its date."""
    title = source["title"]
    children = (
        _link(source["url"], title) if source.get("url") else [Token("text", "", 0, content=title)]
    )
    if source.get("date"):
        children.append(Token("text", "", 0, content=f"（{_source_date(source['date'])}）"))
    inline = Token("inline", "", 0, children=children, content=title, level=level + 2, block=True)
    return [
        Token("list_item_open", "li", 1, level=level + 1, block=True, markup="-"),
        Token("paragraph_open", "p", 1, level=level + 2, block=True, hidden=tight),
        inline,
        Token("paragraph_close", "p", -1, level=level + 2, block=True, hidden=tight),
        Token("list_item_close", "li", -1, level=level + 1, block=True, markup="-"),
    ]


def _references_section(tokens: list[Token]) -> tuple[int, int] | None:
    """(first token after the 参考依据 heading, first token of the next h2 or the end)."""
    for i, token in enumerate(tokens):
        if (
            token.type == "heading_open"
            and token.tag == "h2"
            and _collect_text(tokens[i + 1]).strip() == REFERENCES_TITLE
        ):
            end = next(
                (
                    j
                    for j in range(i + 3, len(tokens))
                    if tokens[j].type == "heading_open" and tokens[j].tag == "h2"
                ),
                len(tokens),
            )
            return i + 3, end
    return None


def merge_sources(tokens: list[Token], sources: list[dict]) -> None:
    """Add the front matter's sources to the body's 参考依据 list, each source once.

    A source that an entry of the list already names (the same 《document》 and
    articles, or the same words: articles.citations.names_same_source) is not
    repeated; its address, if the entry has none, is added to that entry as
    a link. The others become new entries at the end of the list (or of a new
    list, if the section has none). Sync refuses a body without the section.
    """
    section = _references_section(tokens)
    if section is None or not sources:
        return
    start, end = section
    list_open = next(
        (
            i
            for i in range(start, end)
            if tokens[i].type in ("bullet_list_open", "ordered_list_open") and tokens[i].level == 0
        ),
        None,
    )
    if list_open is None:
        tight, level, insert_at = True, 0, end
        wrapper = (
            Token("bullet_list_open", "ul", 1, block=True, markup="-"),
            Token("bullet_list_close", "ul", -1, block=True, markup="-"),
        )
    else:
        close_type = tokens[list_open].type.replace("_open", "_close")
        insert_at = next(
            i
            for i in range(list_open + 1, len(tokens))
            if tokens[i].type == close_type and tokens[i].level == 0
        )
        tight = any(t.type == "paragraph_open" and t.hidden for t in tokens[list_open:insert_at])
        level, wrapper = 0, None
    # (the item's text, its first inline token, the addresses it already links to)
    items = []
    if list_open is not None:
        for i in range(list_open + 1, insert_at):
            if tokens[i].type == "list_item_open" and tokens[i].level == 1:
                close = next(
                    j
                    for j in range(i + 1, insert_at)
                    if tokens[j].type == "list_item_close" and tokens[j].level == 1
                )
                inline = next((t for t in tokens[i:close] if t.type == "inline"), None)
                links = {
                    str(child.attrGet("href"))
                    for t in tokens[i:close]
                    if t.type == "inline"
                    for child in t.children or []
                    if child.type == "link_open"
                }
                items.append((_inline_text(tokens, i, close), inline, links))
    added: list[Token] = []
    for source in sources:
        entry = next((item for item in items if names_same_source(source["title"], item[0])), None)
        if entry is None:
            item = _source_item(source, level, tight)
            added += item
            links = {source["url"]} if source.get("url") else set()
            items.append((source["title"], item[2], links))  # item[2]: its inline token
            continue
        text, inline, links = entry
        url = source.get("url")
        if url and url not in links and inline is not None:
            label = "网址：" if text.rstrip().endswith("。") else "。网址："
            inline.children = [
                *(inline.children or []),
                Token("text", "", 0, content=label),
                *_link(url, urlsplit(url).netloc),
            ]
            links.add(url)
    if added and wrapper:
        added = [wrapper[0], *added, wrapper[1]]
    tokens[insert_at:insert_at] = added


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        # rel is managed here rather than by nh3, which would put it on every link,
        # internal ones included; it may only carry the exact value set above.
        tag_attribute_values={"a": {"rel": {EXTERNAL_REL}}},
        link_rel=None,
        url_schemes=URL_SCHEMES,
        allowed_classes={"th": ALIGN_CLASSES, "td": ALIGN_CLASSES, **FOOTNOTE_CLASSES},
        strip_comments=True,
    )


def render(markdown_text: str, sources: list[dict] | None = None) -> Rendered:
    """The body as safe HTML; `sources` (the front matter's) are merged into 参考依据."""
    env: dict = {}
    tokens = _md.parse(markdown_text, env)
    merge_sources(tokens, sources or [])
    _add_external_rel(tokens)
    html = sanitize(_md.renderer.render(tokens, _md.options, env))
    stats_codes = STATS_PARAGRAPH.findall(html)
    html = STATS_PARAGRAPH.sub(lambda m: STATS_MARKER.format(code=m.group(1)), html)
    return Rendered(
        html=html,
        toc=_toc(tokens),
        reading_minutes=reading_minutes(tokens),
        stats_codes=stats_codes,
    )


def stats_problems(markdown_text: str, known_codes: set[str]) -> list[str]:
    """Why the live-figure markers in a body are wrong, in Chinese; empty when fine."""
    matches = list(STATS_ANY.finditer(markdown_text))
    if not matches:
        return []
    problems = []
    for match in matches:
        inner = STATS_SOURCE.match(match.group(1).strip())
        if not inner:
            problems.append(f"无法识别的统计标记 {match.group(0)}，应写作 [[stats:province=43]]")
        elif inner.group(1) not in known_codes:
            problems.append(f"统计标记里的省级代码 {inner.group(1)} 不存在")
    if not problems and STATS_ANY.search(render(markdown_text).html):
        problems.append("统计标记必须单独成段（前后各空一行）")
    return problems


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(RENDERER_VERSION.encode() + b"\0" + raw).hexdigest()


def format_chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def fill_live_stats(html: str) -> str:
    """Replace live-figure markers with today's numbers: one query, and only if there are any."""
    codes = set(STATS_MARKER_RE.findall(html))
    if not codes:
        return html
    provinces = {
        province.code: province
        for province in Province.objects.filter(code__in=codes).with_agency_counts()
    }
    today = format_chinese_date(timezone.localdate(timezone=ZoneInfo("Asia/Shanghai")))

    def replace(match):
        province = provinces.get(match.group(1))
        if province is None:
            return ""
        sentence = _("本站收录%(province)s机构 %(count)s 家（截至 %(date)s）") % {
            "province": format_html(
                '<a href="{}">{}</a>', province.get_absolute_url(), province.name
            ),
            "count": province.agency_count,
            "date": escape(today),
        }
        return f'<p class="live-stat">{sentence}</p>'

    return STATS_MARKER_RE.sub(replace, html)
