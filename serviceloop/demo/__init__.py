"""Demo data: a believable support operation, built deterministically from a seed.

`build_demo` creates Tillwise (a point-of-sale company), its three support teams and
twelve people (one a contributor from engineering), customers in organizations, and
months of ticket history with the daily and weekly rhythm of a real queue. Histories are
built with the same rules as `tickets.services` (see `lifecycle`), so the event log agrees
with the ticket columns and KPIs computed from it are meaningful.

The same seed, sizes and hour give the same data; times are relative to `clock.now()`
rounded down to the hour. No domain events are published for the history, so webhooks and
other subscribers see only what happens after the demo is loaded.
"""

import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from tqdm import tqdm

from serviceloop.accounts.models import Team, User
from serviceloop.core import clock
from serviceloop.core.models import CustomFieldDefinition, SetupStep
from serviceloop.customers.models import Customer, Organization
from serviceloop.demo import conversations, loading
from serviceloop.demo.lifecycle import Requester, World
from serviceloop.demo.people import (
    CUSTOM_STATUSES,
    STAFF,
    TEAMS,
    TICKET_FIELDS,
    plan_customers,
    plan_organizations,
    zone,
)
from serviceloop.demo.rhythm import ContactCalendar, draw_wave
from serviceloop.demo.stories import ProblemPlan, Storyteller
from serviceloop.tickets.models import CustomStatus, Tag, Ticket

# The marker `serviceloop run` checks, so demo data is loaded once.
DEMO_STEP = "demo data loaded"
DEFAULT_SEED = 20240601
DEFAULT_TICKETS = 5000
DEFAULT_CUSTOMERS = 1500
DEFAULT_ORGANIZATIONS = 200
HISTORY_DAYS = 120
# The share of requests whose trouble can come back (they alone get follow-ups).
RECURRING_SHARE = sum(s.weight for s in conversations.SCENARIOS if s.reopen) / sum(
    s.weight for s in conversations.SCENARIOS
)


@dataclass(frozen=True)
class DemoSummary:
    tickets: int
    customers: int
    organizations: int
    agents: int
    seconds: float
    now: datetime


def database_contents() -> dict[str, int]:
    """What is in the database that demo data could clash with."""
    return {
        "tickets": Ticket.objects.count(),
        "customers": Customer.objects.count(),
        "organizations": Organization.objects.count(),
        "demo agents": User.objects.filter(username__in=[m.username for m in STAFF]).count(),
        "demo teams": Team.objects.filter(name__in=[name for name, _r, _d in TEAMS]).count(),
    }


def demo_is_loaded() -> bool:
    return SetupStep.objects.filter(name=DEMO_STEP).exists()


@transaction.atomic
def delete_demo_data() -> None:
    """Remove what the demo created, and everything worked on top of it, from a demo database.

    Only for a database whose data came from the demo (`demo_is_loaded()`): tickets,
    customers and organizations go entirely.
    """
    Ticket.objects.update(problem=None, parent=None, merged_into=None, follow_up_of=None)
    Ticket.objects.all().delete()
    Customer.objects.update(merged_into=None)
    Customer.objects.all().delete()
    Organization.objects.all().delete()
    Tag.objects.all().delete()
    User.objects.filter(username__in=[m.username for m in STAFF]).delete()
    Team.objects.filter(name__in=[name for name, _r, _d in TEAMS]).delete()
    CustomStatus.objects.filter(name__in=[name for name, _s in CUSTOM_STATUSES]).delete()
    CustomFieldDefinition.objects.filter(
        entity=CustomFieldDefinition.Entity.TICKET, key__in=[f["key"] for f in TICKET_FIELDS]
    ).delete()
    SetupStep.objects.filter(name=DEMO_STEP).delete()


def _problem_plans(rng: random.Random, *, now: datetime, tickets: int) -> list[ProblemPlan]:
    """A handful of outages spread over the history; with three or more, one is ongoing."""
    if tickets < 50:
        return []
    count = max(1, round(tickets / 1000))
    per_problem = max(2, round(tickets / 300))
    known = rng.sample(conversations.PROBLEMS, k=min(count, len(conversations.PROBLEMS)))
    plans = []
    for i in range(count):
        problem = known[i % len(known)]
        if i == 0 and count >= 3:
            start = now - timedelta(hours=rng.uniform(3, 10))
        else:
            days = (i + rng.uniform(0.2, 0.8)) * (HISTORY_DAYS - 5) / count
            start = now - timedelta(days=days)
        hours = rng.uniform(*problem.hours)
        plans.append(
            ProblemPlan(
                known=problem,
                start=start,
                fix_at=start + timedelta(hours=hours),
                slots=conversations.Slots(
                    firmware=f"4.{rng.randint(2, 4)}.{rng.randint(0, 9)}",
                    version=f"5.{rng.randint(3, 9)}.0",
                ),
                request_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                reports=max(2, round(per_problem * rng.uniform(0.6, 1.4))),
            )
        )
    return plans


