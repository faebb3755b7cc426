"""Background work in tests: the task queue, in-process workers and `serviceloop` processes.

Processes a test starts open the test database through DATABASE_URL, so the test must
commit what they should see: mark it `@pytest.mark.django_db(transaction=True)`.
"""

import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from serviceloop.core.worker import run_worker


def database_url() -> str:
    """The test database as a DATABASE_URL another process can open."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///%s" % database["NAME"]
    credentials = quote(database["USER"] or "")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"])
    return "postgres://%s@%s:%s/%s" % (
        credentials,
        database["HOST"] or "localhost",
        database["PORT"] or 5432,
        database["NAME"],
    )


def process_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a `serviceloop` process that shares this test's database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        SERVICELOOP_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    # REDIS_URL passes through unchanged, so the process uses the same task backend.
    env.update(overrides)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serviceloop_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "serviceloop.cli", *args]


def run_serviceloop(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `serviceloop ARGS` to completion and return its exit status and output."""
    return subprocess.run(
        serviceloop_command(*args),
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, and theirs, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            # "pid (command) state ppid ...": the command may contain spaces and parentheses.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_process_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and every process it started, as a crash of the machine would.

    Its process group is not enough: RQ's work horse, which runs the task, leaves the
    group so that it does not get the signals meant for the worker.
    """
    for pid in [process.pid, *descendants(process.pid)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `serviceloop worker`; kill it and its children on the way out."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serviceloop_command("worker", "--interval", "0.2"),
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            kill_process_tree(process)


def run_worker_burst() -> None:
    """Do all background work that is due now, in this process (`serviceloop worker --burst`).

    The task workers install their own SIGINT/SIGTERM handlers; put pytest's back after.
    """
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    handlers = {number: signal.getsignal(number) for number in signals}
    try:
        run_worker(burst=True)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def _empty_rq() -> None:
    import django_rq

    redis = django_rq.get_connection("default")
    for key in redis.scan_iter("rq:*"):
        redis.delete(key)


@contextmanager
def exclusive_task_queue() -> Iterator[None]:
    """Give the test the task queue to itself, empty.

    The database backend's queue lives in the test database, which is the test's own. RQ's
    lives in Redis, shared by every test process (pytest-xdist workers too): a worker there
    would take another test's jobs and run them against the wrong database. So tests that
    run tasks take turns, and each starts without jobs or scheduler locks left behind (a
    SIGKILLed worker's scheduler lock would otherwise last a minute).
    """
    if not settings.REDIS_URL:
        yield
        return
    digest = hashlib.sha256(settings.REDIS_URL.encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / ("serviceloop-tests-rq-%s.lock" % digest)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _empty_rq()
            yield
        finally:
            _empty_rq()
            fcntl.flock(lock, fcntl.LOCK_UN)
