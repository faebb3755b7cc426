"""The agent workspace: the queue, bulk actions, saved views and the ticket page."""

import dataclasses
import datetime
import functools
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from serviceloop.accounts.models import Team, User
from serviceloop.core.errors import DomainError, InvalidInput, ObjectNotFound
from serviceloop.core.http import AgentRequest, agent_required, query_without
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.tickets import presence, queries, services
from serviceloop.tickets.models import (
    Attachment,
    Channel,
    CustomStatus,
    EventKind,
    Message,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketType,
)

PAGE_SIZE = 50
QUEUE_RESULTS = "tickets/queue.html#results"
PROPERTIES = "tickets/ticket.html#properties"
CONVERSATION = "tickets/ticket.html#conversation"
COMPOSER = "tickets/ticket.html#composer"
PRESENCE = "tickets/ticket.html#presence"
PREVIEW = "tickets/ticket.html#preview"
FILTER_KEYS = (
    "status",
    "priority",
    "team",
    "assignee",
    "tag",
    "channel",
    "cf_key",
    "cf_value",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
    "q",
)


def home(request: AgentRequest) -> HttpResponse:
    """The front door: the queue when signed in, the sign-in page otherwise."""
    if request.user.is_authenticated:
        return redirect("tickets:queue")
    return redirect("login")


# --- Reading the queue's query string -----------------------------------------------------


def _int(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(
            _("%(field)s must be a number.") % {"field": field}, field=field
        ) from None


def _day(value: str | None, field: str, *, end: bool = False) -> datetime.datetime | None:
    """A date from a date input, as the start of that day (or of the next) in the agent's zone."""
    if not value:
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            _("%(field)s must be a date as YYYY-MM-DD.") % {"field": field}, field=field
        ) from None
    if end:
        day += datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def queue_filters(
    params: QueryDict, *, agent: User, team_ids: list[int]
) -> tuple[str, queries.TicketFilters]:
    """The view and the filters a queue URL asks for; explicit filters refine the view."""
    view = params.get("view") or ("" if any(params.get(k) for k in FILTER_KEYS) else "mine")
    filters = queries.view_filters(view, agent=agent, team_ids=team_ids)
    changes: dict[str, Any] = {}
    if statuses := [s for s in params.getlist("status") if s]:
        changes["status"] = statuses
    if priorities := [p for p in params.getlist("priority") if p]:
        changes["priority"] = priorities
    if params.get("team"):
        changes["team"] = _int(params.get("team"), "team")
        changes["teams"] = None
    assignee = params.get("assignee", "")
    if assignee == "none":
        changes.update(unassigned=True, assignee=None)
    elif assignee:
        changes.update(unassigned=False, assignee=_int(assignee, "assignee"))
    if params.get("tag"):
        changes["tag"] = params["tag"]
    if params.get("channel"):
        changes["channel"] = params["channel"]
    if params.get("cf_key") and params.get("cf_value"):
        changes["custom_field"] = (params["cf_key"], params["cf_value"])
    for name in ("created_after", "updated_after"):
        if moment := _day(params.get(name), name):
            changes[name] = moment
    for name in ("created_before", "updated_before"):
        if moment := _day(params.get(name), name, end=True):
            changes[name] = moment
    if params.get("q"):
        changes["q"] = params["q"][:200]
    return view, dataclasses.replace(filters, **changes)


def _sort(params: QueryDict) -> str:
    sort = params.get("sort") or "-updated_at"
    return sort if sort in queries.SORTS else "-updated_at"


# --- The queue ----------------------------------------------------------------------------


@functools.cache
def _month_abbreviations(language: str | None) -> tuple[str, ...]:
    return ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))


