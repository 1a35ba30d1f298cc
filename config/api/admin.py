from django.contrib import admin, messages

from config.api.models import ApiClient, ApiToken
from config.api.services import issue_token


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fields = ["prefix", "created_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "location_codes", "customer_id", "user", "active", "created_at"]
    list_filter = ["role", "active"]
    search_fields = ["name", "user__username"]
    inlines = [ApiTokenInline]
    actions = ["issue_new_token"]
    raw_id_fields = ["user"]

    @admin.action(description="Issue a new token (shown once)")
    def issue_new_token(self, request, queryset):
        for client in queryset:
            key = issue_token(client=client)
            self.message_user(request, f"{client.name}: {key}", messages.WARNING)
