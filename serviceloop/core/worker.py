"""`serviceloop worker`: everything that runs outside web requests, in one process.

* the outbox dispatcher: durable event deliveries (see core/outbox.py);
* the schedule: periodic sweeps the apps register (core/schedules.py), such as closing
  solved tickets;
* the django-tasks worker: the database backend's `db_worker`, or RQ's worker with its
  scheduler when REDIS_URL is set. It runs in the main thread, so its signal handling works.

Several worker processes can run at once: deliveries are leased, and a sweep is safe to
run twice.
"""

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import close_old_connections

from serviceloop.core import outbox, schedules

logger = logging.getLogger("serviceloop.worker")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dispatch_forever(stop: threading.Event, interval: float) -> None:
    me = worker_id()
    while not stop.is_set():
        try:
            ran = outbox.deliver_pending(worker_id=me)
        except Exception:
            logger.exception("Outbox dispatch failed; retrying")
            ran = 0
        finally:
            close_old_connections()
        if not ran:
            stop.wait(interval)


def _schedule_forever(stop: threading.Event) -> None:
    due: dict[str, float] = {}
    while not stop.is_set():
        for schedule in schedules.registered():
            if time.monotonic() >= due.get(schedule.name, 0.0):
                try:
                    schedule.run()
                except Exception:
                    logger.exception("Scheduled job %r failed", schedule.name)
                finally:
                    close_old_connections()
                due[schedule.name] = time.monotonic() + schedule.every_seconds
        stop.wait(1.0)


def start_background_threads(
    stop: threading.Event, *, interval: float = 0.5
) -> list[threading.Thread]:
    threads = [
        threading.Thread(
            target=_dispatch_forever, args=(stop, interval), name="outbox", daemon=True
        ),
        threading.Thread(target=_schedule_forever, args=(stop,), name="schedule", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def _refuse_a_pool_across_forks() -> None:
    """Refuse to run RQ, which forks a child per job, in a process with a connection pool.

    A pool belongs to the whole process, so a forked child takes the parent's idle pooled
    sockets, and both processes then talk over them at once: one reads the other's results
    ("the last operation didn't produce records"), or waits for an answer the other took.
    `serviceloop worker` never has a pool (cli.py); this stops other ways in, such as
    `django-admin worker` with the web server's settings.
    """
    pooled = [
        alias
        for alias, database in settings.DATABASES.items()
        if database.get("OPTIONS", {}).get("pool")
    ]
    if settings.REDIS_URL and pooled:
        raise ImproperlyConfigured(
            "The worker forks a process per task, so it must not use a database connection "
            "pool (DATABASES[%r] has one). Start it with `serviceloop worker`, or set "
            "SERVICELOOP_DATABASE_POOL=false." % pooled[0]
        )


def run_worker(*, interval: float = 0.5, burst: bool = False) -> None:
    """Run the worker until interrupted; `burst` does all due work once, then returns."""
    _refuse_a_pool_across_forks()
    if burst:
        outbox.deliver_pending(worker_id=worker_id())
        run_task_worker(burst=True)
        outbox.deliver_pending(worker_id=worker_id())
        return
    stop = threading.Event()
    start_background_threads(stop, interval=interval)
    try:
        run_task_worker(burst=False)
    finally:
        stop.set()


def run_task_worker(*, burst: bool) -> None:
    if settings.REDIS_URL:
        # RQ's own Job class cannot call a django-tasks Task; django_tasks_rq's Job can.
        args = ["default", "--with-scheduler", "--job-class", "django_tasks_rq.Job"]
        args += ["--burst"] if burst else []
        call_command("rqworker", *args)
    else:
        args = ["--no-startup-delay", "--interval", "0.5"] + (["--batch"] if burst else [])
        call_command("db_worker", *args, reload=False)
