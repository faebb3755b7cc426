from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from serviceloop.accounts.urls import settings_urlpatterns as people_settings
from serviceloop.api import api
from serviceloop.core.views import healthz
from serviceloop.inboxes.urls import settings_urlpatterns as inbox_settings
from serviceloop.tickets.urls import settings_urlpatterns as ticket_settings
from serviceloop.tickets.views import home
from serviceloop.webhooks.urls import settings_urlpatterns as webhook_settings


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(api.get_openapi_schema(path_prefix="/api/v1"))


def api_path_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """API clients get JSON for a path that does not exist, like every other API error."""
    return JsonResponse(
        {
            "code": "not_found",
            "message": "There is no API endpoint %s; see /api/docs." % request.path,
            "field": None,
        },
        status=404,
    )


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("api/openapi.json", openapi_json, name="openapi-json"),
    re_path(r"^api/(?P<rest>.*)$", api_path_not_found),
    path("admin/", admin.site.urls),
    path("", home, name="home"),
    # Django's own sign-in views, with our templates (the admin ships templates of the
    # same names, so each is named here).
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("accounts/", include("serviceloop.accounts.urls")),
    path("tickets/", include("serviceloop.tickets.urls")),
    path("customers/", include("serviceloop.customer360.urls")),
    path("portal/", include("serviceloop.portal.urls")),
    path("", include("serviceloop.inboxes.urls")),
    path(
        "settings/",
        include(
            ((people_settings + ticket_settings + inbox_settings + webhook_settings), "settings")
        ),
    ),
]
