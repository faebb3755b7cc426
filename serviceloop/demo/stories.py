"""How demo tickets unfold: pick-up, questions and answers, waits, solves, reopens, closes.

Each story drives a `TicketLife` through the service twins in `lifecycle`, with times from
the agents' shifts and the customers' waking hours. Plain stories may spawn a duplicate
(merged when the ticket is picked up) or a follow-up (after it closed); rollouts split into
child tickets; known problems gather incidents and solve them together.
"""

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from serviceloop.demo import conversations as text
from serviceloop.demo.conversations import KnownProblem, Scenario, Slots
from serviceloop.demo.lifecycle import Agent, Requester, Stop, TicketLife, World
from serviceloop.demo.people import (
    CUSTOMER_SUPPORT,
    DEVICES,
    FIRST_NAMES,
    HARDWARE,
    LOCATIONS,
    PERSONAL_DOMAINS,
    TECHNICAL_SUPPORT,
)
from serviceloop.demo.rhythm import customer_after
from serviceloop.tickets.models import Channel, Status, TicketType

PRIORITIES = ("low", "normal", "high", "urgent")
FIRST_REPLY_MEDIAN = {"low": 320.0, "normal": 150.0, "high": 60.0, "urgent": 25.0}
CHANNEL_MIX = (
    (Channel.EMAIL, 0.46),
    (Channel.WEB, 0.2),
    (Channel.CHAT, 0.14),
    (Channel.PHONE, 0.07),
    (Channel.API, 0.07),
    (Channel.SOCIAL, 0.06),
)
PLAN_PRICE = {"Free": 0, "Pro": 49, "Enterprise": 299}
WORKDAY = 9 * 60  # working minutes in a day
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
VAT_PREFIX = {"GB": "GB", "IE": "IE", "DE": "DE", "NL": "NL", "FR": "FR", "ES": "ES"}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _sweep(moment: datetime) -> datetime:
    """The scheduler's next five-minute run at or after `moment`."""
    base = moment.replace(second=0, microsecond=0)
    minutes = (5 - base.minute % 5) % 5
    if minutes == 0 and base < moment:
        minutes = 5
    return base + timedelta(minutes=minutes)


@dataclass
class ProblemPlan:
    known: KnownProblem
    start: datetime
    fix_at: datetime
    slots: Slots
    request_id: uuid.UUID
    reports: int
    life: TicketLife | None = None
    converted_at: datetime | None = None
    solver: Agent | None = None


