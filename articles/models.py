"""Rights-and-rules articles, loaded from Markdown files by `sync_articles`.

The files under articles/content/ are the source of truth; these tables are a
rendered, queryable copy. Query logic lives on ArticleQuerySet so the pages,
the feed, the sitemap, the API and the site search all ask the same questions.
"""

import random

from django.db import models
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from portal.links import reverse_one

# The byline of the site's own articles (articles.loading's default).
SITE_BYLINE = gettext_noop("本站编辑部")


class Category(models.Model):
    slug = models.SlugField(_("地址名"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.TextField(_("说明"), blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    # What /en/ pages show (portal.i18n); empty: the Chinese, marked as such.
    name_en = models.CharField(_("英文名称"), max_length=50, blank=True)
    description_en = models.TextField(_("英文说明"), blank=True)

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("文章分类")
        verbose_name_plural = _("文章分类")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_one("articles:category", "slug", self.slug)


class Tag(models.Model):
    # Pinyin of the name (催收规则 → cui-shou-gui-ze), derived by articles.loading.
    slug = models.SlugField(_("地址名"), max_length=100, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_one("articles:tag", "slug", self.slug)


# Newest first. The slug breaks ties between articles published on the same
# day, so every list, page of the API and previous/next link is stable.
NEWEST_FIRST = ("-published_on", "-slug")
OLDEST_FIRST = ("published_on", "slug")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def in_category(self, category):
        """A Category or its slug."""
        if isinstance(category, Category):
            return self.filter(category=category)
        return self.filter(category__slug=category)

    def tagged(self, tag):
        """A Tag or its slug."""
        if isinstance(tag, Tag):
            return self.filter(tags=tag)
        return self.filter(tags__slug=tag)

    def matching(self, text: str):
        """Case-insensitive substring match on title, summary and body (the site search)."""
        # PostgreSQL rejects NUL characters in query parameters with an error,
        # so a crafted ?q= would otherwise turn into a 500 on the search page.
        needle = (text or "").replace("\x00", "").strip()
        if not needle:
            return self.none()
        return self.filter(
            Q(title__icontains=needle) | Q(summary__icontains=needle) | Q(body__icontains=needle)
        )

    def latest(self, *fields):
        """Newest first. With field names, Django's own `latest()` (one object).

        The portal's code says `Article.objects.published().latest()[:5]`; keeping
        Django's contract when fields are given means nothing that relies on the
        built-in method breaks.
        """
        if fields:
            return super().latest(*fields)
        return self.order_by(*NEWEST_FIRST)

    def before(self, article):
        """Articles that come before `article` in publication order, nearest first."""
        return self.filter(
            Q(published_on__lt=article.published_on)
            | Q(published_on=article.published_on, slug__lt=article.slug)
        ).order_by(*NEWEST_FIRST)

    def after(self, article):
        """Articles that come after `article` in publication order, nearest first."""
        return self.filter(
            Q(published_on__gt=article.published_on)
            | Q(published_on=article.published_on, slug__gt=article.slug)
        ).order_by(*OLDEST_FIRST)

    def related_to(self, article):
        """Other articles sharing tags or the category, most shared tags first.

        Uses `article.tags.all()`, so a prefetched article costs no extra query.
        """
        tag_ids = [tag.pk for tag in article.tags.all()]
        return (
            self.exclude(pk=article.pk)
            .annotate(
                shared_tags=Count("tags", filter=Q(tags__in=tag_ids), distinct=True),
                same_category=Case(
                    When(category_id=article.category_id, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
            )
            .filter(Q(shared_tags__gt=0) | Q(same_category=1))
            .order_by("-shared_tags", "-same_category", *NEWEST_FIRST)
        )

    def random_pick(self, n: int, seed: str):
        """`n` articles chosen by a seeded shuffle: the same seed gives the same pick.

        "随机看看" must not change per request: pages have to be identical for
        every visitor so they can be cached. Callers pass a seed such as the
        article's slug plus today's date. Two queries: the candidate keys, then
        the chosen rows in the shuffled order.
        """
        keys = list(self.order_by("pk").values_list("pk", flat=True))
        chosen = random.Random(seed).sample(keys, min(n, len(keys)))
        if not chosen:
            return self.none()
        position = Case(
            *(When(pk=pk, then=Value(i)) for i, pk in enumerate(chosen)),
            output_field=IntegerField(),
        )
        return self.filter(pk__in=chosen).order_by(position)

    def for_listing(self):
        """What a list row shows, in a fixed number of queries, without the big text columns."""
        return (
            self.select_related("category")
            .prefetch_related("tags")
            .defer("body", "body_html", "toc")
        )

    def for_detail(self):
        """The article page and API detail: everything but the Markdown source."""
        return self.select_related("category").prefetch_related("tags").defer("body")


class Article(models.Model):
    slug = models.SlugField(_("地址名"), max_length=100, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.TextField(_("摘要"))
    # The text is Chinese only; /en/ pages show these where they exist.
    title_en = models.CharField(_("英文标题"), max_length=200, blank=True)
    summary_en = models.TextField(_("英文摘要"), blank=True)
    body = models.TextField(_("正文（Markdown）"))
    # Rendered and sanitized once by `sync_articles`; may hold live-figure
    # markers that articles.rendering.fill_live_stats() fills per request.
    body_html = models.TextField(_("正文（HTML）"))
    toc = models.JSONField(_("目录"), default=list, blank=True)  # [{level, id, text}]
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="articles", verbose_name=_("分类")
    )
    tags = models.ManyToManyField(Tag, related_name="articles", blank=True, verbose_name=_("标签"))
    byline = models.CharField(_("署名"), max_length=100)
    published_on = models.DateField(_("发布日期"))
    updated_on = models.DateField(_("更新日期"))
    reading_minutes = models.PositiveSmallIntegerField(_("阅读时间（分钟）"), default=1)
    sources = models.JSONField(_("参考依据"), default=list, blank=True)  # [{title, date, url}]
    is_published = models.BooleanField(
        _("已发布"), default=True, help_text=_("源文件被删除后，文章下线而不删除。")
    )
    source_path = models.CharField(_("源文件"), max_length=300, blank=True)
    # sha256 of the source file plus the renderer version: equal hash, no write.
    content_hash = models.CharField(_("内容指纹"), max_length=64, blank=True)
    synced_at = models.DateTimeField(_("同步时间"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = list(NEWEST_FIRST)
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        indexes = [
            # /articles/, the feed and the API: published articles, newest first.
            models.Index(
                fields=["is_published", "-published_on", "-slug"], name="article_published"
            ),
            # Category pages and previous/next within a category.
            models.Index(fields=["category", "published_on", "slug"], name="article_category"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse_one("articles:detail", "slug", self.slug)

    @property
    def was_updated(self) -> bool:
        return self.updated_on > self.published_on

    @property
    def byline_en(self) -> str:
        """The site's own byline in the page's language (the catalogue's "Site editors" on
        /en/, for portal.i18n.localized_text); any other byline is a name, kept as written."""
        return gettext(SITE_BYLINE) if self.byline == SITE_BYLINE else ""
