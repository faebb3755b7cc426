"""Work `serviceloop worker` repeats on a schedule, registered by the app that owns it.

Like event subscribers, each app registers its periodic sweeps when it loads (from its
`handlers` module), so the worker in core runs them without importing the apps above it.
A sweep must be safe to run twice and at the same time in two workers.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    # Seconds between runs; a callable is read at each run (settings tests may change).
    every: float | Callable[[], float]
    run: Callable[[], object]

    @property
    def every_seconds(self) -> float:
        return self.every() if callable(self.every) else self.every


_schedules: dict[str, Schedule] = {}


def register(name: str, every: float | Callable[[], float], run: Callable[[], object]) -> None:
    """Run `run` every `every` seconds in the worker (registering a name again replaces it)."""
    _schedules[name] = Schedule(name, every, run)


def registered() -> list[Schedule]:
    return list(_schedules.values())
