"""Absolute URLs, canonical links and schema.org data for article pages, the feed and sitemaps."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portal.links import absolute_url

# The same escapes as Django's json_script: "</script>" or "<!--" inside a
# string value can then never end or confuse the data block.
_JSON_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_ld(data) -> SafeString:
    """A `<script type="application/ld+json">` data block, escaped like json_script.

    Browsers never execute a data block, so it is allowed under script-src 'self'.
    """
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


def breadcrumb_data(request, crumbs: list[tuple[str, str]]) -> dict:
    """crumbs: (name, path) pairs, home first."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": absolute_url(request, path)}
            for i, (name, path) in enumerate(crumbs, start=1)
        ],
    }


def article_data(article, url: str) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title[:110],  # search engines cut headlines at 110 characters
        "description": article.summary,
        "inLanguage": "zh-Hans",
        "datePublished": article.published_on.isoformat(),
        "dateModified": article.updated_on.isoformat(),
        "author": {"@type": "Organization", "name": article.byline},
        "publisher": {"@type": "Organization", "name": _("催收查询")},
        "mainEntityOfPage": url,
        "url": url,
        "articleSection": article.category.name,
        "keywords": [tag.name for tag in article.tags.all()],
        "citation": [
            {"@type": "CreativeWork", "name": source["title"], **_source_url(source)}
            for source in article.sources
        ],
    }
    return data


def _source_url(source: dict) -> dict:
    return {"url": source["url"]} if source.get("url") else {}
