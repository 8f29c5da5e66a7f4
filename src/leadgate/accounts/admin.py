from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from leadgate.accounts.models import User


@admin.register(User)
class LeadgateUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active", "last_login")
    fieldsets = (*UserAdmin.fieldsets, ("Role", {"fields": ("role",)}))
