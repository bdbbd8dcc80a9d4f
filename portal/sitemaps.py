"""Sitemaps and robots.txt.

/sitemap.xml is an index pointing at one sitemap per section
(/sitemap-<section>.xml); the agency section is split into pages of
AgencySitemap.limit URLs, listed in the index as ?p=2, ?p=3 and so on.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies.figures import directory_figures
from agencies.models import Agency, Province
from articles import seo
from articles.models import Article, Category, Tag
from portal.paging import CountedRows


class PortalSitemap(Sitemap):
    """Every page in every language, each with its hreflang alternates (portal.i18n).

    Uses PORTAL_BASE_URL's scheme and host when set, instead of the request's.
    """

    i18n = True
    alternates = True
    x_default = True

    def get_protocol(self, protocol=None):
        if settings.PORTAL_BASE_URL:
            return urlsplit(settings.PORTAL_BASE_URL).scheme
        return super().get_protocol(protocol)

    def get_domain(self, site=None):
        if settings.PORTAL_BASE_URL:
            return urlsplit(settings.PORTAL_BASE_URL).netloc
        return super().get_domain(site)


class PagesSitemap(PortalSitemap):
    def items(self):
        return [
            "agencies:home",
            "agencies:province-list",
            "articles:index",
            "agencies:about-data",
            "privacy",
        ]

    def location(self, item):
        return reverse(item)


class ArticleSitemap(PortalSitemap):
    def items(self):
        return Article.objects.published().only("slug", "updated_on").order_by("slug")

    def lastmod(self, article):
        return article.updated_on


class ArticleListSitemap(PortalSitemap):
    """Category and tag pages that have at least one published article."""

    def items(self):
        categories = Category.objects.filter(articles__is_published=True).distinct()
        tags = Tag.objects.filter(articles__is_published=True).distinct().order_by("slug")
        return [*categories, *tags]


class ProvinceSitemap(PortalSitemap):
    def items(self):
        return Province.objects.all()


class AgencySitemap(PortalSitemap):
    # Far below the protocol's 50,000 so each page stays small and quick to build.
    limit = 5000

    def items(self):
        return Agency.objects.order_by("uscc").only("uscc", "updated_at")

    @property
    def paginator(self):
        # The total from the figures, not a COUNT over the agency table; one
        # entry per agency and language (Sitemap.i18n), fetched a page at a time.
        items = self.items()
        languages = self._languages()
        total = directory_figures()["agencies"] * len(languages)

        def entries(offset, limit):
            first, skip = divmod(offset, len(languages))
            agencies = items[first : first + -(-(skip + limit) // len(languages))]
            pairs = [(agency, code) for agency in agencies for code in languages]
            return pairs[skip : skip + limit]

        return Paginator(CountedRows(total, entries), self.limit)

    def lastmod(self, agency):
        return agency.updated_at

    def get_latest_lastmod(self):
        # The default walks every item; one aggregate is enough for the index.
        return Agency.objects.aggregate(latest=Max("updated_at"))["latest"]


SITEMAPS = {
    "pages": PagesSitemap,
    "articles": ArticleSitemap,
    "topics": ArticleListSitemap,
    "provinces": ProvinceSitemap,
    "agencies": AgencySitemap,
}


@require_safe
def sitemap_index(request):
    response = sitemap_views.index(
        request, sitemaps=SITEMAPS, sitemap_url_name="discovery:sitemap-section"
    )
    if settings.PORTAL_BASE_URL:
        # Django's index view builds section URLs from the request's host only.
        own = f"{request.scheme}://{request.get_host()}"
        for item in response.context_data["sitemaps"]:
            item.location = settings.PORTAL_BASE_URL + item.location.removeprefix(own)
    return response


@require_safe
def sitemap_section(request, section):
    if section not in SITEMAPS:
        raise Http404(_("没有这个站点地图分区。"))
    return sitemap_views.sitemap(request, sitemaps=SITEMAPS, section=section)


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        # Search results are endless combinations of the same records, which
        # the agency, province and article pages already expose.
        "Disallow: /search/",
        # …in every language (portal.i18n).
        *(
            f"Disallow: /{code}/search/"
            for code, _name in settings.LANGUAGES
            if code != settings.LANGUAGE_CODE
        ),
        "",
        f"Sitemap: {seo.absolute_url(request, reverse('discovery:sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
