"""Clearing away finished background work, so the outbox and task tables stay small.

Delivered outbox rows and finished database-backend task results are kept for
`SERVICELOOP_KEEP_FINISHED_WORK_DAYS` (to see what ran), then deleted a batch at a time.
Failed outbox rows stay: someone has to look at them.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command

from serviceloop.core import clock
from serviceloop.core.models import EventDelivery

BATCH = 5000


def prune_finished_work() -> int:
    """Delete delivered outbox rows and finished task results past their keeping time."""
    days = settings.SERVICELOOP_KEEP_FINISHED_WORK_DAYS
    cutoff = clock.now() - timedelta(days=days)
    pruned = 0
    while True:
        ids = list(
            EventDelivery.objects.filter(
                state=EventDelivery.State.DONE, done_at__lt=cutoff
            ).values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            break
        pruned += EventDelivery.objects.filter(id__in=ids).delete()[0]
    if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        call_command("prune_db_task_results", queue_name="*", min_age_days=days, verbosity=0)
    return pruned
