from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.generic import RedirectView

from serviceloop.api import api
from serviceloop.core.views import healthz


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(api.get_openapi_schema(path_prefix="/api/v1"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("api/openapi.json", openapi_json, name="openapi-json"),
    path("admin/", admin.site.urls),
]