def _queue_rows(tickets: list[Ticket], ticket_query: str) -> list[dict[str, Any]]:
    """What each queue row shows, as plain values.

    A template reads a dict key in one step, where a model attribute costs a failed item
    lookup first; and Django's date filter looks its formats up again on every call.
    With 50 rows, the two were a third of the queue's server time.
    """
    zone = timezone.get_current_timezone()
    months = _month_abbreviations(get_language())
    suffix = "?" + ticket_query if ticket_query else ""
    rows = []
    for ticket in tickets:
        created = ticket.created_at.astimezone(zone)
        updated = ticket.updated_at.astimezone(zone)
        rows.append(
            {
                "number": ticket.number,
                "url": reverse("tickets:ticket", args=[ticket.number]) + suffix,
                "subject": ticket.subject,
                "requester": ticket.requester.display_name,
                "organization": ticket.organization.name if ticket.organization else "",
                "tags": [tag.name for tag in ticket.tags.all()],
                "status": ticket.status,
                "status_label": ticket.status_label,
                "priority": ticket.priority,
                "priority_label": ticket.priority_label,
                "assignee": ticket.assignee.display_name if ticket.assignee else "",
                "team": ticket.team.name if ticket.team else "",
                "created": f"{months[created.month]} {created.day}, {created:%H:%M}",
                "created_exact": f"{created:%Y-%m-%d %H:%M}",
                "updated_ago": timesince(ticket.updated_at),
                "updated_exact": f"{updated:%Y-%m-%d %H:%M}",
            }
        )
    return rows


def _queue_context(request: AgentRequest, params: QueryDict) -> dict[str, Any]:
    agent = request.user
    team_ids = queries.team_ids_of(agent)
    sort = _sort(params)
    error = None
    rows: list[Ticket] = []
    next_cursor = None
    view = params.get("view", "")
    try:
        view, filters = queue_filters(params, agent=agent, team_ids=team_ids)
        rows, next_cursor = queries.ticket_page(
            agent,
            filters,
            sort=sort,
            limit=PAGE_SIZE,
            cursor=params.get("cursor") or None,
            columns=queries.QUEUE_COLUMNS,
        )
    except InvalidInput as refusal:
        error = refusal
    counts = queries.queue_counts(agent, team_ids=team_ids)
    teams = list(Team.objects.all())
    base = query_without(params, "cursor")
    title = next((str(v.label) for v in queries.QUEUE_VIEWS if v.slug == view), _("Tickets"))
    return {
        "nav": "queue",
        "rows": _queue_rows(rows, query_without(params, "cursor")),
        "error": error,
        "view": view,
        "title": title,
        "views": [(v, queries.count_label(counts[v.slug])) for v in queries.QUEUE_VIEWS],
        "saved_views": queries.saved_views_for(agent, team_ids=team_ids),
        "sort": sort,
        "params": params,
        "query": base,
        "poll_query": params.urlencode(),
        "next_query": query_without(params, "cursor", cursor=next_cursor) if next_cursor else "",
        "first_query": base if params.get("cursor") else "",
        "sort_links": {
            field: query_without(
                params, "cursor", "sort", sort=field if sort == f"-{field}" else f"-{field}"
            )
            for field in ("number", "created_at", "updated_at")
        },
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "channels": Channel.choices,
        "teams": teams,
        "agents": list(User.objects.filter(is_active=True)),
        "tags": list(Tag.objects.values_list("name", flat=True)[:300]),
        "ticket_fields": list(
            CustomFieldDefinition.objects.filter(entity="ticket", is_active=True)
        ),
        "my_teams": [team for team in teams if team.pk in team_ids],
    }


@agent_required
@require_GET
def queue(request: AgentRequest) -> HttpResponse:
    """The shared queue: built-in views with counts, filters, sort, keyset pages."""
    context = _queue_context(request, request.GET)
    status = 400 if context["error"] else 200
    if request.htmx and request.htmx.target == "results":
        # The poll that keeps the queue current: rows plus the counts, out of band.
        return render(request, QUEUE_RESULTS, context | {"oob": True}, status=status)
    return render(request, "tickets/queue.html", context, status=status)


