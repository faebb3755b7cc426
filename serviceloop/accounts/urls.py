from django.urls import path

from serviceloop.accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile", views.profile, name="profile"),
    path("away", views.away, name="away"),
    path("tokens/new", views.create_token, name="create-token"),
    path("tokens/<int:token_id>/revoke", views.revoke_token, name="revoke-token"),
]

settings_urlpatterns = [
    path("", views.settings_index, name="index"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.edit_team, name="edit-team"),
    path("agents/", views.agents, name="agents"),
    path("agents/<int:agent_id>/", views.edit_agent, name="edit-agent"),
    path("tokens/", views.tokens, name="tokens"),
]
