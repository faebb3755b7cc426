from django.urls import path

from serviceloop.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.request_list, name="requests"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-in/<str:key>", views.redeem, name="redeem"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("requests/new", views.new_request, name="new"),
    path("requests/<int:number>/", views.request_detail, name="request"),
    path("requests/<int:number>/reply", views.reply, name="reply"),
    path("requests/<int:number>/solve", views.solve, name="solve"),
    path(
        "requests/<int:number>/attachments/<int:attachment_id>",
        views.attachment,
        name="attachment",
    ),
]
