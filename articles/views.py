"""Article pages. Every page is the same for every visitor (no cookies, no
per-request randomness), so a shared cache or CDN can keep it."""

from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView

from portal.i18n import localized_text
from portal.links import absolute_url
from portal.paging import ForgivingPageMixin

from . import seo
from .models import Article, Category, Tag
from .rendering import fill_live_stats

RELATED_COUNT = 4
LATEST_COUNT = 5
RANDOM_COUNT = 3


def home_crumbs() -> list[tuple[str, str]]:
    """(name, path) pairs; the JSON-LD copy makes them absolute."""
    return [(_("首页"), reverse("agencies:home")), (_("权利与规则"), reverse("articles:index"))]


class ArticleListMixin(ForgivingPageMixin):
    """Shared by the three list pages: paging that never fails, canonical URL, breadcrumbs."""

    paginate_by = 12
    context_object_name = "articles"

    def get_crumbs(self) -> list[tuple[str, str]]:
        return home_crumbs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        path = self.request.path
        if page.number > 1:
            path += f"?page={page.number}"
        crumbs = self.get_crumbs()
        context.update(
            canonical_url=absolute_url(self.request, path),
            breadcrumbs=crumbs,
            ld_breadcrumbs=seo.breadcrumb_data(self.request, crumbs),
        )
        return context


class ArticleListView(ArticleListMixin, ListView):
    template_name = "articles/article_list.html"

    def get_queryset(self):
        return Article.objects.published().for_listing().latest()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["categories"] = Category.objects.annotate(
            article_count=Count("articles", filter=Q(articles__is_published=True))
        )
        return context


class CategoryView(ArticleListMixin, ListView):
    template_name = "articles/category_detail.html"

    def get_queryset(self):
        self.category = Category.objects.filter(slug=self.kwargs["slug"]).first()
        if self.category is None:
            raise Http404(_("没有这个文章分类。"))
        return Article.objects.published().in_category(self.category).for_listing().latest()

    def get_crumbs(self):
        return [
            *home_crumbs(),
            (localized_text(self.category, "name"), self.category.get_absolute_url()),
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(category=self.category, **kwargs)


class TagView(ArticleListMixin, ListView):
    template_name = "articles/tag_detail.html"

    def get_queryset(self):
        self.tag = Tag.objects.filter(slug=self.kwargs["slug"]).first()
        if self.tag is None:
            raise Http404(_("没有这个标签。"))
        return Article.objects.published().tagged(self.tag).for_listing().latest()

    def get_crumbs(self):
        name = _("标签：%(name)s") % {"name": self.tag.name}
        return [*home_crumbs(), (name, self.tag.get_absolute_url())]

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, **kwargs)


def nest_toc(toc: list[dict]) -> list[dict]:
    """Flat h2/h3 entries → h2 entries, each holding the h3 entries that follow it."""
    nested: list[dict] = []
    for entry in toc:
        if entry["level"] == 3 and nested:
            nested[-1]["children"].append(entry)
        else:
            nested.append({**entry, "children": []})
    return nested


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_object(self, queryset=None):
        article = Article.objects.published().for_detail().filter(slug=self.kwargs["slug"]).first()
        if article is None:
            raise Http404(_("没有找到这篇文章。它可能已经下线，或者链接有误。"))
        return article

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        article = self.object
        published = Article.objects.published()
        in_category = published.in_category(article.category)
        today = timezone.localdate(timezone=ZoneInfo("Asia/Shanghai"))
        url = absolute_url(self.request, article.get_absolute_url())
        crumbs = [
            *home_crumbs(),
            (localized_text(article.category, "name"), article.category.get_absolute_url()),
            (localized_text(article, "title"), article.get_absolute_url()),
        ]
        context.update(
            body=mark_safe(fill_live_stats(article.body_html)),  # sanitized at sync time
            toc=nest_toc(article.toc),
            previous_article=in_category.before(article).only("slug", "title", "title_en").first(),
            next_article=in_category.after(article).only("slug", "title", "title_en").first(),
            related_articles=published.related_to(article).only("slug", "title", "title_en")[
                :RELATED_COUNT
            ],
            latest_articles=published.exclude(pk=article.pk)
            .latest()
            .only("slug", "title", "title_en", "published_on")[:LATEST_COUNT],
            # Seeded by article and day: varied across the site, identical for every visitor.
            random_articles=published.exclude(pk=article.pk)
            .random_pick(RANDOM_COUNT, seed=f"{article.slug}:{today.isoformat()}")
            .only("slug", "title", "title_en"),
            canonical_url=url,
            breadcrumbs=crumbs,
            ld_breadcrumbs=seo.breadcrumb_data(self.request, crumbs),
            ld_article=seo.article_data(article, url),
        )
        return context
