"""`serviceloop mail import` as an operator runs it: subprocesses on a file SQLite database."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GEN_EML = Path(__file__).resolve().parents[3] / "shared" / "bench" / "gen_eml.py"
SERVICELOOP = [sys.executable, "-m", "serviceloop.cli"]

CHECK = """
import json, sys
import django
django.setup()
from serviceloop.inboxes.models import InboundMessage
from serviceloop.tickets.models import Message
rows = {}
for m in InboundMessage.objects.filter(duplicate_of__isnull=True):
    rows[m.message_id] = [m.state, m.ticket_message.ticket_id if m.ticket_message else None]
print(json.dumps({"rows": rows, "messages": Message.objects.filter(kind="reply").count()}))
"""


@pytest.fixture
def var_dir(tmp_path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        SERVICELOOP_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="serviceloop.settings"
    )
    subprocess.run([*SERVICELOOP, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [*SERVICELOOP, "inbox", "add", "support@helpdesk.example", "--no-acknowledgement"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return env


def corpus(tmp_path: Path, count: int) -> tuple[Path, list[dict]]:
    out = tmp_path / "mail"
    subprocess.run(
        [sys.executable, str(GEN_EML), str(out), "--count", str(count), "--seed", "7"],
        check=True, capture_output=True,
    )  # fmt: skip
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return out, manifest


def stored(env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


def test_import_threads_a_realistic_corpus_like_its_manifest(tmp_path, var_dir):
    folder, manifest = corpus(tmp_path, 300)

    result = subprocess.run(
        [*SERVICELOOP, "mail", "import", str(folder), "--no-progress"],
        env=var_dir, check=True, capture_output=True, text=True,
    )  # fmt: skip

    assert result.stdout.strip().splitlines()[-1] == "300 imported, 0 duplicates, 0 failed"
    rows = stored(var_dir)["rows"]
    tickets_of_thread: dict[str, set] = defaultdict(set)
    threads_of_ticket: dict[int, set] = defaultdict(set)
    for entry in manifest:
        state, ticket = rows[entry["message_id"]]
        assert state == "processed", entry["file"]
        tickets_of_thread[entry["thread"]].add(ticket)
        threads_of_ticket[ticket].add(entry["thread"])
    assert {t: s for t, s in tickets_of_thread.items() if len(s) > 1} == {}
    assert {t: s for t, s in threads_of_ticket.items() if len(s) > 1} == {}


def test_import_killed_mid_batch_and_run_again_loses_and_duplicates_nothing(tmp_path, var_dir):
    folder, _manifest = corpus(tmp_path, 200)
    first = subprocess.Popen(
        [*SERVICELOOP, "mail", "import", str(folder), "--no-progress"],
        env=var_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        db = Path(var_dir["SERVICELOOP_VAR_DIR"]) / "serviceloop.sqlite3-wal"
        if db.exists() and db.stat().st_size > 400_000:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    partial = len(stored(var_dir)["rows"])

    again = subprocess.run(
        [*SERVICELOOP, "mail", "import", str(folder), "--no-progress"],
        env=var_dir, check=True, capture_output=True, text=True,
    )  # fmt: skip

    assert 0 < partial < 200
    summary = again.stdout.strip().splitlines()[-1]
    assert summary.endswith("0 failed")
    result = stored(var_dir)
    assert len(result["rows"]) == 200
    assert all(state == "processed" for state, _ticket in result["rows"].values())
    assert result["messages"] == 200
