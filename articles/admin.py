"""Articles are edited as files in articles/content/ and loaded by sync_articles.

The admin only shows them: an edit here would be overwritten (or missed) by
the next sync, so every field is read-only and adding or deleting is off.
"""

from django.contrib import admin

from .models import Article, Category, Tag


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["title", "slug", "category", "is_published", "updated_on", "synced_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["title", "slug", "summary"]
    list_select_related = ["category"]


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "order"]


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug"]
