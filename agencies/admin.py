"""Staff-only admin: the one place besides the import commands where data is edited."""

from django.contrib import admin

from .models import Agency, AgencyName, AgencyPhone, Client, Phone, Province, RegulatoryAction
from .search import index as search_index


class AgencyNameInline(admin.TabularInline):
    model = AgencyName
    extra = 0


class AgencyPhoneInline(admin.TabularInline):
    model = AgencyPhone
    extra = 0
    autocomplete_fields = ["phone"]


class ClientInline(admin.TabularInline):
    model = Client
    extra = 0


class RegulatoryActionInline(admin.StackedInline):
    model = RegulatoryAction
    extra = 0


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "province", "city", "status", "is_sample", "updated_at"]
    list_filter = ["status", "is_sample", "province"]
    search_fields = ["uscc", "name"]
    list_select_related = ["province"]
    autocomplete_fields = ["province"]
    inlines = [AgencyNameInline, AgencyPhoneInline, ClientInline, RegulatoryActionInline]

    def save_related(self, request, form, formsets, change):
        # Names and aliases arrive through the inlines, so the search index is
        # refreshed only once they are saved.
        super().save_related(request, form, formsets, change)
        search_index.refresh([form.instance.pk])


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "slug"]
    search_fields = ["name", "short_name", "slug", "code"]


@admin.register(Phone)
class PhoneAdmin(admin.ModelAdmin):
    list_display = ["key", "kind"]
    list_filter = ["kind"]
    search_fields = ["key"]
