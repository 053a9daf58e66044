from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import media, password_views, sms_views, views
from .health import healthz
from .inbox import inbox_view

portal_patterns = (
    [
        path("", views.portal_home, name="home"),
        # The field says "mobile phone or user name": members and liaisons sign in with their number.
        path("login/", views.LoginView.as_view(authentication_form=password_views.PhoneSignInForm), name="login"),
        path("logout/", views.LogoutView.as_view(), name="logout"),
        path("password/", views.PasswordChangeView.as_view(), name="password_change"),
        path("password/set/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password_set"),
        path("password/forgot/", views.password_forgot, name="password_forgot"),
        path("password/code/", password_views.password_code_request, name="password_code_request"),
        path("password/code/reset/", password_views.password_code_reset, name="password_code_reset"),
        path("notifications/", views.notification_list, name="notifications"),
        path("notifications/read/", views.notification_mark_read, name="notifications_read"),
        path("", include("members.urls")),
        path("", include("demands.urls")),
        path("", include("projects.urls")),
        path("", include("meetings.urls")),
        path("", include("volunteers.urls")),
    ],
    "portal",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Delivery receipts pushed by the SMS provider; exists only when SMS_RECEIPT_SECRET is set.
    path("sms/receipts/<str:provider>/<str:secret>/", sms_views.sms_receipts, name="sms_receipts"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("portal/", include(portal_patterns)),
    path("", include(("demands.public_urls", "needs"))),
    path("", include("meetings.public_urls")),
    path("", include("members.public_urls")),
    path("", include("projects.public_urls")),
    path("admin/inbox/", inbox_view, name="admin_inbox"),  # before the admin's catch-all
    path("admin/", admin.site.urls),
    path("api/v1/", include("alliance.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script), not inline: the
    # Content-Security-Policy allows scripts from this origin only.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

# Uploaded files go through the permission layer, in development as in production (no static serving).
urlpatterns += [path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media.serve, name="media")]

# The platform's own error pages, with the way back to where the visitor was; under /api/ they answer JSON
# like every other API error (alliance/error_pages.py).
handler400 = "alliance.error_pages.bad_request"
handler403 = "alliance.error_pages.permission_denied"
handler404 = "alliance.error_pages.page_not_found"
handler500 = "alliance.error_pages.server_error"
