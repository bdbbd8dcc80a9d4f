"""Sitemaps and robots.txt. The Atom feed lives with the articles, at /articles/feed/."""

from django.urls import path

from . import sitemaps

app_name = "discovery"

urlpatterns = [
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap-section"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
]
