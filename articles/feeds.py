"""Atom feed of the newest articles, /articles/feed/."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from .models import Article

FEED_SIZE = 20
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _midnight(day: datetime.date) -> datetime.datetime:
    # Articles carry dates only; Atom wants instants. Midnight in China is
    # what "published 2026-11-28" means to the people who wrote it.
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=SHANGHAI)


def _absolute(path: str) -> str:
    # Without PORTAL_BASE_URL this stays a path and the syndication framework
    # prefixes the request's host.
    return settings.PORTAL_BASE_URL + path


class LatestArticlesFeed(Feed):
    feed_type = Atom1Feed
    title = _("催收查询 · 权利与规则")
    subtitle = _(
        "催收规则、借款人权利与维权方法，每篇都注明来源。本站内容是一般性信息，不构成法律意见。"
    )
    author_name = _("本站编辑部")
    language = "zh-Hans"

    def link(self):
        return _absolute(reverse("articles:index"))

    def feed_url(self):
        return _absolute(reverse("articles:feed"))

    def items(self):
        return Article.objects.published().for_listing().latest()[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return _absolute(item.get_absolute_url())

    def item_pubdate(self, item):
        return _midnight(item.published_on)

    def item_updateddate(self, item):
        return _midnight(item.updated_on)

    def item_author_name(self, item):
        return item.byline

    def item_categories(self, item):
        return [item.category.name, *(tag.name for tag in item.tags.all())]
