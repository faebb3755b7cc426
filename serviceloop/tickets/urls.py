from django.urls import path

from serviceloop.tickets import settings_views, views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk", views.bulk, name="bulk"),
    path("views/save", views.save_view, name="save-view"),
    path("views/<int:view_id>/delete", views.delete_view, name="delete-view"),
    path("<int:number>/", views.ticket_page, name="ticket"),
    path("<int:number>/send", views.send, name="send"),
    path("<int:number>/preview", views.preview, name="preview"),
    path("<int:number>/edit", views.edit, name="edit"),
    path("<int:number>/presence", views.presence_report, name="presence"),
    path("<int:number>/attachments/<int:attachment_id>", views.attachment, name="attachment"),
]

settings_urlpatterns = [
    path("tags/", settings_views.tags, name="tags"),
    path("tags/<str:name>/delete", settings_views.delete_tag, name="delete-tag"),
    path("fields/", settings_views.custom_fields, name="fields"),
    path("fields/<int:field_id>/", settings_views.edit_custom_field, name="edit-field"),
    path("statuses/", settings_views.custom_statuses, name="statuses"),
    path("statuses/<int:status_id>/", settings_views.edit_custom_status, name="edit-status"),
]
