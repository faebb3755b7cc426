"""Mail import benchmark: a gen_eml corpus through `serviceloop mail import`, threading checked.

    python -m bench.mail_import --db sqlite|postgres [--count 2000]

Prints one summary line and writes bench/results/mail_import-<db>.json. Target: >= 200
messages/s with every reply on the right ticket (per the corpus manifest).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN_EML = ROOT.parent / "shared" / "bench" / "gen_eml.py"
RESULTS = ROOT / "bench" / "results"
SERVICELOOP = [sys.executable, "-m", "serviceloop.cli"]
TARGET_PER_SECOND = 200

CHECK = """
import json
import django
django.setup()
from serviceloop.inboxes.models import InboundMessage
print(json.dumps({m.message_id: m.ticket_message.ticket_id if m.ticket_message else None
                  for m in InboundMessage.objects.filter(duplicate_of__isnull=True)
                  .select_related("ticket_message")}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)


def _environment(db: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SERVICELOOP_VAR_DIR=str(work / "var"), DJANGO_SETTINGS_MODULE="serviceloop.settings")
    if db == "postgres":
        name = "sl_bench_mail_%d" % os.getpid()
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/%s" % name
    return env


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="sl-bench-mail-") as tmp:
        work = Path(tmp)
        corpus = work / "mail"
        subprocess.run(
            [sys.executable, str(GEN_EML), str(corpus), "--count", str(args.count),
             "--seed", str(args.seed)],
            check=True, capture_output=True,
        )  # fmt: skip
        env = _environment(args.db, work)
        subprocess.run([*SERVICELOOP, "migrate", "-v0"], env=env, check=True)
        # The corpus is one busy week; the per-sender rate limit is not what is measured.
        subprocess.run(
            [*SERVICELOOP, "inbox", "add", "support@helpdesk.example", "--no-acknowledgement"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run(
            [*SERVICELOOP, "mail", "import", str(corpus), "--no-progress"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        tickets = json.loads(
            subprocess.run(
                [sys.executable, "-c", CHECK], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        if args.db == "postgres":
            subprocess.run(
                ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                 env["DATABASE_URL"].rsplit("/", 1)[1]],
                check=False,
            )  # fmt: skip
        manifest = [
            json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()
        ]
    by_thread: dict[str, set] = defaultdict(set)
    by_ticket: dict[object, set] = defaultdict(set)
    for entry in manifest:
        ticket = tickets.get(entry["message_id"])
        by_thread[entry["thread"]].add(ticket)
        by_ticket[ticket].add(entry["thread"])
    split = sum(1 for s in by_thread.values() if len(s) > 1)
    joined = sum(1 for t, s in by_ticket.items() if t is not None and len(s) > 1)
    unticketed = sum(1 for e in manifest if tickets.get(e["message_id"]) is None)
    rate = args.count / seconds
    return {
        "benchmark": "mail_import",
        "db": args.db,
        "messages": args.count,
        "seconds": round(seconds, 2),
        "messages_per_second": round(rate, 1),
        "summary": result.stdout.strip().splitlines()[-1],
        "threads_split": split,
        "tickets_joining_threads": joined,
        "messages_without_ticket": unticketed,
        "threading_correct": split == joined == unticketed == 0,
        "target_messages_per_second": TARGET_PER_SECOND,
        "meets_target": rate >= TARGET_PER_SECOND and split == joined == unticketed == 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail_import")
    add_arguments(parser)
    args = parser.parse_args(argv)
    report = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("mail_import-%s.json" % args.db)).write_text(json.dumps(report, indent=2) + "\n")
    print(
        "mail_import %(db)s: %(messages)s messages in %(seconds)ss = %(messages_per_second)s msg/s "
        "(target %(target_messages_per_second)s); threading %(ok)s (%(threads_split)s split, "
        "%(tickets_joining_threads)s joined); %(summary)s"
        % {**report, "ok": "right" if report["threading_correct"] else "WRONG"}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
