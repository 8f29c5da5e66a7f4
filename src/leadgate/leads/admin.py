from django.contrib import admin

from leadgate.leads.models import Lead, LeadEvent


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    readonly_fields = (
        "at", "kind", "actor", "user", "status_before", "status_after", "code_before", "code_after",
        "changes", "note",
    )  # fmt: skip


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("lead_id", "source", "status", "disposition_code", "received_via", "submitted_at")
    list_filter = ("source", "status", "disposition_code", "received_via")
    search_fields = ("lead_id", "email_key", "custom_reason")
    readonly_fields = (
        "lead_id", "source", "status", "disposition_code", "custom_reason", "problems", "values", "clean",
        "received_via", "email_key", "phone_key", "submitted_at", "processed_at", "updated_at",
        "first_accepted_at",
    )  # fmt: skip
    inlines = [LeadEventInline]

    def has_add_permission(self, request):  # leads arrive through intake, never typed into the admin
        return False
