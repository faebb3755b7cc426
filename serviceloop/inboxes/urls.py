from django.urls import path

from serviceloop.inboxes import settings_views, views

app_name = "inboxes"

urlpatterns = [
    path("contact/<slug:slug>/", views.contact, name="contact"),
    path("contact/<slug:slug>/sent/", views.contact_sent, name="contact-sent"),
    path("contact/<slug:slug>/embed/", views.embed_snippet, name="embed"),
]

settings_urlpatterns = [
    path("inboxes/", settings_views.inboxes, name="inboxes"),
    path("inboxes/new", settings_views.new_inbox, name="new-inbox"),
    path("inboxes/<int:inbox_id>/", settings_views.inbox, name="inbox"),
    path("inboxes/<int:inbox_id>/check-imap", settings_views.check_imap, name="check-imap"),
    path("inboxes/<int:inbox_id>/check-smtp", settings_views.check_smtp, name="check-smtp"),
    path("inboxes/<int:inbox_id>/delete", settings_views.delete_inbox, name="delete-inbox"),
    path(
        "inboxes/<int:inbox_id>/inbound/<int:inbound_id>/reprocess",
        settings_views.reprocess_inbound,
        name="reprocess-inbound",
    ),
]
