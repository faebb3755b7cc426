from django.urls import path

from serviceloop.webhooks import views

settings_urlpatterns = [
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:webhook_id>/toggle", views.toggle_webhook, name="toggle-webhook"),
    path("webhooks/<int:webhook_id>/delete", views.delete_webhook, name="delete-webhook"),
]
