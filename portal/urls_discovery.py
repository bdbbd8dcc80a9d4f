"""Feeds, sitemap and robots.txt (built in the articles issue)."""

urlpatterns = []
