"""The operators' admin: organizations and staff roles. Case records are reached only
through the app's pages, which apply the access rules; they are not exposed here."""

from django.contrib import admin

from services.models.directory import Provider
from services.models.organizations import Organization, StaffMember


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "created_at"]
    search_fields = ["name"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "title"]
    list_filter = ["organization", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Only which member organization a provider is (a consent with it lets a record be
    transferred there, issue 23); the directory itself is the directors' pages'."""

    list_display = ["name", "organization", "member_organization"]
    list_filter = ["organization"]
    search_fields = ["name"]
    fields = ["name", "organization", "member_organization"]
    readonly_fields = ["name", "organization"]

    def has_add_permission(self, request: object) -> bool:
        return False