def build_demo(
    *,
    seed: int = DEFAULT_SEED,
    tickets: int = DEFAULT_TICKETS,
    customers: int = DEFAULT_CUSTOMERS,
    organizations: int = DEFAULT_ORGANIZATIONS,
    progress: bool = False,
) -> DemoSummary:
    """Load the demo company into an empty database, in one transaction."""
    started = time.monotonic()
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    organizations = min(organizations, customers)
    with transaction.atomic():
        agents, queues, statuses = loading.create_company(now)
        people_rng = random.Random(f"{seed}:people")
        organization_plans = plan_organizations(people_rng, organizations)
        customer_plans = plan_customers(people_rng, organization_plans, customers)
        requesters = loading.create_customers(
            people_rng, organization_plans, customer_plans, now=now
        )

        rng = random.Random(f"{seed}:tickets")
        world = World(
            rng,
            now=now,
            teams=queues,
            agents=agents,
            close_after=timedelta(hours=settings.SERVICELOOP_SOLVED_TO_CLOSED_HOURS),
            custom_statuses=dict(CUSTOM_STATUSES),
        )
        calendar = ContactCalendar(
            rng, start=now - timedelta(days=HISTORY_DAYS), end=now - timedelta(minutes=10)
        )
        problems = _problem_plans(rng, now=now, tickets=tickets)
        reports = sum(p.reports for p in problems)
        parents = max(1, round(tickets / 500)) if tickets >= 50 else 0
        children = [rng.randint(2, 4) for _ in range(parents)]
        merges = round(tickets * 0.025)
        follow_ups = round(tickets * 0.015)
        plain = max(0, tickets - reports - parents - sum(children) - merges - follow_ups)
        teller = Storyteller(
            world=world,
            rng=rng,
            requesters=requesters,
            budget_merges=merges,
            budget_follow_ups=follow_ups,
            p_merge=min(1.0, 2.4 * merges / max(1, plain)),
            p_follow_up=min(1.0, 1.6 * follow_ups / max(1, plain) / RECURRING_SHARE),
        )

        # Every first contact, in time order, so routing sees the queue as it was.
        plans: list[tuple[datetime, int, str, object]] = []
        for problem in problems:
            plans.append((problem.start, len(plans), "problem", problem))
            end = problem.start + (problem.fix_at - problem.start) * 1.3
            for _ in range(problem.reports - 1):
                plans.append((draw_wave(rng, problem.start, end), len(plans), "incident", problem))
        for kids in children:
            at = calendar.draw(rng, zone("Europe/London"))
            while at > now - timedelta(days=25):
                at = calendar.draw(rng, zone("Europe/London"))
            plans.append((at, len(plans), "rollout", kids))
        for _ in range(plain):
            requester = teller.requester()
            at = calendar.draw(rng, requester.plan.region_zone)
            plans.append((at, len(plans), "plain", requester))
        plans.sort(key=lambda p: (p[0], p[1]))

        with tqdm(
            total=tickets, desc="Building tickets", unit=" tickets", disable=not progress
        ) as bar:
            for at, _order, kind, payload in plans:
                # Later tickets never route before this first contact: old load can go.
                world.floor = at
                before = len(world.lives)
                if kind == "problem":
                    assert isinstance(payload, ProblemPlan)
                    teller.problem_report(payload)
                elif kind == "incident":
                    assert isinstance(payload, ProblemPlan)
                    teller.incident(payload, at)
                elif kind == "rollout":
                    assert isinstance(payload, int)
                    teller.rollout(at, payload)
                else:
                    assert isinstance(payload, Requester)
                    teller.plain(at, payload)
                bar.update(len(world.lives) - before)
            # Duplicates and follow-ups that never happened leave room for plain tickets.
            world.floor = calendar.start
            while len(world.lives) < tickets:
                requester = teller.requester()
                at = calendar.draw(rng, requester.plan.region_zone)
                teller.plain(at, requester, spawn=False)
                bar.update(1)

        loading.write_tickets(world.lives, custom_statuses=statuses, progress=progress)
        loading.date_customers(people_rng, requesters, world.lives, now=now)
        loading.remember_routing(agents, world.last_routed)
        SetupStep.objects.get_or_create(name=DEMO_STEP)
    return DemoSummary(
        tickets=len(world.lives),
        customers=len(requesters),
        organizations=len(organization_plans),
        agents=len(agents),
        seconds=math.floor((time.monotonic() - started) * 10) / 10,
        now=now,
    )