def _bulk_changes(data: QueryDict) -> dict[str, Any]:
    action = data.get("action", "")
    if action == "assign":
        assignee = data.get("assignee", "")
        return {"assignee_id": None if assignee in ("", "none") else _int(assignee, "assignee")}
    if action == "status":
        return {"status": data.get("status") or None}
    if action == "priority":
        return {"changes": services.TicketChanges(priority=data.get("priority") or None)}
    if action == "tag":
        tag = data.get("tag", "").strip()
        if not tag:
            raise InvalidInput(_("Type the tag to add."), field="tag")
        return {"changes": services.TicketChanges(add_tags=[tag])}
    raise InvalidInput(_("Pick an action for the selected tickets."), field="action")


def _merge_selected(
    agent: User, numbers: list[int], target: int | None
) -> list[services.BulkResult]:
    if target is None:
        raise InvalidInput(_("Type the ticket number to merge into."), field="merge_target")
    results = []
    for number in numbers:
        if number == target:
            continue
        try:
            services.merge_tickets(source_number=number, target_number=target, agent=agent)
        except DomainError as error:
            results.append(
                services.BulkResult(number=number, ok=False, code=error.code, message=error.message)
            )
        else:
            results.append(services.BulkResult(number=number, ok=True))
    return results


@agent_required
@require_POST
def bulk(request: AgentRequest) -> HttpResponse:
    """Apply one change to the selected tickets; each ticket succeeds or fails on its own."""
    query = request.POST.get("query", "")
    params = QueryDict(query)
    try:
        numbers = [n for n in (_int(v, "numbers") for v in request.POST.getlist("numbers")) if n]
        if not numbers:
            raise InvalidInput(_("Select at least one ticket."), field="numbers")
        if request.POST.get("action") == "merge":
            target = _int(request.POST.get("merge_target", "").lstrip("#"), "merge_target")
            results = _merge_selected(request.user, numbers, target)
        else:
            results = services.bulk_update_tickets(
                numbers=numbers, agent=request.user, **_bulk_changes(request.POST)
            )
    except InvalidInput as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect(reverse("tickets:queue") + "?" + query)
        context = _queue_context(request, params) | {"bulk_error": error, "oob": True}
        return render(request, QUEUE_RESULTS, context, status=422)
    done = sum(1 for r in results if r.ok)
    failed = [r for r in results if not r.ok]
    summary = _("%(done)s of %(total)s tickets changed.") % {"done": done, "total": len(results)}
    if not request.htmx:
        messages.success(request, summary)
        for result in failed:
            messages.error(request, "#%s: %s" % (result.number, result.message))
        return redirect(reverse("tickets:queue") + "?" + query)
    context = _queue_context(request, params) | {
        "bulk_summary": summary,
        "bulk_failed": failed,
        "oob": True,
    }
    return render(request, QUEUE_RESULTS, context)


@agent_required
@require_POST
def save_view(request: AgentRequest) -> HttpResponse:
    """Save the queue's current filters under a name, optionally shared with a team."""
    params = QueryDict(request.POST.get("query", ""))
    try:
        view = services.save_view(
            agent=request.user,
            name=request.POST.get("name", ""),
            query={k: v for k, v in params.lists() if k in (*FILTER_KEYS, "view", "sort")},
            team_id=_int(request.POST.get("team"), "team"),
        )
    except InvalidInput as error:
        messages.error(request, error.message)
        return redirect(reverse("tickets:queue") + "?" + params.urlencode())
    messages.success(request, _("Saved the view %(name)s.") % {"name": view.name})
    return redirect(reverse("tickets:queue") + "?" + params.urlencode() + "&saved=%s" % view.pk)


@agent_required
@require_POST
def delete_view(request: AgentRequest, view_id: int) -> HttpResponse:
    services.delete_saved_view(agent=request.user, view_id=view_id)
    messages.success(request, _("The saved view was removed."))
    return redirect("tickets:queue")


# --- The ticket page ----------------------------------------------------------------------


