from __future__ import annotations

from django.contrib import admin

from leadgate.delivery.models import Destination, DestinationMapping


class DestinationMappingInline(admin.TabularInline[DestinationMapping, Destination]):
    model = DestinationMapping
    extra = 1


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin[Destination]):
    list_display = ("key", "name", "kind", "enabled")
    inlines = [DestinationMappingInline]
