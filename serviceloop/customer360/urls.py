from django.urls import path

from serviceloop.customer360 import views

# The namespace names the pages (under /customers/), as before they moved here from the
# customers app, so `{% url 'customers:detail' %}` and bookmarks keep working.
app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit", views.edit_customer, name="edit"),
    path("<int:customer_id>/identities", views.add_identity, name="add-identity"),
    path("<int:customer_id>/merge", views.merge, name="merge"),
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/<int:organization_id>/", views.organization_detail, name="organization"),
]