def _event_text(event: TicketEvent, agents: dict[int, str], teams: dict[int, str]) -> str:
    def name(value: Any, names: dict[int, str]) -> str:
        if value is None:
            return _("nobody")
        return names.get(value, "#%s" % value) if isinstance(value, int) else str(value)

    who = (
        event.actor.display_name
        if event.actor
        else (
            _("the customer")
            if event.actor_kind == TicketEvent.ActorKind.CUSTOMER
            else _("Serviceloop")
        )
    )
    before, after = event.before, event.after
    if event.kind == EventKind.STATUS:
        return _("%(who)s changed the status from %(before)s to %(after)s") % {
            "who": who,
            "before": (before or {}).get("custom_status") or (before or {}).get("status"),
            "after": (after or {}).get("custom_status") or (after or {}).get("status"),
        }
    if event.kind == EventKind.ASSIGNEE:
        return _("%(who)s assigned it to %(after)s") % {"who": who, "after": name(after, agents)}
    if event.kind == EventKind.TEAM:
        return _("%(who)s moved it to team %(after)s") % {"who": who, "after": name(after, teams)}
    if event.kind == EventKind.TAGS:
        return _("%(who)s set the tags to %(after)s") % {
            "who": who,
            "after": ", ".join(after or []) or _("none"),
        }
    label = event.field or event.get_kind_display()
    return _("%(who)s changed %(field)s from %(before)s to %(after)s") % {
        "who": who,
        "field": label,
        "before": before if before not in (None, "") else "—",
        "after": after if after not in (None, "") else "—",
    }


def _timeline(ticket: Ticket, agents: dict[int, str], teams: dict[int, str]) -> list[dict]:
    """Messages in order, with the system events between them grouped (shown collapsed)."""
    items: list[tuple[Any, int, str, Any]] = [
        (m.created_at, m.pk, "message", m)
        for m in ticket.messages.select_related("author_agent", "author_customer")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    ]
    items += [
        (e.created_at, e.pk, "event", e)
        for e in ticket.events.select_related("actor")
        .exclude(kind__in=[EventKind.CREATED, EventKind.MESSAGE])
        .order_by("created_at", "id")
    ]
    items.sort(key=lambda item: (item[0], item[2] == "event", item[1]))
    timeline: list[dict] = []
    for kind, group in groupby(items, key=lambda item: item[2]):
        if kind == "message":
            timeline += [{"message": item[3]} for item in group]
        else:
            events = [(e[3], _event_text(e[3], agents, teams)) for e in group]
            timeline.append({"events": events})
    return timeline


