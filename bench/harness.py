"""What every benchmark shares: its own database, the production server, timings, results.

A benchmark never touches the developer's database: each one gets its own var/ directory
under var/bench/ (the SQLite file lives there) or its own PostgreSQL database, and Django
is set up in this process only after the environment points at them.
"""

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
BENCH_VAR = REPO / "var" / "bench"
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
# Variables of the developer's own setup that must not leak into a benchmark.
PRIVATE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "DEBUG", "MEDIA_ROOT", "SECRET_KEY")


class BenchmarkFailed(Exception):
    """The benchmark could not produce a valid figure (server down, HTTP errors, bad data)."""


@dataclass(frozen=True)
class Target:
    """One benchmark's own database: a SQLite file under var/bench/ or a PostgreSQL database."""

    db: str
    name: str
    postgres_server: str = DEFAULT_POSTGRES

    @property
    def var_dir(self) -> Path:
        return BENCH_VAR / f"{self.db}-{self.name}"

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "serviceloop.sqlite3"

    @property
    def postgres_name(self) -> str:
        return "sl_bench_" + self.name.replace("-", "_")

    @property
    def postgres_backends(self) -> str:
        """The database name PostgreSQL backends of this benchmark show ("" on SQLite)."""
        return self.postgres_name if self.db == "postgres" else ""

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in PRIVATE_VARIABLES}
        env["DJANGO_SETTINGS_MODULE"] = "serviceloop.settings"
        env["SERVICELOOP_VAR_DIR"] = str(self.var_dir)
        env["LOG_LEVEL"] = "WARNING"
        env["PYTHONUNBUFFERED"] = "1"
        if self.db == "postgres":
            env["DATABASE_URL"] = f"{self.postgres_server}/{self.postgres_name}"
        return env


def _postgres_admin(target: Target) -> Any:
    import psycopg

    try:
        return psycopg.connect(f"{target.postgres_server}/postgres", autocommit=True)
    except psycopg.OperationalError as error:
        raise BenchmarkFailed(
            f"PostgreSQL is not reachable at {target.postgres_server} ({error}); start it or "
            "set BENCH_POSTGRES_URL."
        ) from None


def database_exists(target: Target) -> bool:
    if target.db == "sqlite":
        return target.sqlite_path.exists()
    with _postgres_admin(target) as admin:
        row = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [target.postgres_name]
        ).fetchone()
    return row is not None


def create_empty_database(target: Target) -> None:
    """Drop the benchmark's database if it exists and create an empty one."""
    target.var_dir.mkdir(parents=True, exist_ok=True)
    if target.db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target.sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    from psycopg import errors, sql

    name = sql.Identifier(target.postgres_name)
    with _postgres_admin(target) as admin:
        # Never WITH (FORCE): the database may be another benchmark's, running right now.
        try:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        except errors.ObjectInUse:
            raise BenchmarkFailed(
                f"{target.postgres_name} is in use by another process; wait for it to finish."
            ) from None
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def setup_django(target: Target) -> None:
    """Point this process at the benchmark's database, set Django up and migrate."""
    target.var_dir.mkdir(parents=True, exist_ok=True)
    for name in PRIVATE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(target.environment())
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    database = settings.DATABASES["default"]
    expected = target.postgres_name if target.db == "postgres" else str(target.sqlite_path)
    if str(database["NAME"]) != expected:
        raise BenchmarkFailed(f"Refusing to run against {database['NAME']}; expected {expected}.")
    call_command("migrate", interactive=False, verbosity=0)


def bench_agent(username: str = "bench") -> Any:
    """The admin the benchmarks act as (created once per database)."""
    from serviceloop.accounts import services as accounts
    from serviceloop.accounts.models import Role, User

    agent = User.objects.filter(username=username).first()
    if agent is None:
        agent = accounts.create_agent(
            actor=None, username=username, role=Role.ADMIN, first_name="Bench"
        )
    return agent


def api_token(agent: Any, scope: str) -> str:
    from serviceloop.accounts.services import create_api_token

    _token, key = create_api_token(owner=agent, scope=scope, name=f"bench {scope}")
    return key


def add_server_arguments(parser: Any, *, default_workers: str) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"web server worker processes (default: {default_workers})",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server only, e.g. CONN_MAX_AGE=0 (repeatable)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="PostgreSQL server (without a database name); BENCH_POSTGRES_URL sets the default",
    )


