"""Who signs in: failed sign-ins (unlocked here), API tokens (revoked here), and the superusers' screens of
accounts and groups."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, User
from django.http import Http404, HttpResponseNotAllowed
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldBooleanWidget

from ..api import authentication
from .base import CappedCountPaginator, ModelAdmin, ScopedAdminMixin, period_filter


@admin.register(AccessAttempt)
class LoginAttemptAdmin(ScopedAdminMixin, ModelAdmin):
    """Failed sign-ins that django-axes counts (alliance/logins.py). Street staff unlock an account or
    an address by deleting its rows; the rows also expire by themselves after the cool-off."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "locked_until", "path_info"]
    # Not the sign-in path: its choices were a DISTINCT over every attempt, on every request.
    list_filter = [period_filter("attempt_time")]
    search_fields = ["username", "ip_address"]
    fields = ["username", "ip_address", "user_agent", "path_info", "failures_since_start", "attempt_time"]
    readonly_fields = fields
    actions = ["unlock"]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("locked until"))
    def locked_until(self, obj: AccessAttempt) -> str:
        until = obj.attempt_time + settings.AXES_COOLOFF_TIME
        if obj.failures_since_start < settings.AXES_FAILURE_LIMIT or until <= timezone.now():
            return "—"
        return timezone.localtime(until).strftime("%Y-%m-%d %H:%M")

    @admin.action(description=_("Unlock: forget these failed sign-ins"))
    def unlock(self, request, queryset):
        count, _deleted = queryset.delete()
        self.message_user(
            request,
            ngettext("%(count)d failed sign-in record removed.", "%(count)d failed sign-in records removed.", count)
            % {"count": count},
        )


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class ApiTokenAdmin(ScopedAdminMixin, DrfTokenAdmin, ModelAdmin):
    """API tokens: street staff see whose token exists and until when, and revoke it. The key is a
    bearer secret and is never shown in full (DRF's own screen lists it)."""

    list_display = ["user", "masked_key", "created", "expires"]
    # A token's str() is its key, and Django's pages name an object by it: no page of one token, and the
    # list's checkboxes are labelled with the user (a TokenProxy's pk is its user's).
    list_display_links = None
    actions = ["revoke"]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_view_permission(request)

    def action_checkbox(self, obj):
        attrs = {
            "class": "action-select",
            "aria-label": format_html(gettext("Select this object for an action - {}"), obj.user),
        }
        return UnfoldBooleanWidget(attrs, lambda value: False).render(admin.helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    def get_actions(self, request):
        # DRF's screen turns actions off (its IDs are mapped); revoking works on the queryset directly.
        actions = admin.ModelAdmin.get_actions(self, request)
        actions.pop("delete_selected", None)
        return actions

    def response_action(self, request, queryset):
        # The checkboxes carry user ids; Django selects by the model's pk, which for a token is its key.
        # The ids become keys here, on the server, so that no page ever holds a key.
        post = request.POST.copy()
        users = [
            value for value in post.getlist(admin.helpers.ACTION_CHECKBOX_NAME) if value.isdigit() and len(value) < 12
        ]
        keys = TokenProxy.objects.filter(user_id__in=users).values_list("key", flat=True)
        post.setlist(admin.helpers.ACTION_CHECKBOX_NAME, list(keys))
        request.POST = post
        return super().response_action(request, queryset)

    @admin.display(description=_("token key"))
    def masked_key(self, obj) -> str:
        return f"{obj.key[:4]}…"

    @admin.display(description=_("expires"))
    def expires(self, obj):
        return authentication.expires_at(obj)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count, _deleted = queryset.delete()
        self.message_user(
            request, ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count}
        )


# Accounts and groups keep Django's screens, with the history button (alliance.models registers their history).
admin.site.unregister(User)
admin.site.unregister(Group)


class SuperuserObjectPagesMixin:
    """Accounts and groups are the superusers' (staff get accounts through the services). For anyone else
    every page of one account or group answers 404, as for a missing id: a 403 would confirm it exists.
    Their lists count like every other (a city's members may have a million accounts)."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def _superuser_or_404(self, request) -> None:
        if not request.user.is_superuser:
            raise Http404

    def change_view(self, request, object_id, *args, **kwargs):
        self._superuser_or_404(request)
        return super().change_view(request, object_id, *args, **kwargs)

    def delete_view(self, request, object_id, *args, **kwargs):
        self._superuser_or_404(request)
        return super().delete_view(request, object_id, *args, **kwargs)

    def history_view(self, request, object_id, *args, **kwargs):
        self._superuser_or_404(request)
        return super().history_view(request, object_id, *args, **kwargs)

    def history_form_view(self, request, object_id, version_id, *args, **kwargs):
        self._superuser_or_404(request)
        # Past versions are for reading: saving one back would bypass the services (see ScopedAdminMixin).
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, *args, **kwargs)


@admin.register(User)
class UserAdmin(SuperuserObjectPagesMixin, SimpleHistoryAdmin, DjangoUserAdmin, ModelAdmin):
    # Django's screens on unfold's forms and widgets, in the order unfold's documentation gives.
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm

    def user_change_password(self, request, id, *args, **kwargs):
        self._superuser_or_404(request)
        return super().user_change_password(request, id, *args, **kwargs)


@admin.register(Group)
class GroupAdmin(SuperuserObjectPagesMixin, SimpleHistoryAdmin, DjangoGroupAdmin, ModelAdmin):
    pass
