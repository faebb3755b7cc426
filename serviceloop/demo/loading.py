"""Write the demo company and its ticket histories to the database in bulk."""

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from tqdm import tqdm

from serviceloop.accounts.models import Skill, Team, User
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.customers.models import Customer, Identity, Organization, OrganizationDomain
from serviceloop.demo.lifecycle import Agent, EventRow, MessageRow, Requester, TeamQueue, TicketLife
from serviceloop.demo.people import (
    COMPANY_DOMAIN,
    CUSTOM_STATUSES,
    SKILLS,
    STAFF,
    TEAMS,
    TICKET_FIELDS,
    CustomerPlan,
    OrganizationPlan,
)
from serviceloop.tickets.models import CustomStatus, Message, Tag, Ticket, TicketEvent
from serviceloop.tickets.numbering import reserve_ticket_numbers

BATCH = 1000
M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


def _batches(rows: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk_create(rows: Sequence[M]) -> None:
    if rows:
        type(rows[0])._default_manager.bulk_create(rows, batch_size=BATCH)


def create_company(now: datetime) -> tuple[list[Agent], dict[str, TeamQueue], dict[str, int]]:
    """Teams, agents and their skills, the custom statuses and ticket fields."""
    skills = {name: Skill.objects.get_or_create(name=name)[0] for name in SKILLS}
    teams: dict[str, Team] = {}
    for name, routing, description in TEAMS:
        teams[name] = Team.objects.create(name=name, routing=routing, description=description)
    Team.objects.filter(pk__in=[t.pk for t in teams.values()]).update(
        created_at=now - timedelta(days=720)
    )
    agents = []
    for i, member in enumerate(STAFF):
        user = User(
            username=member.username,
            email=f"{member.username}@{COMPANY_DOMAIN}",
            first_name=member.first_name,
            last_name=member.last_name,
            role=member.role,
            capacity=member.capacity,
            time_zone=member.zone,
            date_joined=now - timedelta(days=700 - 45 * i),
        )
        # Demo agents have no password; `serviceloop createadmin --username <name> --reset`
        # gives one a password (and the admin role) to look around as them.
        user.set_unusable_password()
        user.save()
        user.skills.set([skills[name] for name in member.skills])
        agents.append(Agent(user=user, member=member, shift=member.shift))
    queues = {}
    for name, team in teams.items():
        members = [a for a in agents if name in a.member.teams]
        team.members.set([a.user for a in members])
        queues[name] = TeamQueue(team=team, members=members)
    statuses = {}
    for position, (name, state) in enumerate(CUSTOM_STATUSES):
        status, _created = CustomStatus.objects.get_or_create(
            name=name, defaults={"lifecycle_state": state, "position": position}
        )
        statuses[name] = status.pk
    for definition in TICKET_FIELDS:
        CustomFieldDefinition.objects.get_or_create(
            entity=CustomFieldDefinition.Entity.TICKET,
            key=definition["key"],
            defaults={k: v for k, v in definition.items() if k != "key"},
        )
    return agents, queues, statuses


def create_customers(
    rng: random.Random,
    organizations: list[OrganizationPlan],
    customers: list[CustomerPlan],
    *,
    now: datetime,
) -> list[Requester]:
    """Organizations with their domains, customers with every identity they write from."""
    organization_rows = [
        Organization(
            name=plan.name,
            tier=plan.tier,
            notes=plan.notes,
            portal_visibility=(
                Organization.PortalVisibility.ORGANIZATION
                if plan.tier == "enterprise"
                else Organization.PortalVisibility.OWN
            ),
        )
        for plan in organizations
    ]
    _bulk_create(organization_rows)
    adapt = connection.ops.adapt_datetimefield_value
    _update(
        Organization,
        ("created_at",),
        "id",
        [
            (adapt(now - timedelta(days=plan.years * 365)), row.pk)
            for row, plan in zip(organization_rows, organizations, strict=True)
        ],
    )
    by_plan = {id(plan): row for plan, row in zip(organizations, organization_rows, strict=True)}
    _bulk_create(
        [
            OrganizationDomain(organization=by_plan[id(plan)], domain=domain)
            for plan in organizations
            for domain in plan.domains
        ]
    )
    customer_rows = [
        Customer(
            name=plan.name,
            email=plan.email,
            phone=plan.phone,
            locale=plan.region.locale,
            time_zone=plan.region.zone,
            notes=plan.notes,
            organization=by_plan[id(plan.organization)] if plan.organization else None,
        )
        for plan in customers
    ]
    _bulk_create(customer_rows)
    identities = []
    for row, plan in zip(customer_rows, customers, strict=True):
        identities.append(
            Identity(customer=row, kind=Identity.Kind.EMAIL, value=plan.email, verified=True)
        )
        identities += [
            Identity(customer=row, kind=Identity.Kind.EMAIL, value=email)
            for email in plan.extra_emails
        ]
        if plan.phone:
            identities.append(Identity(customer=row, kind=Identity.Kind.PHONE, value=plan.phone))
        if plan.social:
            identities.append(
                Identity(customer=row, kind=Identity.Kind.SOCIAL, value=plan.social.lower())
            )
    _bulk_create(identities)
    return [
        Requester(
            customer=row,
            plan=plan,
            organization=by_plan[id(plan.organization)] if plan.organization else None,
        )
        for row, plan in zip(customer_rows, customers, strict=True)
    ]


def _resolve(value: Any) -> Any:
    """Turn references to demo tickets and messages into the numbers and ids services log."""
    if isinstance(value, TicketLife):
        return value.number
    if isinstance(value, MessageRow):
        return value.pk
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def _converter(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.JSONField | models.UUIDField):
        return lambda value: field.get_db_prep_save(value, connection)
    return lambda value: value


def _insert(
    model: type[models.Model], names: Sequence[str], rows: list[tuple], bar: tqdm | None = None
) -> None:
    """INSERT plain rows with executemany: the ORM's per-object work would triple load time.

    Values are converted per column the way the ORM would (dates, JSON, UUIDs), so the rows
    read back exactly as if saved through the models.
    """
    fields = [_concrete(model, name) for name in names]
    quote = connection.ops.quote_name
    # Table and column names come from the models and are quoted; values are parameters.
    sql = " ".join(
        (
            "INSERT INTO",
            quote(model._meta.db_table),
            "(" + ", ".join(quote(str(f.column)) for f in fields) + ")",
            "VALUES",
            "(" + ", ".join(["%s"] * len(fields)) + ")",
        )
    )
    converters = [_converter(f) for f in fields]
    plain = [i for i, f in enumerate(fields) if _is_plain(f)]
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            values = [
                tuple(value if i in plain else converters[i](value) for i, value in enumerate(row))
                for row in batch
            ]
            cursor.executemany(sql, values)
            if bar is not None:
                bar.update(len(batch))


def _is_plain(field: models.Field) -> bool:
    return not isinstance(field, models.DateTimeField | models.JSONField | models.UUIDField)


def _concrete(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(last=Max("id"))["last"] or 0) + 1


def _update(model: type[models.Model], columns: Sequence[str], key: str, rows: list[tuple]) -> None:
    """UPDATE many rows by key with executemany; each row is (*values, key value)."""
    quote = connection.ops.quote_name
    sql = " ".join(
        (
            "UPDATE",
            quote(model._meta.db_table),
            "SET",
            ", ".join(quote(c) + " = %s" for c in columns),
            "WHERE",
            quote(key),
            "= %s",
        )
    )
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            cursor.executemany(sql, batch)


def date_customers(
    rng: random.Random, requesters: list[Requester], lives: list[TicketLife], *, now: datetime
) -> None:
    """Give customers believable "customer since" dates: before their first ticket."""
    first_contact: dict[int, datetime] = {}
    for life in lives:
        pk = life.requester.customer.pk
        if pk not in first_contact or life.created_at < first_contact[pk]:
            first_contact[pk] = life.created_at
    adapt = connection.ops.adapt_datetimefield_value
    customers, identities = [], []
    for requester in requesters:
        customer = requester.customer
        organization = requester.plan.organization
        years = organization.years if organization else rng.uniform(0.2, 3.0)
        since = now - timedelta(days=rng.uniform(0.1, 1.0) * years * 365)
        first = first_contact.get(customer.pk)
        if first is not None and (since > first or rng.random() < 0.2):
            # Someone who first wrote in during the demo period became a customer then.
            since = first - timedelta(minutes=1)
        customers.append((adapt(since), adapt(since), customer.pk))
        identities.append((adapt(since), customer.pk))
    _update(Customer, ("created_at", "updated_at"), "id", customers)
    _update(Identity, ("created_at",), "customer_id", identities)


def write_tickets(
    lives: list[TicketLife], *, custom_statuses: dict[str, int], progress: bool
) -> None:
    """Tickets (numbered in creation order), their tags, links, messages and events."""
    lives.sort(key=lambda life: (life.created_at, life.events[0].seq if life.events else 0))
    numbers = sorted(reserve_ticket_numbers(len(lives)))
    first_ticket = _next_id(Ticket)
    for i, (life, number) in enumerate(zip(lives, numbers, strict=True)):
        life.number, life.pk = number, first_ticket + i
    messages: list[MessageRow] = sorted(
        (m for life in lives for m in life.messages), key=lambda m: (m.created_at, m.seq)
    )
    first_message = _next_id(Message)
    for i, message in enumerate(messages):
        message.pk = first_message + i
    events: list[EventRow] = sorted(
        (e for life in lives for e in life.events), key=lambda e: (e.created_at, e.seq)
    )
    names = sorted({tag for life in lives for tag in life.tags})
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    tagged = [(life.pk, tag_ids[name]) for life in lives for name in life.tags]

    def pk(life: TicketLife | None) -> int | None:
        return life.pk if life is not None else None

    total = len(lives) + len(tagged) + len(messages) + len(events)
    with tqdm(total=total, desc="Writing", unit=" rows", disable=not progress) as bar:
        # Links point both ways in time (a problem to its later incidents); the foreign
        # keys are deferred to commit, so one pass with explicit ids writes them all.
        _insert(
            Ticket,
            TICKET_COLUMNS,
            [
                (
                    life.pk,
                    life.number,
                    life.subject,
                    life.status,
                    custom_statuses[life.custom_status] if life.custom_status else None,
                    life.priority,
                    life.type,
                    life.channel,
                    life.requester.customer.pk,
                    life.requester.organization.pk if life.requester.organization else None,
                    life.assignee.user.pk if life.assignee else None,
                    life.team.team.pk if life.team else None,
                    life.custom_fields,
                    pk(life.problem),
                    pk(life.parent),
                    pk(life.merged_into),
                    pk(life.follow_up_of),
                    life.created_at,
                    life.updated_at,
                    life.first_agent_reply_at,
                    life.last_customer_message_at,
                    life.last_agent_reply_at,
                    life.assigned_at,
                    life.solved_at,
                    life.closed_at,
                    life.reopened_at,
                    life.reopen_count,
                )
                for life in lives
            ],
            bar,
        )
        _insert(Ticket.tags.through, ("ticket", "tag"), tagged, bar)
        _insert(
            Message,
            MESSAGE_COLUMNS,
            [
                (
                    m.pk,
                    m.owner.pk,
                    m.kind,
                    m.author_kind,
                    m.author_agent.pk if m.author_agent else None,
                    m.author_customer.pk if m.author_customer else None,
                    m.body,
                    "",
                    m.channel,
                    m.metadata,
                    m.created_at,
                )
                for m in messages
            ],
            bar,
        )
        _insert(
            TicketEvent,
            EVENT_COLUMNS,
            [
                (
                    e.owner.pk,
                    e.kind,
                    e.field,
                    _resolve(e.before),
                    _resolve(e.after),
                    e.actor.agent.pk if e.actor.agent else None,
                    e.actor.kind,
                    e.actor.customer.pk if e.actor.customer else None,
                    e.request_id,
                    e.created_at,
                )
                for e in events
            ],
            bar,
        )
    # Explicit ids leave PostgreSQL's sequences behind; move them past the new rows.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Ticket, Message]):
            cursor.execute(statement)


TICKET_COLUMNS = (
    "id", "number", "subject", "status", "custom_status", "priority", "type", "channel",
    "requester", "organization", "assignee", "team", "custom_fields", "problem", "parent",
    "merged_into", "follow_up_of", "created_at", "updated_at", "first_agent_reply_at",
    "last_customer_message_at", "last_agent_reply_at", "assigned_at", "solved_at",
    "closed_at", "reopened_at", "reopen_count",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "ticket", "kind", "author_kind", "author_agent", "author_customer", "body_text",
    "body_html", "channel", "channel_metadata", "created_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "ticket", "kind", "field", "before", "after", "actor", "actor_kind", "actor_customer",
    "request_id", "created_at",
)  # fmt: skip


def remember_routing(agents: list[Agent], last_routed: dict[int, datetime]) -> None:
    """Carry round-robin on from where the demo history left it."""
    for agent in agents:
        moment = last_routed.get(agent.user.pk)
        if moment is not None:
            User.objects.filter(pk=agent.user.pk).update(last_routed_at=moment)
