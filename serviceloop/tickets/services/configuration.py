"""Ticket settings: custom statuses, tags, custom field definitions and saved views."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.accounts.services import require_settings_access
from serviceloop.core import clock
from serviceloop.core.custom_fields import create_custom_field, update_custom_field
from serviceloop.core.errors import Conflict, InvalidInput, ObjectNotFound
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.tickets.models import CustomStatus, SavedView, Status, Tag
from serviceloop.tickets.services.base import Actor, clean_choice, clean_tags, new_request_id
from serviceloop.tickets.services.fields import TicketChanges, update_fields

# --- Settings: custom statuses, tags and ticket fields ------------------------------------


@transaction.atomic
def create_custom_status(
    *, actor: User, name: str, lifecycle_state: str, position: int = 0
) -> CustomStatus:
    """Add a team's own word for a lifecycle state ("Waiting on warehouse" = pending)."""
    require_settings_access(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidInput(_("A name of 1 to 80 characters is required."), field="name")
    clean_choice(lifecycle_state, Status, "lifecycle_state")
    if lifecycle_state in (Status.NEW, Status.CLOSED):
        raise InvalidInput(
            _("New and Closed have no custom statuses; pick open, pending, on_hold or solved."),
            field="lifecycle_state",
        )
    if CustomStatus.objects.filter(name__iexact=name).exists():
        raise Conflict(
            _("There is a status named %(name)s already.") % {"name": name}, field="name"
        )
    return CustomStatus.objects.create(
        name=name, lifecycle_state=lifecycle_state, position=position
    )


@transaction.atomic
def update_custom_status(
    *,
    actor: User,
    status_id: int,
    name: str | None = None,
    is_active: bool | None = None,
    position: int | None = None,
) -> CustomStatus:
    require_settings_access(actor)
    status = CustomStatus.objects.select_for_update().filter(pk=status_id).first()
    if status is None:
        raise ObjectNotFound("Custom status", status_id)
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 80:
            raise InvalidInput(_("A name of 1 to 80 characters is required."), field="name")
        if CustomStatus.objects.filter(name__iexact=name).exclude(pk=status.pk).exists():
            raise Conflict(
                _("There is a status named %(name)s already.") % {"name": name}, field="name"
            )
        status.name = name
    if is_active is not None:
        status.is_active = is_active
    if position is not None:
        status.position = position
    status.save()
    return status


@transaction.atomic
def create_tag(*, actor: User, name: str) -> Tag:
    require_settings_access(actor)
    names = clean_tags([name])
    if not names:
        raise InvalidInput(_("A tag name is required."), field="name")
    tag, _created = Tag.objects.get_or_create(name=names[0])
    return tag


@transaction.atomic
def delete_tag(*, actor: User, name: str) -> None:
    """Remove a tag from every ticket (recorded on each) and from the tag list."""
    require_settings_access(actor)
    # No tag holds a NUL character, and PostgreSQL cannot even compare text that does.
    tag = Tag.objects.filter(name=name).first() if "\x00" not in name else None
    if tag is None:
        raise ObjectNotFound("Tag", name)
    request_id, at, who = new_request_id(), clock.now(), Actor.of_agent(actor)
    for ticket in tag.tickets.select_for_update().exclude(status=Status.CLOSED):
        update_fields(
            ticket, TicketChanges(remove_tags=[tag.name]), actor=who, request_id=request_id, at=at
        )
    tag.delete()


def define_custom_field(*, actor: User, **definition: Any) -> CustomFieldDefinition:
    require_settings_access(actor)
    return create_custom_field(**definition)


def change_custom_field(*, actor: User, field_id: int, **changes: Any) -> CustomFieldDefinition:
    require_settings_access(actor)
    return update_custom_field(field_id=field_id, **changes)


# --- Saved queue views --------------------------------------------------------------------


@transaction.atomic
def save_view(*, agent: User, name: str, query: dict[str, Any], team_id: int | None) -> SavedView:
    """Keep a queue filter under a name, shared with one of the agent's teams if asked."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise InvalidInput(_("A name of 1 to 100 characters is required."), field="name")
    team = None
    if team_id is not None:
        team = agent.teams.filter(pk=team_id).first()
        if team is None:
            raise InvalidInput(_("You can share a view only with a team you are in."), field="team")
    clean = {str(k): [str(v) for v in values] for k, values in query.items() if k != "cursor"}
    return SavedView.objects.create(
        name=name, owner=agent, team=team, query=clean, created_at=clock.now()
    )


@transaction.atomic
def delete_saved_view(*, agent: User, view_id: int) -> None:
    """Remove a saved view; only its owner (or a supervisor) may."""
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None or (view.owner_id != agent.pk and not agent.manages_settings):
        raise ObjectNotFound("Saved view", view_id)
    view.delete()
