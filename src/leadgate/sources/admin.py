"""Django admin for the configuration, until the web UI exists."""

from django.contrib import admin

from leadgate.sources.models import (
    DomainList,
    Field,
    FieldDomainList,
    ListMapper,
    ListMapperEntry,
    Picklist,
    PicklistAlias,
    PicklistValue,
    Source,
    SuppressionList,
)


class PicklistValueInline(admin.TabularInline):
    model = PicklistValue
    extra = 1


class PicklistAliasInline(admin.TabularInline):
    model = PicklistAlias
    extra = 1
    autocomplete_fields = ["value"]


@admin.register(Picklist)
class PicklistAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "case_sensitive", "updated_at")
    search_fields = ("key", "name")
    inlines = [PicklistValueInline, PicklistAliasInline]


@admin.register(PicklistValue)
class PicklistValueAdmin(admin.ModelAdmin):
    list_display = ("value", "picklist", "position")
    list_filter = ("picklist",)
    search_fields = ("value",)


class ListMapperEntryInline(admin.TabularInline):
    model = ListMapperEntry
    extra = 1
    autocomplete_fields = ["value"]


@admin.register(ListMapper)
class ListMapperAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "picklist")
    inlines = [ListMapperEntryInline]


@admin.register(DomainList)
class DomainListAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "builtin")


@admin.register(SuppressionList)
class SuppressionListAdmin(admin.ModelAdmin):
    list_display = ("key", "name")


class FieldInline(admin.StackedInline):
    model = Field
    extra = 0
    fields = (
        ("key", "label", "type", "required", "position"),
        ("picklist", "allowed_values", "separator", "multi_mode"),
        ("max_length", "min_value", "max_value", "integer"),
        ("aliases", "default", "pii", "check_deliverability", "country_format"),
    )


class FieldDomainListInline(admin.TabularInline):
    model = FieldDomainList
    extra = 1


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type", "required", "source")
    list_filter = ("source", "type")
    inlines = [FieldDomainListInline]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "status", "starts_on", "ends_on")
    list_filter = ("status", "kind")
    search_fields = ("name", "slug")
    filter_horizontal = ("suppression_lists", "destinations")
    inlines = [FieldInline]
