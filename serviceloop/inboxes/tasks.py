from django_tasks import task

from serviceloop.inboxes import imap, outbound


@task()
def send_outbound_email(outbound_id: int) -> str:
    return outbound.attempt_send(outbound_id=outbound_id)


@task()
def poll_imap_inbox(inbox_id: int) -> int:
    return imap.poll_inbox(inbox_id=inbox_id)