@dataclass
class Storyteller:
    world: World
    rng: random.Random
    requesters: list[Requester]
    budget_merges: int
    budget_follow_ups: int
    p_merge: float
    p_follow_up: float
    weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cumulative: list[float] = []
        total = 0.0
        for requester in self.requesters:
            total += requester.plan.activity
            self.cumulative.append(total)
        self.enterprise = [
            r for r in self.requesters if r.organization and r.organization.tier == "enterprise"
        ] or self.requesters
        self.with_phone = [r for r in self.requesters if r.plan.phone] or self.requesters
        self.with_handle = [r for r in self.requesters if r.plan.social] or self.requesters
        self.engineer = next(a for a in self.world.agents if a.is_contributor)
        self.scenario_weights = [s.weight for s in text.SCENARIOS]

    # --- Choosing -------------------------------------------------------------------------

    def requester(self, pool: list[Requester] | None = None) -> Requester:
        if pool is not None:
            return self.rng.choice(pool)
        return self.rng.choices(self.requesters, cum_weights=self.cumulative)[0]

    def scenario(self) -> Scenario:
        return self.rng.choices(text.SCENARIOS, self.scenario_weights)[0]

    def slots(self, requester: Requester, at: datetime) -> Slots:
        rng, plan = self.rng, requester.plan
        organization = plan.organization
        currency = plan.region.currency
        tier = (organization.tier if organization else "free").title()
        price = PLAN_PRICE[tier] or 49
        staff = rng.choice(FIRST_NAMES)
        domain = organization.domains[0] if organization else rng.choice(PERSONAL_DOMAINS)
        ordered = at - timedelta(days=rng.randint(3, 12))
        plans = ("Free", "Pro", "Enterprise")
        new_plan = plans[min(2, plans.index(tier) + 1)] if tier != "Enterprise" else "Pro"
        vat = VAT_PREFIX.get(plan.region.country, "EIN ")
        return Slots(
            first=plan.first,
            name=plan.name,
            org=organization.name if organization else "our shop",
            order=f"TW-{rng.randint(100000, 999999)}",
            order_date=_ordinal(ordered.day),
            days=str(rng.randint(3, 8)),
            location=rng.choice(LOCATIONS),
            device=rng.choice(HARDWARE),
            product=rng.choice(DEVICES),
            staff=staff,
            staff_email=f"{staff.lower()}@{domain}",
            tracking=f"1Z{rng.randrange(16**10):010X}",
            tracking2=f"1Z{rng.randrange(16**10):010X}",
            price=f"{currency}{rng.choice((39, 79, 129, 249))}.00",
            amount=f"{currency}{price}.00",
            plan=tier,
            new_plan=new_plan,
            plan_month=MONTHS[at.month - 1],
            last4=f"{rng.randrange(10000):04d}",
            invoice=f"INV-{at.year}-{rng.randint(10000, 99999)}",
            vat=f"{vat}{rng.randrange(10**8, 10**9)}",
            weekday=WEEKDAYS[(at - timedelta(days=rng.randint(1, 4))).weekday()],
            payout=f"{currency}{rng.randint(300, 9000):,}.{rng.randrange(100):02d}",
            alt_email=(plan.extra_emails or [f"{plan.first.lower()}@{PERSONAL_DOMAINS[0]}"])[0],
            error=f"E-{rng.randint(1000, 1999)}",
            firmware=f"4.{rng.randint(1, 3)}.{rng.randint(0, 9)}",
            diag=f"DX-{rng.randrange(16**6):06X}",
            browser=rng.choice(("Chrome", "Safari", "Firefox", "Edge")),
            version=f"5.{rng.randint(1, 8)}.{rng.randint(0, 4)}",
            next_version=f"5.{rng.randint(9, 12)}",
            count=str(rng.randint(3, 12)),
            handle="@TillwiseHelp",
        )

    def channel_for(self, scenario: Scenario, at: datetime) -> str:
        channel = self.rng.choices([c for c, _ in CHANNEL_MIX], [w for _, w in CHANNEL_MIX])[0]
        if channel == Channel.SOCIAL and not scenario.social:
            channel = Channel.EMAIL
        if channel == Channel.CHAT and (
            scenario.team != CUSTOMER_SUPPORT or not self.on_shift(CUSTOMER_SUPPORT, at)
        ):
            # The chat widget shows the offline form outside support hours.
            channel = Channel.WEB
        if channel == Channel.PHONE and not self.on_shift(scenario.team, at):
            channel = Channel.EMAIL
        return channel

    def on_shift(self, team: str, at: datetime) -> list[Agent]:
        return [
            a
            for a in self.world.teams[team].members
            if not a.is_contributor and a.shift.contains(at)
        ]

    def first_reply_minutes(self, life: TicketLife) -> float:
        if life.channel == Channel.CHAT:
            return self.rng.uniform(0.3, 3.0)
        median = FIRST_REPLY_MEDIAN[life.priority]
        if life.channel == Channel.SOCIAL:
            median *= 0.5
        return self.rng.lognormvariate(math.log(median), 0.8)

    def customer_delay(self, life: TicketLife, at: datetime, median_minutes: float) -> datetime:
        if life.channel == Channel.CHAT:
            return at + timedelta(minutes=self.rng.uniform(0.5, 3.5))
        minutes = self.rng.lognormvariate(math.log(median_minutes), 0.9)
        return customer_after(self.rng, life.requester.plan.region_zone, at, minutes)

    def agent_delay(self, life: TicketLife, agent: Agent, at: datetime, median: float) -> datetime:
        if life.channel == Channel.CHAT and at <= self.world.now:
            return at + timedelta(minutes=self.rng.uniform(0.5, 4))
        return agent.shift.after(at, self.rng.lognormvariate(math.log(median), 0.7))

    def reply_channel(self, life: TicketLife) -> str:
        return (
            life.channel
            if life.channel in (Channel.EMAIL, Channel.CHAT, Channel.SOCIAL)
            else (Channel.EMAIL)
        )

    def write(self, life: TicketLife, at: datetime) -> datetime:
        """The time an agent spends reading and writing before the reply goes out."""
        spread = (0.3, 1.5) if life.channel == Channel.CHAT else (2.0, 12.0)
        return at + timedelta(minutes=self.rng.uniform(*spread))

    def says(self, life: TicketLife, agent: Agent, body: str, slots: Slots) -> str:
        return text.agent_says(
            self.rng, body, slots, channel=life.channel, signature=agent.member.signature
        )

    def customer_says(self, life: TicketLife, body: str, slots: Slots, *, first: bool) -> str:
        channel = life.channel if first else self.reply_channel(life)
        return text.customer_says(self.rng, body, slots, channel=channel, first=first)

    # --- Shared steps ---------------------------------------------------------------------

    def pick_up(self, life: TicketLife, after: datetime, minutes: float) -> tuple[Agent, datetime]:
        """The agent who first works the ticket, and when; takes it over or assigns it."""
        queue = life.team
        if queue is None:
            raise Stop()
        # The lead steps in only when nobody else of the team can.
        people = [m for m in queue.members if m.user.role == "agent"] or [
            m for m in queue.members if not m.is_contributor
        ]
        times = sorted(
            (m.shift.after(after, minutes * self.rng.uniform(0.8, 1.3)), m.user.pk, m)
            for m in people
        )
        # Whoever of those starting about the same time grabs it first.
        soon = [t for t in times if t[0] - times[0][0] <= timedelta(minutes=90)]
        first_time, _pk, first = self.rng.choice(soon)
        assignee = life.assignee
        if assignee is not None and not assignee.is_contributor:
            mine = assignee.shift.after(after, minutes)
            patience = timedelta(minutes=5) if life.channel == Channel.CHAT else timedelta(hours=14)
            if first is not assignee and mine - first_time > patience:
                # The assignee is off for a while; a colleague on shift takes the ticket.
                life.assign(at=first_time, agent=first, assignee=first)
                return first, first_time
            return assignee, mine
        life.assign(at=first_time, agent=first, assignee=first)
        return first, first_time

    def solve(
        self, life: TicketLife, scenario: Scenario, slots: Slots, agent: Agent, at: datetime
    ) -> datetime:
        if scenario.solve_tags and self.rng.random() < 0.7:
            life.update(at=at, agent=agent, add_tags=scenario.solve_tags)
        body = self.says(life, agent, self.rng.choice(scenario.answer), slots)
        life.reply(at=at, agent=agent, body=body, status=Status.SOLVED)
        return at

    def wait(
        self, life: TicketLife, scenario: Scenario, slots: Slots, agent: Agent, at: datetime
    ) -> tuple[Agent, datetime, bool]:
        """Park the ticket on the warehouse or engineering; return who answers, when, solved?"""
        rng = self.rng
        life.reply(
            at=at, agent=agent, body=self.says(life, agent, rng.choice(scenario.wait), slots)
        )
        at += timedelta(minutes=1)
        life.change_status(at=at, agent=agent, custom_status=scenario.wait_status)
        engineering = self.world.custom_statuses[scenario.wait_status] == Status.ON_HOLD
        if engineering:
            life.note(
                at=at + timedelta(minutes=1), agent=agent, body=rng.choice(text.ESCALATE_NOTES)
            )
            found = self.engineer.shift.after(at, rng.uniform(60, 900))
            ready = agent.shift.after(found, rng.uniform(20, 240))
        else:
            found = agent.shift.after(at, rng.uniform(240, 1100))
            ready = found + timedelta(minutes=rng.uniform(5, 40))
        chase = customer_after(rng, life.requester.plan.region_zone, at, rng.uniform(360, 1800))
        if rng.random() < 0.2 and chase < found - timedelta(minutes=30):
            life.customer_writes(
                at=chase,
                body=self.customer_says(life, rng.choice(text.CHASERS), slots, first=False),
                channel=self.reply_channel(life),
            )
            update_at = min(agent.shift.after(chase, rng.uniform(15, 120)), found)
            life.reply(
                at=update_at,
                agent=agent,
                body=self.says(life, agent, rng.choice(text.UPDATE_WHILE_WAITING), slots),
            )
            life.change_status(
                at=update_at + timedelta(minutes=1),
                agent=agent,
                custom_status=scenario.wait_status,
            )
        if engineering:
            life.note(at=found, agent=self.engineer, body=rng.choice(scenario.wait_notes))
            team = life.team
            if team is not None and self.engineer in team.members and rng.random() < 0.25:
                # Engineering answers this one directly.
                life.assign(at=ready, agent=agent, assignee=self.engineer)
                answer_at = self.engineer.shift.after(ready, rng.uniform(30, 300))
                intro = rng.choice(text.ENGINEER_INTRO).replace("Ravi", agent.member.first_name)
                answer = f"{intro} {rng.choice(scenario.answer)}"
                body = self.says(life, self.engineer, answer, slots)
                life.reply(at=answer_at, agent=self.engineer, body=body, status=Status.SOLVED)
                return self.engineer, answer_at, True
        else:
            life.note(at=found, agent=agent, body=rng.choice(scenario.wait_notes))
        return agent, ready, False

    def after_solve(
        self, life: TicketLife, scenario: Scenario, slots: Slots, agent: Agent, at: datetime
    ) -> None:
        """A few customers write back inside the closing window, which reopens the ticket."""
        rng = self.rng
        window = self.world.close_after - timedelta(hours=2)
        roll = rng.random()
        if roll < 0.045 and scenario.reopen:
            back = self.customer_delay(life, at, 600)
            if back - at < window:
                life.customer_writes(
                    at=back,
                    body=self.customer_says(life, rng.choice(scenario.reopen), slots, first=False),
                    channel=self.reply_channel(life),
                )
                answer = self.says(life, agent, rng.choice(scenario.reanswer), slots)
                life.reply(
                    at=self.agent_delay(life, agent, back, 60),
                    agent=agent,
                    body=answer,
                    status=Status.SOLVED,
                )
        elif roll < 0.08:
            back = self.customer_delay(life, at, 90)
            if back - at < window:
                life.customer_writes(
                    at=back,
                    body=self.customer_says(life, rng.choice(text.THANKS), slots, first=False),
                    channel=self.reply_channel(life),
                )
                # A thank-you reopens the ticket; the agent solves it again without a reply.
                life.change_status(
                    at=self.agent_delay(life, agent, back, 45), agent=agent, status=Status.SOLVED
                )

    def close(self, life: TicketLife) -> None:
        if life.status == Status.SOLVED and life.solved_at is not None:
            life.close(at=_sweep(life.solved_at + self.world.close_after))

    # --- Stories --------------------------------------------------------------------------

    def plain(self, at: datetime, requester: Requester, *, spawn: bool = True) -> None:
        """One customer request, from first message to close.

        `at` was drawn for `requester`'s time zone; a request only some customers make
        (enterprise features, social media, phone) goes to one of them instead.
        """
        scenario = self.scenario()
        channel = self.channel_for(scenario, at)
        if scenario.enterprise_only and not (
            requester.organization and requester.organization.tier == "enterprise"
        ):
            requester = self.requester(self.enterprise)
        elif channel == Channel.SOCIAL and not requester.plan.social:
            requester = self.requester(self.with_handle)
        elif channel == Channel.PHONE and not requester.plan.phone:
            requester = self.requester(self.with_phone)
        life = TicketLife(self.world, requester)
        try:
            slots = self.slots(requester, at)
            one_touch = not scenario.ask or self.rng.random() < scenario.one_touch
            self.open(life, scenario, slots, at=at, channel=channel, one_touch=one_touch)
            self.work(life, scenario, slots, one_touch=one_touch, spawn=spawn)
        except Stop:
            pass
        finally:
            life.finish()

    def open(
        self,
        life: TicketLife,
        scenario: Scenario,
        slots: Slots,
        *,
        at: datetime,
        channel: str,
        one_touch: bool,
    ) -> None:
        rng = self.rng
        life.channel = channel
        priority = rng.choices(PRIORITIES, scenario.priority)[0]
        subject = text.fill(rng.choice(scenario.subjects), slots)
        if priority == "urgent" and rng.random() < 0.4:
            subject = f"URGENT: {subject}"
        fields: dict[str, str] = {}
        if channel in (Channel.WEB, Channel.API):
            # The web form and the in-app form ask for these.
            if "order_number" in scenario.fields:
                fields["order_number"] = slots["order"]
            if "product" in scenario.fields:
                fields["product"] = slots["product"]
        if "plan" in scenario.fields and channel != Channel.SOCIAL:
            fields["plan"] = slots["plan"]
        teams = self.world.teams
        team = teams[scenario.team]
        if channel in (Channel.CHAT, Channel.SOCIAL) or (
            scenario.team != CUSTOMER_SUPPORT and rng.random() < 0.12
        ):
            team = teams[CUSTOMER_SUPPORT]
        if channel == Channel.PHONE:
            agent = rng.choice(self.on_shift(scenario.team, at))
            opening = rng.choice(text.PHONE_SUMMARY)
            said = rng.choice(scenario.answer if one_touch else scenario.ask)
            life.create(
                at=at,
                subject=subject,
                body=self.says(life, agent, f"{opening}\n\n{said}", slots),
                channel=channel,
                priority=priority,
                type=scenario.type,
                tags=[*scenario.tags, "phone"],
                team=teams[scenario.team],
                creator=agent,
                assignee=agent,
                custom_fields=fields,
                author="agent",
            )
            return
        if channel == Channel.SOCIAL:
            body = text.fill(rng.choice(scenario.social), slots)
            metadata = {"handle": life.requester.plan.social}
        else:
            body = self.customer_says(life, rng.choice(scenario.opening), slots, first=True)
            metadata = {"from": life.requester.customer.email} if channel == Channel.EMAIL else {}
        life.create(
            at=at,
            subject=subject,
            body=body,
            channel=channel,
            priority=priority,
            type=scenario.type,
            tags=list(scenario.tags),
            team=team,
            custom_fields=fields,
            metadata=metadata,
        )

    def work(
        self, life: TicketLife, scenario: Scenario, slots: Slots, *, one_touch: bool, spawn: bool
    ) -> None:
        rng = self.rng
        start = life.created_at
        if life.channel == Channel.PHONE:
            self.work_phone(life, scenario, slots, one_touch=one_touch)
            return
        agent, at = self.pick_up(life, start, self.first_reply_minutes(life))
        waited = at - start > timedelta(minutes=90)
        if spawn and self.budget_merges > 0 and waited and rng.random() < self.p_merge:
            self.duplicate(life, slots, agent, at)
        at = self.write(life, at)
        team = life.team
        if team is not None and team.name != scenario.team:
            life.note(at=at, agent=agent, body=rng.choice(text.TRIAGE_NOTES[scenario.team]))
            life.assign(
                at=at + timedelta(minutes=1), agent=agent, team=self.world.teams[scenario.team]
            )
            agent, at = self.pick_up(
                life, at + timedelta(minutes=1), self.first_reply_minutes(life)
            )
            at = self.write(life, at)
        self.prepare(life, scenario, slots, agent, at)
        at += timedelta(minutes=1)
        solved = False
        if one_touch:
            if scenario.wait and rng.random() < 0.3:
                agent, at, solved = self.wait(life, scenario, slots, agent, at)
            elif scenario.notes and rng.random() < 0.5:
                life.note(at=at, agent=agent, body=rng.choice(scenario.notes))
                at += timedelta(minutes=rng.uniform(1, 5))
        else:
            ask = self.says(life, agent, rng.choice(scenario.ask), slots)
            life.reply(at=at, agent=agent, body=ask, status=Status.PENDING)
            if rng.random() < 0.87:
                back = self.customer_delay(life, at, 300)
                details = rng.choice(scenario.details or text.THANKS)
                life.customer_writes(
                    at=back,
                    body=self.customer_says(life, details, slots, first=False),
                    channel=self.reply_channel(life),
                )
                at = self.agent_delay(life, agent, back, 90)
                if scenario.wait and rng.random() < 0.55:
                    agent, at, solved = self.wait(life, scenario, slots, agent, at)
                elif scenario.notes and rng.random() < 0.5:
                    life.note(at=at, agent=agent, body=rng.choice(scenario.notes))
                    at += timedelta(minutes=rng.uniform(1, 5))
            else:
                at = agent.shift.after(at, 3 * WORKDAY)
                nudge = self.says(life, agent, rng.choice(text.NUDGES), slots)
                life.reply(at=at, agent=agent, body=nudge, status=Status.PENDING)
                at = agent.shift.after(at, 4 * WORKDAY)
                gave_up = self.says(life, agent, rng.choice(text.GAVE_UP), slots)
                life.reply(at=at, agent=agent, body=gave_up, status=Status.SOLVED)
                solved = True
        if not solved:
            at = self.solve(life, scenario, slots, agent, at)
        self.after_solve(life, scenario, slots, life.assignee or agent, at)
        self.close(life)
        if spawn:
            self.follow_up(life, scenario, slots)

    def prepare(
        self, life: TicketLife, scenario: Scenario, slots: Slots, agent: Agent, at: datetime
    ) -> None:
        """What an agent tidies on first look: fields, priority, a note on big accounts."""
        rng = self.rng
        organization = life.requester.organization
        enterprise = organization is not None and organization.tier == "enterprise"
        if enterprise and rng.random() < 0.25:
            life.note(at=at, agent=agent, body=rng.choice(text.VIP_NOTES))
        fields = {}
        for key, slot in (("order_number", "order"), ("product", "product"), ("plan", "plan")):
            if key in scenario.fields and key not in life.custom_fields and rng.random() < 0.6:
                fields[key] = slots[slot]
        raise_priority = life.priority in ("low", "normal") and (
            "complaint" in scenario.tags or (enterprise and rng.random() < 0.1)
        )
        if fields or raise_priority:
            life.update(
                at=at,
                agent=agent,
                priority="high" if raise_priority else None,
                custom_fields=fields or None,
            )

    def work_phone(
        self, life: TicketLife, scenario: Scenario, slots: Slots, *, one_touch: bool
    ) -> None:
        """A call logged by the agent who took it: solved on the call, or a follow-up by email."""
        rng = self.rng
        agent = life.assignee
        if agent is None:
            raise Stop()
        at = life.created_at + timedelta(minutes=rng.uniform(2, 9))
        if one_touch:
            life.change_status(at=at, agent=agent, status=Status.SOLVED)
        else:
            life.change_status(at=at, agent=agent, status=Status.PENDING)
            back = self.customer_delay(life, at, 240)
            details = rng.choice(scenario.details or text.THANKS)
            life.customer_writes(
                at=back,
                body=text.customer_says(rng, details, slots, channel=Channel.EMAIL, first=False),
                channel=Channel.EMAIL,
            )
            at = self.agent_delay(life, agent, back, 90)
            at = self.solve(life, scenario, slots, agent, at)
        self.after_solve(life, scenario, slots, agent, at)
        self.close(life)

    def duplicate(self, life: TicketLife, slots: Slots, agent: Agent, pick_up: datetime) -> None:
        """The customer writes again before the first answer; the agent merges the two."""
        rng = self.rng
        start = life.created_at
        at = start + (pick_up - start) * rng.uniform(0.3, 0.75)
        if at - start < timedelta(minutes=20) or agent.is_contributor:
            return
        source = TicketLife(self.world, life.requester)
        channel = rng.choice((Channel.EMAIL, Channel.EMAIL, Channel.WEB))
        subject = text.fill(rng.choice(text.CHASER_SUBJECTS), Slots(subject=life.subject))
        source.channel = channel
        try:
            source.create(
                at=at,
                subject=subject,
                body=text.customer_says(
                    rng, rng.choice(text.CHASERS), slots, channel=channel, first=True
                ),
                channel=channel,
                priority=life.priority,
                type=life.type,
                tags=life.tags,
                team=life.team,
                metadata={"from": life.requester.customer.email}
                if channel == Channel.EMAIL
                else {},
            )
            self.budget_merges -= 1
            source.merge_into(at=pick_up + timedelta(minutes=1), agent=agent, target=life)
        finally:
            source.finish()

    def follow_up(self, life: TicketLife, scenario: Scenario, slots: Slots) -> None:
        """Weeks later the same trouble is back: a reply to the closed ticket opens a new one."""
        rng = self.rng
        # Only trouble that can come back comes back.
        if not scenario.reopen or self.budget_follow_ups <= 0 or life.closed_at is None:
            return
        if rng.random() > self.p_follow_up:
            return
        at = customer_after(
            rng, life.requester.plan.region_zone, life.closed_at, rng.uniform(1, 25) * 24 * 60
        )
        if at > self.world.now:
            return
        follow_up = TicketLife(self.world, life.requester)
        follow_up.channel = Channel.EMAIL
        line = rng.choice(text.FOLLOW_UP_OPENINGS)
        detail = rng.choice(scenario.reopen)
        body = text.customer_says(
            rng, f"{line}\n\n{detail}", slots, channel=Channel.EMAIL, first=False
        )
        try:
            follow_up.create(
                at=at,
                subject=life.subject,
                body=body,
                channel=Channel.EMAIL,
                priority=life.priority,
                type=life.type,
                tags=life.tags,
                team=life.team,
                follow_up_of=life,
                metadata={"from": life.requester.customer.email},
            )
            self.budget_follow_ups -= 1
            one_touch = not scenario.ask or rng.random() < 0.5
            self.work(follow_up, scenario, slots, one_touch=one_touch, spawn=False)
        except Stop:
            pass
        finally:
            follow_up.finish()

    def rollout(self, at: datetime, children: int) -> int:
        """An enterprise opening new sites: one parent ticket, one child per site."""
        rng = self.rng
        scenario = text.ROLLOUT
        requester = self.requester(self.enterprise)
        slots = self.slots(requester, at)
        slots["count"] = str(children)
        life = TicketLife(self.world, requester)
        created = 0
        kids: list[tuple[TicketLife, Slots]] = []
        try:
            life.create(
                at=at,
                subject=text.fill(rng.choice(scenario.subjects), slots),
                body=self.customer_says(life, rng.choice(scenario.opening), slots, first=True),
                channel=Channel.EMAIL,
                priority=rng.choice(("normal", "high")),
                type=TicketType.TASK,
                tags=list(scenario.tags),
                team=self.world.teams[CUSTOMER_SUPPORT],
                metadata={"from": requester.customer.email},
            )
            agent, at = self.pick_up(life, at, self.first_reply_minutes(life))
            at = self.write(life, at)
            team = life.team
            for site in rng.sample(text.SITES, k=children):
                child = TicketLife(self.world, requester)
                child_slots = Slots(slots, site=site, tracking=f"1Z{rng.randrange(16**10):010X}")
                kids.append((child, child_slots))
                child.channel = Channel.AGENT
                child.create(
                    at=at,
                    subject=text.fill(scenario.extra["child_subject"], child_slots),
                    body=self.says(child, agent, scenario.extra["child_body"], child_slots),
                    channel=Channel.AGENT,
                    priority=life.priority,
                    type=TicketType.TASK,
                    tags=list(scenario.tags),
                    team=team,
                    creator=agent,
                    assignee=agent,
                    author="agent",
                )
                created += 1
                child.set_parent(at=at + timedelta(minutes=1), agent=agent, parent=life)
                child.change_status(
                    at=at + timedelta(minutes=2),
                    agent=agent,
                    custom_status="Waiting on warehouse",
                )
                child.note(
                    at=at + timedelta(minutes=3),
                    agent=agent,
                    body=scenario.extra["child_wait_note"],
                )
                at += timedelta(minutes=rng.uniform(3, 6))
            split = self.says(life, agent, scenario.extra["split"], slots)
            life.reply(at=at, agent=agent, body=split, status=Status.PENDING)
            for child, child_slots in kids:
                try:
                    shipped = agent.shift.after(at, rng.uniform(3, 15) * WORKDAY)
                    body = self.says(child, agent, scenario.extra["child_answer"], child_slots)
                    child.reply(at=shipped, agent=agent, body=body, status=Status.SOLVED)
                    self.close(child)
                except Stop:
                    pass
            if any(child.is_unsolved for child, _ in kids):
                raise Stop()
            last = max(child.solved_at for child, _ in kids if child.solved_at)
            done = self.agent_delay(life, agent, last, 240)
            self.solve(life, scenario, slots, agent, done)
            self.close(life)
        except Stop:
            pass
        finally:
            life.finish()
            for child, _ in kids:
                child.finish()
        return created

    def problem_report(self, plan: ProblemPlan) -> None:
        """The first report of an outage, turned into the problem ticket."""
        rng = self.rng
        known = plan.known
        requester = self.requester()
        slots = Slots(self.slots(requester, plan.start), **plan.slots)
        life = TicketLife(self.world, requester)
        plan.life = life
        queue = self.world.teams[TECHNICAL_SUPPORT]
        try:
            life.channel = Channel.EMAIL
            life.create(
                at=plan.start,
                subject=rng.choice(known.report_subjects),
                body=self.customer_says(life, rng.choice(known.reports), slots, first=True),
                channel=Channel.EMAIL,
                priority="high",
                type=TicketType.INCIDENT,
                tags=list(known.tags),
                team=queue,
                metadata={"from": requester.customer.email},
            )
            agent, at = self.pick_up(life, plan.start, rng.uniform(10, 40))
            at = self.write(life, at)
            life.update(
                at=at,
                agent=agent,
                subject="[Known issue] " + text.fill(known.title, slots),
                priority="urgent",
                type=TicketType.PROBLEM,
                add_tags=("known-issue",),
                custom_fields={"product": known.product},
            )
            plan.converted_at, plan.solver = at, agent
            plan.fix_at = max(plan.fix_at, at + timedelta(minutes=rng.uniform(90, 240)))
            life.reply(
                at=at + timedelta(minutes=3),
                agent=agent,
                body=self.says(life, agent, rng.choice(known.known), slots),
            )
            life.change_status(
                at=at + timedelta(minutes=4),
                agent=agent,
                custom_status="Escalated to engineering",
            )
            life.note(
                at=at + timedelta(minutes=5),
                agent=agent,
                body="Looks like a wider issue, not just this customer: engineering is on it. "
                "Please link new reports to this ticket.",
            )
            notes = known.engineering_notes
            for i, note in enumerate(notes):
                moment = at + (plan.fix_at - at) * (i + 1) / (len(notes) + 1)
                life.note(at=moment, agent=self.engineer, body=note)
            life.reply(
                at=plan.fix_at - timedelta(minutes=5),
                agent=agent,
                body=self.says(life, agent, known.fixed, slots),
            )
            life.change_status(
                at=plan.fix_at, agent=agent, status=Status.SOLVED, request_id=plan.request_id
            )
            self.close(life)
        except Stop:
            pass
        finally:
            life.finish()

    def incident(self, plan: ProblemPlan, at: datetime) -> None:
        """Another customer hit by the outage: linked to the problem and solved with it."""
        rng = self.rng
        known = plan.known
        requester = self.requester()
        slots = Slots(self.slots(requester, at), **plan.slots)
        life = TicketLife(self.world, requester)
        channel = rng.choice((Channel.EMAIL, Channel.EMAIL, Channel.WEB, Channel.API))
        life.channel = channel
        try:
            life.create(
                at=at,
                subject=rng.choice(known.report_subjects),
                body=self.customer_says(life, rng.choice(known.reports), slots, first=True),
                channel=channel,
                priority=rng.choice(("normal", "high", "high", "urgent")),
                type=TicketType.INCIDENT,
                tags=list(known.tags),
                team=self.world.teams[TECHNICAL_SUPPORT],
                custom_fields={"product": known.product} if channel != Channel.EMAIL else {},
                metadata={"from": requester.customer.email} if channel == Channel.EMAIL else {},
            )
            agent, at = self.pick_up(life, at, self.first_reply_minutes(life))
            at = self.write(life, at)
            problem = plan.life
            if (
                problem is not None
                and plan.converted_at is not None
                and plan.solver is not None
                and max(at, plan.converted_at) < plan.fix_at - timedelta(minutes=15)
            ):
                at = max(at, plan.converted_at + timedelta(minutes=2))
                life.link_to_problem(at=at, agent=agent, problem=problem)
                known_issue = self.says(life, agent, rng.choice(known.known), slots)
                life.reply(at=at + timedelta(minutes=1), agent=agent, body=known_issue)
                life.change_status(at=at + timedelta(minutes=2), agent=agent, status=Status.ON_HOLD)
                chase = customer_after(rng, requester.plan.region_zone, at, rng.uniform(180, 1200))
                if rng.random() < 0.15 and chase < plan.fix_at - timedelta(minutes=40):
                    life.customer_writes(
                        at=chase,
                        body=self.customer_says(life, rng.choice(text.CHASERS), slots, first=False),
                        channel=self.reply_channel(life),
                    )
                    update_at = min(
                        agent.shift.after(chase, rng.uniform(10, 90)),
                        plan.fix_at - timedelta(minutes=20),
                    )
                    life.reply(
                        at=update_at,
                        agent=agent,
                        body=self.says(life, agent, rng.choice(text.UPDATE_WHILE_WAITING), slots),
                        status=Status.ON_HOLD,
                    )
                fixed = self.says(life, plan.solver, known.fixed, slots)
                life.reply(
                    at=plan.fix_at - timedelta(minutes=rng.uniform(1, 4)),
                    agent=plan.solver,
                    body=fixed,
                )
                life.solve_with_problem(
                    at=plan.fix_at, agent=plan.solver, request_id=plan.request_id
                )
            else:
                # Reported after the fix went out (or before anyone knew): answered directly.
                body = self.says(life, agent, known.fixed, slots)
                life.reply(at=at, agent=agent, body=body, status=Status.SOLVED)
            self.close(life)
        except Stop:
            pass
        finally:
            life.finish()
