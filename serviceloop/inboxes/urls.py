from django.urls import path

from serviceloop.inboxes import views

app_name = "inboxes"

urlpatterns = [
    path("contact/<slug:slug>/", views.contact, name="contact"),
    path("contact/<slug:slug>/embed/", views.embed_snippet, name="embed"),
]
