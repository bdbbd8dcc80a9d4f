"""Staff-only admin: the one place besides the import commands where data is edited.

Every edit to an existing agency is a correction and goes into its history
(models.AgencyChange) with the editor's note as the source of the new value;
the note is therefore required. Numbers on the suppression list cannot be
added back here (docs/corrections.md).
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import history, suppression
from .enums import ChangeVia
from .models import (
    Agency,
    AgencyChange,
    AgencyName,
    AgencyPhone,
    Client,
    Phone,
    Province,
    RegulatoryAction,
    SuppressedPhone,
)
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


def _item_text(obj) -> tuple[str, str]:
    """(history field, value) for one row of an inline, as an import would record it."""
    if isinstance(obj, AgencyName):
        return history.NAME_FIELDS[obj.kind].value, obj.name
    if isinstance(obj, AgencyPhone):
        return "phones", obj.phone.key
    if isinstance(obj, Client):
        return "clients", obj.name
    return "actions", history.action_text(
        obj.kind, obj.authority, obj.decided_on, obj.document_number
    )


class AgencyAdminForm(forms.ModelForm):
    change_note = forms.CharField(
        label=_("更正说明"),
        required=False,
        max_length=AgencyChange._meta.get_field("source").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "为什么改、依据什么（如“据机构 2026年12月1日 来函及营业执照更正”）。"
            "会作为这次更正的来源公开显示在机构页面的变更记录里；不要写个人信息。"
        ),
    )

    class Meta:
        model = Agency
        fields = [
            "uscc",
            "name",
            "entity_type",
            "legal_representative",
            "registered_capital",
            "registered_capital_wan",
            "established_on",
            "status",
            "registration_authority",
            "address",
            "province",
            "city",
            "business_scope",
            "source",
            "source_url",
            "retrieved_on",
            "is_sample",
        ]

    def clean_change_note(self):
        note = self.cleaned_data["change_note"].strip()
        if self.instance.pk and not note:
            raise forms.ValidationError(_("更正已有记录时必须填写更正说明。"))
        return note


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyAdminForm
    list_display = ["name", "uscc", "province", "city", "status", "is_sample", "updated_at"]
    list_filter = ["status", "is_sample", "province"]
    search_fields = ["uscc", "name"]
    list_select_related = ["province"]
    autocomplete_fields = ["province"]
    inlines = [AgencyNameInline, AgencyPhoneInline, ClientInline, RegulatoryActionInline]

    def save_model(self, request, obj, form, change):
        # The stored values, read before the save overwrites them.
        before = Agency.objects.filter(pk=obj.pk).values().first() if change else None
        super().save_model(request, obj, form, change)
        form.history_entries = []
        if before is not None:
            names = dict(Province.objects.values_list("code", "name"))
            for attname, field in history.TRACKED_ATTNAMES.items():
                old = history.value_text(attname, before[attname], names)
                new = history.value_text(attname, getattr(obj, attname), names)
                if old != new:
                    form.history_entries.append((field.value, old, new))

    def save_formset(self, request, form, formset, change):
        old_texts = {}
        if change:
            # What changed rows said before they are saved, in one query.
            changed = [f.instance.pk for f in formset.initial_forms if f.has_changed()]
            stored = formset.model.objects.in_bulk([pk for pk in changed if pk])
            old_texts = {pk: _item_text(row) for pk, row in stored.items()}
        super().save_formset(request, form, formset, change)
        if not change:
            return
        entries = form.history_entries
        for obj in formset.new_objects:
            field, value = _item_text(obj)
            entries.append((field, "", value))
        for obj in formset.deleted_objects:
            field, value = _item_text(obj)
            entries.append((field, value, ""))
        for obj, _fields in formset.changed_objects:
            field, value = _item_text(obj)
            old_field, old = old_texts.get(obj.pk, (field, ""))
            # A name moved from former name to alias is a change too: compare both.
            if (old_field, old) != (field, value):
                entries.append((old_field, old, ""))
                entries.append((field, "", value))

    def save_related(self, request, form, formsets, change):
        # Names and aliases arrive through the inlines, so the search index is
        # refreshed only once they are saved.
        super().save_related(request, form, formsets, change)
        search_index.refresh([form.instance.pk])
        now = timezone.now()
        AgencyChange.objects.bulk_create(
            AgencyChange(
                agency=form.instance,
                field=field,
                old_value=old,
                new_value=new,
                changed_at=now,
                via=ChangeVia.ADMIN,
                source=form.cleaned_data["change_note"],
                editor=request.user.get_username(),
            )
            for field, old, new in getattr(form, "history_entries", [])
        )


@admin.register(AgencyChange)
class AgencyChangeAdmin(admin.ModelAdmin):
    """The history, for reading: entries are written by imports and corrections only."""

    list_display = ["agency", "field", "old_value", "new_value", "changed_at", "via", "editor"]
    list_filter = ["via", "field"]
    search_fields = ["agency__uscc", "agency__name"]
    list_select_related = ["agency"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SuppressedPhoneForm(forms.ModelForm):
    number = forms.CharField(label=_("号码"), help_text=_("任意写法，如 0731-84521234。"))

    class Meta:
        model = SuppressedPhone
        fields = ["reason"]

    def clean_number(self):
        try:
            key = suppression.number_key(self.cleaned_data["number"])
        except suppression.SuppressionError as error:
            raise forms.ValidationError(error.message) from None
        if SuppressedPhone.objects.covers(key):
            raise forms.ValidationError(_("这个号码已在屏蔽名单上。"))
        return key


@admin.register(SuppressedPhone)
class SuppressedPhoneAdmin(admin.ModelAdmin):
    """Who asked, when and why; adding one hides the number, deleting one lifts it."""

    list_display = ["key", "requested_by", "created_at", "reason"]
    search_fields = ["key"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressedPhoneForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["number", "reason"]
        return ["key", "reason", "requested_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["key", "reason", "requested_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        # The form has checked the number and the reason; this does the rest.
        entry, agencies = suppression.suppress(
            form.cleaned_data["number"],
            reason=form.cleaned_data["reason"],
            by=request.user.get_username(),
        )
        obj.pk, obj.key = entry.pk, entry.key
        self.message_user(
            request, _("已屏蔽，从 %(n)d 家机构的记录中去掉。") % {"n": agencies}, messages.SUCCESS
        )

    def delete_model(self, request, obj):
        suppression.unsuppress(obj.key)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            suppression.unsuppress(entry.key)


class PhoneAdminForm(forms.ModelForm):
    class Meta:
        model = Phone
        fields = ["key", "kind"]

    def clean_key(self):
        key = self.cleaned_data["key"]
        if SuppressedPhone.objects.covers(key):
            raise forms.ValidationError(_("这个号码在屏蔽名单上，不能再加入名录。"))
        return key


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "slug"]
    search_fields = ["name", "short_name", "slug", "code"]


@admin.register(Phone)
class PhoneAdmin(admin.ModelAdmin):
    form = PhoneAdminForm
    list_display = ["key", "kind"]
    list_filter = ["kind"]
    search_fields = ["key"]