def _ticket_context(request: AgentRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    agent = request.user
    agents = list(User.objects.filter(is_active=True))
    teams = list(Team.objects.all())
    agent_names = {a.pk: a.display_name for a in agents}
    team_names = {t.pk: t.name for t in teams}
    timeline = _timeline(ticket, agent_names, team_names)
    last_message = max((item["message"].pk for item in timeline if "message" in item), default=0)
    ticket_fields = list(CustomFieldDefinition.objects.filter(entity="ticket", is_active=True))
    return {
        "nav": "queue",
        "ticket": ticket,
        "timeline": timeline,
        "last_message_id": last_message,
        "ticket_tags": ", ".join(t.name for t in ticket.tags.all()),
        "agents": agents,
        "teams": teams,
        "statuses": Status.choices,
        "custom_statuses": list(CustomStatus.objects.filter(is_active=True)),
        "priorities": Priority.choices,
        "types": TicketType.choices,
        "ticket_fields": [(d, ticket.custom_fields.get(d.key)) for d in ticket_fields],
        "may_work": services.agent_may_work(agent, ticket),
        "reply_statuses": [
            (Status.OPEN, _("Open")),
            (Status.PENDING, _("Pending")),
            (Status.ON_HOLD, _("On-hold")),
            (Status.SOLVED, _("Solved")),
        ],
        "list_query": request.GET.urlencode()
        if request.method == "GET"
        else request.POST.get("list_query", ""),
    } | extra


@agent_required
@require_GET
def ticket_page(request: AgentRequest, number: int) -> HttpResponse:
    """One ticket: conversation, composer, properties, customer, and its neighbours."""
    agent = request.user
    ticket = queries.ticket_for_agent(agent, number)
    team_ids = queries.team_ids_of(agent)
    previous_number = next_number = None
    try:
        _view, filters = queue_filters(request.GET, agent=agent, team_ids=team_ids)
        previous_number, next_number = queries.neighbours_in_view(
            agent, filters, sort=_sort(request.GET), ticket=ticket
        )
    except InvalidInput:
        # A ticket link with a stale or hand-edited list query still opens the ticket.
        pass
    panel = queries.customer_panel(ticket.requester, exclude=ticket)
    context = _ticket_context(
        request,
        ticket,
        previous_number=previous_number,
        next_number=next_number,
        panel=panel,
    )
    return render(request, "tickets/ticket.html", context)


def _ticket_url(number: int, list_query: str) -> str:
    url = reverse("tickets:ticket", args=[number])
    return url + ("?" + list_query if list_query else "")


def _newer_reply(ticket: Ticket, seen: int, agent: User) -> Message | None:
    """The latest message someone else added after the one this agent last saw."""
    return (
        ticket.messages.filter(pk__gt=seen)
        .exclude(author_agent=agent)
        .select_related("author_agent", "author_customer")
        .order_by("-id")
        .first()
    )


@agent_required
@require_POST
def send(request: AgentRequest, number: int) -> HttpResponse:
    """Send a public reply or leave an internal note, with attachments.

    A reply someone else sent since the page was loaded is shown first; sending again
    (with "send anyway") goes through.
    """
    agent = request.user
    ticket = queries.ticket_for_agent(agent, number)
    kind = request.POST.get("kind", "reply")
    body = request.POST.get("body", "")
    files = request.FILES.getlist("attachments")
    list_query = request.POST.get("list_query", "")
    seen = _int(request.POST.get("seen"), "seen") or 0
    newer = None if request.POST.get("confirm") else _newer_reply(ticket, seen, agent)
    error: DomainError | None = None
    if newer is not None:
        error = InvalidInput(
            _("%(who)s added a message while you were writing. Read it, then send again.")
            % {"who": _author_name(newer)}
        )
    else:
        try:
            if kind == "note":
                services.add_internal_note(number=number, agent=agent, body=body, attachments=files)
            else:
                services.reply_to_ticket(
                    number=number,
                    agent=agent,
                    body=body,
                    attachments=files,
                    status=request.POST.get("status") or None,
                )
        except DomainError as refusal:
            error = refusal
    if not request.htmx:
        if error is not None:
            messages.error(request, error.message)
        return redirect(_ticket_url(number, list_query))
    ticket = queries.ticket_for_agent(agent, number)
    if error is not None:
        context = _ticket_context(
            request,
            ticket,
            composer_error=error,
            draft=body,
            draft_kind=kind,
            confirm_needed=newer is not None,
        )
        if newer is not None:
            # Keep the older "seen" so a second check still compares with what they read.
            context["last_message_id"] = seen
        return render(request, CONVERSATION, context, status=422)
    context = _ticket_context(request, ticket, oob=True)
    return render(request, CONVERSATION, context)


def _author_name(message: Message) -> str:
    if message.author_agent is not None:
        return message.author_agent.display_name
    if message.author_customer is not None:
        return message.author_customer.display_name
    return _("Someone")


@agent_required
@require_POST
def preview(request: AgentRequest, number: int) -> HttpResponse:
    """Show the draft as the customer will read it, before sending."""
    ticket = queries.ticket_for_agent(request.user, number)
    context = {
        "ticket": ticket,
        "preview_body": request.POST.get("body", ""),
        "preview_kind": request.POST.get("kind", "reply"),
    }
    if not request.htmx:
        context = (
            _ticket_context(
                request,
                ticket,
                panel=queries.customer_panel(ticket.requester, exclude=ticket),
                draft=context["preview_body"],
                draft_kind=context["preview_kind"],
            )
            | context
        )
        return render(request, "tickets/ticket.html", context)
    return render(request, PREVIEW, context)


def _custom_field_value(definition: CustomFieldDefinition, data: QueryDict) -> Any:
    name = "cf_%s" % definition.key
    if definition.kind == CustomFieldDefinition.Kind.CHECKBOX:
        return name in data
    return data.get(name, "").strip() or None


@agent_required
@require_POST
def edit(request: AgentRequest, number: int) -> HttpResponse:
    """Change status, priority, type, assignee, team, tags or fields in place, as one change."""
    agent = request.user
    ticket = queries.ticket_for_agent(agent, number)
    data = request.POST
    kwargs: dict[str, Any] = {}
    changes = services.TicketChanges()
    try:
        status = data.get("status", "")
        if status.startswith("custom:"):
            custom_id = _int(status.removeprefix("custom:"), "status")
            if custom_id != ticket.custom_status_id:
                kwargs["custom_status_id"] = custom_id
        elif status and (status != ticket.status or ticket.custom_status_id):
            kwargs["status"] = status
        if "assignee" in data:
            assignee = _int(data["assignee"], "assignee")
            if assignee != ticket.assignee_id:
                kwargs["assignee_id"] = assignee
        if "team" in data:
            team = _int(data["team"], "team")
            if team != ticket.team_id:
                kwargs["team_id"] = team
        if data.get("priority") and data["priority"] != ticket.priority:
            changes.priority = data["priority"]
        if data.get("type") and data["type"] != ticket.type:
            changes.type = data["type"]
        if "tags" in data:
            tags = sorted({t.strip().lower() for t in data["tags"].split(",") if t.strip()})
            if tags != sorted(t.name for t in ticket.tags.all()):
                changes.tags = tags
        fields = {}
        for definition in CustomFieldDefinition.objects.filter(entity="ticket", is_active=True):
            value = _custom_field_value(definition, data)
            if value != ticket.custom_fields.get(definition.key) and not (
                value in (None, False) and ticket.custom_fields.get(definition.key) in (None, "")
            ):
                fields[definition.key] = value
        if fields:
            changes.custom_fields = fields
        ticket = services.edit_ticket(number=number, agent=agent, changes=changes, **kwargs)
    except DomainError as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect(_ticket_url(number, data.get("list_query", "")))
        ticket = queries.ticket_for_agent(agent, number)
        return render(
            request,
            PROPERTIES,
            _ticket_context(request, ticket, properties_error=error),
            status=422,
        )
    if not request.htmx:
        messages.success(request, _("Ticket #%(number)s updated.") % {"number": number})
        return redirect(_ticket_url(number, data.get("list_query", "")))
    context = _ticket_context(request, ticket, saved=True)
    return render(request, PROPERTIES, context)


@agent_required
@require_POST
def presence_report(request: AgentRequest, number: int) -> HttpResponse:
    """Say this agent is here (and whether typing); answer who else is, and any new reply."""
    agent = request.user
    ticket = queries.ticket_for_agent(agent, number)
    viewers = presence.report_viewing(
        number=ticket.number, agent=agent, typing=request.POST.get("typing") == "1"
    )
    seen = _int(request.POST.get("seen"), "seen") or 0
    newer = _newer_reply(ticket, seen, agent) if seen else None
    return render(
        request,
        PRESENCE,
        {
            "ticket": ticket,
            "viewers": viewers,
            "newer": newer,
            "newer_author": newer and _author_name(newer),
        },
    )


@agent_required
@require_GET
def attachment(request: AgentRequest, number: int, attachment_id: int) -> FileResponse:
    """Download a file attached to a ticket the agent may see."""
    ticket = queries.ticket_for_agent(request.user, number)
    found = Attachment.objects.filter(pk=attachment_id, message__ticket=ticket).first()
    if found is None:
        raise ObjectNotFound("Attachment", attachment_id)
    response = FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
