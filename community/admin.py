from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from community.models import Follow, Notification, PersonalApiKey, Profile, User

# djangorestframework-api-key registers its own, unused, APIKey model; Agentry's
# keys are PersonalApiKey (below). Hiding it keeps staff from minting keys that
# belong to nobody.
admin.site.unregister(APIKey)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
        "active_api_keys",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "date_joined", "last_login"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _active_api_keys=Count("api_keys", filter=Q(api_keys__revoked=False))
            )
        )

    @admin.display(description=_("active API keys"), ordering="_active_api_keys")
    def active_api_keys(self, user):
        return user._active_api_keys


@admin.register(PersonalApiKey)
class PersonalApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "user",
        "created",
        "last_used_at",
        "expiry_date",
        "revoked",
    ]
    list_filter = ["revoked", "created"]
    search_fields = ["prefix", "name", "user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "created", "last_used_at", "user"]
    fields = [
        "name",
        "user",
        "prefix",
        "created",
        "last_used_at",
        "expiry_date",
        "revoked",
    ]

    def has_add_permission(self, request):
        # A key's secret is shown once to its owner; staff cannot mint keys for others.
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "followers_count", "following_count"]
    search_fields = ["user__username", "display_name"]
    list_select_related = ["user"]
    # The counts belong to the follow services.
    readonly_fields = ["user", "followers_count", "following_count", "updated_at"]


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followee", "created_at"]
    search_fields = ["follower__username", "followee__username"]
    list_select_related = ["follower", "followee"]
    raw_id_fields = ["follower", "followee"]

    def has_add_permission(self, request):
        # Adding or removing follows here would leave the profile counts wrong.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "text", "created_at", "read_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["recipient__username", "text"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient", "actor"]