def server_env(pairs: list[str]) -> dict[str, str]:
    extra = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise BenchmarkFailed(f"--server-env takes NAME=VALUE, not {pair!r}.")
        extra[name] = value
    return extra


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int, *, with_exited_children: bool = False) -> float:
    """User plus system CPU time of one process (and of its exited children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_exited_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes() -> Iterator[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process on the machine."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        head, _sep, rest = stat.rpartition(")")
        yield int(entry.name), int(rest.split()[1]), head.partition("(")[2]


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    ticks = os.sysconf("SC_CLK_TCK")
    return (total - idle) / ticks, total / ticks


class Server:
    """The production web server, as `serviceloop run` starts it, on a free local port."""

    def __init__(
        self, target: Target, *, workers: int, extra_env: dict[str, str] | None = None
    ) -> None:
        from django.conf import settings

        self.target = target
        self.workers = workers
        self.extra_env = extra_env or {}
        # Request threads per process: the server's own default unless set for it.
        self.threads = int(
            self.extra_env.get("SERVICELOOP_WEB_THREADS", settings.SERVICELOOP_WEB_THREADS)
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = target.var_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        from serviceloop.management.commands.run import web_server_command

        return web_server_command(
            "127.0.0.1", self.port, workers=self.workers, threads=self.threads
        )

    def __enter__(self) -> "Server":
        from django.db import connections

        # The server processes get the database to themselves (SQLite has one writer).
        connections.close_all()
        # WhiteNoise warns about a missing STATIC_ROOT on every start otherwise.
        (self.target.var_dir / "static").mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                env={**self.target.environment(), **self.extra_env},
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkFailed(f"The server exited at start; see {self.log_path}.")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise BenchmarkFailed(f"The server did not answer within 60 s; see {self.log_path}.")
        # granian starts its worker processes one by one: wait until all are up.
        deadline = time.monotonic() + 30
        while len(self.pids()) < self.workers + 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        # granian's main process and its workers, which are all its children.
        workers = [pid for pid, ppid, _name in _processes() if ppid == self.process.pid]
        return [self.process.pid, *workers]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class CpuSample:
    at: float
    machine_busy: float
    server: float
    client: float
    postgres: float
    # CPU seconds of each live backend serving the benchmark's database, by pid.
    postgres_own: dict[int, float]


def _serves_database(pid: int, database: str) -> bool:
    """Whether a PostgreSQL backend serves `database`, from its process title."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return False
    # "postgres: 15/main: USER DATABASE HOST(PORT) STATE"
    return f" {database} " in title.replace("\0", " ")


def sample_cpu(server: Server | None, *, database: str = "") -> CpuSample:
    """CPU seconds used so far by the server, this client, PostgreSQL and the machine.

    `postgres` is all of PostgreSQL, other databases' backends and exited backends
    included; `postgres_own` only the live backends connected to `database`.
    """
    processes = {pid: (ppid, name) for pid, ppid, name in _processes()}
    postgres = 0.0
    postgres_own: dict[int, float] = {}
    for pid, (ppid, name) in processes.items():
        if name != "postgres":
            continue
        # A backend that exits between two samples moves its CPU time into the
        # postmaster's exited-children total, so short-lived backends count too.
        postmaster = processes.get(ppid, (0, ""))[1] != "postgres"
        used = _cpu_seconds(pid, with_exited_children=postmaster)
        postgres += used
        if database and _serves_database(pid, database):
            postgres_own[pid] = used
    busy, _total = _machine_cpu()
    return CpuSample(
        at=time.perf_counter(),
        machine_busy=busy,
        server=sum(_cpu_seconds(pid) for pid in server.pids()) if server else 0.0,
        client=time.process_time(),
        postgres=postgres,
        postgres_own=postgres_own,
    )


def cpu_usage(before: CpuSample, after: CpuSample, *, requests: int) -> dict[str, Any]:
    """Who used the CPU between two samples: cores on average, and ms per request.

    `other` is everything else on the machine (other test suites, the OS): the noise.
    CPU time per request barely changes when the machine is busy, unlike latency.
    """
    wall = after.at - before.at
    used = {
        "server": after.server - before.server,
        "client": after.client - before.client,
        "postgres": after.postgres - before.postgres,
        # A backend that exited in between is missing here; one that started (even under a
        # reused pid, then with less CPU than before) is counted whole.
        "postgres_own_backends": sum(
            used - prior if used >= (prior := before.postgres_own.get(pid, 0.0)) else used
            for pid, used in after.postgres_own.items()
        ),
        "machine": after.machine_busy - before.machine_busy,
    }
    used["other"] = max(0.0, used["machine"] - used["server"] - used["client"] - used["postgres"])
    return {
        "cores": {name: round(seconds / wall, 2) for name, seconds in used.items()},
        "ms_per_request": {
            name: round(1000 * used[name] / requests, 2)
            for name in ("server", "client", "postgres", "postgres_own_backends")
        },
    }


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    if not seconds:
        return {}
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) == 1:
        return {"p50_ms": ms[0], "p95_ms": ms[0], "p99_ms": ms[0], "max_ms": ms[0]}
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(ms[-1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Save a result as bench/results/<name>-<UTC time>.json and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    document = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "machine": machine(),
        **result,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


@contextmanager
def timed(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    phases[name] = round(time.perf_counter() - started, 2)
