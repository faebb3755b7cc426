"""Ticket numbers stay unique when several processes create tickets at the same moment."""

import json
import subprocess
import time

import pytest

from serviceloop.tickets.models import Ticket
from tests.background import process_env, serviceloop_command

WRITERS = 4
TICKETS_EACH = 10

# Each writer process says it is ready, waits for the others, then creates its tickets.
CREATE_TICKETS = """
import json, os, pathlib, time
from serviceloop.tickets import services

writer, count = os.environ["WRITER"], int(os.environ["TICKETS_EACH"])
pathlib.Path(os.environ["READY_FILE"]).touch()
go = pathlib.Path(os.environ["GO_FILE"])
while not go.exists():
    time.sleep(0.005)
numbers = [
    services.open_ticket(
        actor=None,
        subject="Parcel %s-%d has not arrived" % (writer, n),
        body="Where is my parcel?",
        requester_email="writer%s-%d@example.com" % (writer, n),
    )[0].number
    for n in range(count)
]
print(json.dumps(numbers))
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_tickets_created_by_several_processes_at_once_get_unique_numbers(tmp_path):
    go = tmp_path / "go"
    writers = []
    for writer in range(WRITERS):
        env = process_env(
            tmp_path / "var",
            WRITER=str(writer),
            TICKETS_EACH=str(TICKETS_EACH),
            READY_FILE=str(tmp_path / f"ready-{writer}"),
            GO_FILE=str(go),
        )
        writers.append(
            subprocess.Popen(
                serviceloop_command("shell", "--no-imports", "-c", CREATE_TICKETS),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for writer in range(WRITERS):
            while not (tmp_path / f"ready-{writer}").exists():
                assert writers[writer].poll() is None, writers[writer].communicate()[1]
                time.sleep(0.01)
        go.touch()
        outputs = [process.communicate(timeout=60) for process in writers]
    finally:
        for process in writers:
            process.kill()

    assert [process.returncode for process in writers] == [0] * WRITERS, outputs
    handed_out = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    numbers = sorted(n for per_writer in handed_out for n in per_writer)
    assert len(numbers) == WRITERS * TICKETS_EACH
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no duplicate, no gap
    assert all(per_writer == sorted(per_writer) for per_writer in handed_out)
    assert sorted(Ticket.objects.values_list("number", flat=True)) == numbers
