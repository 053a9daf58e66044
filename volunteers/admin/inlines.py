"""The claims shown with a member and with a post."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from alliance.admin import ReadOnlyInline

from ..models import PostClaim


class MemberClaimInline(ReadOnlyInline):
    model = PostClaim
    fields = ["post", "status", "claimed_at", "left_at"]
    readonly_fields = fields
    verbose_name_plural = _("posts held")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("post")


class PostClaimInline(ReadOnlyInline):
    model = PostClaim
    fields = ["member", "status", "claimed_at", "left_at"]
    readonly_fields = fields
    verbose_name_plural = _("claims")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")
