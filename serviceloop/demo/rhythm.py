"""When customers write in and when agents are at work: the rhythms demo tickets follow.

Contact volume peaks on Monday and Tuesday, drops at the weekend, and follows each
customer's own business day. Agents answer only on their shifts, so a ticket sent on
Saturday night waits for Monday morning, as it would.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Monday first. Shops write most after a weekend of trading and least while trading.
WEEKDAY_WEIGHT = (1.32, 1.22, 1.08, 1.04, 0.9, 0.36, 0.28)

# By local hour: mornings before opening and the lull after lunch show in every queue.
WORKDAY_HOURS = (
    0.08, 0.05, 0.04, 0.04, 0.06, 0.15, 0.4, 0.9, 1.6, 2.1, 2.2, 2.0,
    1.5, 1.7, 1.9, 1.8, 1.55, 1.2, 0.85, 0.7, 0.62, 0.5, 0.3, 0.15,
)  # fmt: skip
WEEKEND_HOURS = (
    0.1, 0.06, 0.04, 0.04, 0.05, 0.1, 0.2, 0.45, 0.8, 1.1, 1.3, 1.35,
    1.3, 1.25, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.45, 0.3, 0.15,
)  # fmt: skip

# Customers answer during their waking hours.
CUSTOMER_DAY = (time(7, 30), time(22, 0))


@dataclass(frozen=True)
class Shift:
    """The hours an agent works, in their own time zone."""

    zone: ZoneInfo
    start: time
    end: time
    days: frozenset[int]  # 0 = Monday

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def after(self, moment: datetime, minutes: float) -> datetime:
        """The moment `minutes` of working time after `moment` (waiting out nights, days off)."""
        local = moment.astimezone(self.zone)
        remaining = timedelta(minutes=minutes)
        for _day in range(30):
            day = local.date()
            if day.weekday() in self.days:
                opens = datetime.combine(day, self.start, tzinfo=self.zone)
                closes = datetime.combine(day, self.end, tzinfo=self.zone)
                local = max(local, opens)
                if local < closes:
                    if local + remaining <= closes:
                        return (local + remaining).astimezone(UTC)
                    remaining -= closes - local
            local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        return local.astimezone(UTC)


def customer_after(
    rng: random.Random, zone: ZoneInfo, moment: datetime, minutes: float
) -> datetime:
    """When a customer who waits `minutes` writes back: never in the middle of their night."""
    local = (moment + timedelta(minutes=minutes)).astimezone(zone)
    start, end = CUSTOMER_DAY
    if local.time() >= end:
        local = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=zone)
        local += timedelta(minutes=rng.uniform(0, 150))
    elif local.time() < start:
        local = datetime.combine(local.date(), start, tzinfo=zone)
        local += timedelta(minutes=rng.uniform(0, 150))
    return local.astimezone(UTC)


class ContactCalendar:
    """Draws the moments customers write in over the demo period.

    Every local day gets a weight (weekday, a slowly growing business, and a little noise
    that all time zones share, so busy days are busy everywhere); the hour follows the
    customer's local business day.
    """

    def __init__(self, rng: random.Random, *, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        first, last = start.date() - timedelta(days=1), end.date() + timedelta(days=1)
        self.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        span = max(1, len(self.days) - 1)
        self.noise = {day: rng.uniform(0.85, 1.15) for day in self.days}
        self.day_weight = {
            day: WEEKDAY_WEIGHT[day.weekday()] * (0.82 + 0.36 * i / span) * self.noise[day]
            for i, day in enumerate(self.days)
        }
        total, self.cumulative = 0.0, []
        for day in self.days:
            total += self.day_weight[day]
            self.cumulative.append(total)

    def draw(self, rng: random.Random, zone: ZoneInfo) -> datetime:
        """A moment in [start, end) when a customer in `zone` writes in."""
        for _attempt in range(200):
            day: date = rng.choices(self.days, cum_weights=self.cumulative)[0]
            weekend = day.weekday() >= 5
            hours = WEEKEND_HOURS if weekend else WORKDAY_HOURS
            hour = rng.choices(range(24), weights=hours)[0]
            local = datetime.combine(day, time(hour), tzinfo=zone) + timedelta(
                seconds=rng.randrange(3600)
            )
            moment = local.astimezone(UTC)
            if self.start <= moment < self.end:
                return moment
        return self.start + (self.end - self.start) * rng.random()


def draw_wave(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in a short window, front-loaded: reports of an outage come in a wave."""
    span = (end - start).total_seconds()
    return start + timedelta(seconds=span * min(0.999, rng.expovariate(3.0)))
