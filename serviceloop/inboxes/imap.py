"""IMAP polling: fetch new mail from an inbox's mailbox, store it, then flag or move it.

A message is flagged or moved only after it is stored, so a crash in between means it is
fetched again next time, and the Message-ID dedupe makes that harmless.
"""

import contextlib
import imaplib
import logging

from django.utils.translation import gettext as _

from serviceloop.core import clock
from serviceloop.inboxes import tls
from serviceloop.inboxes.connection_checks import imap_network_failure, server_reply
from serviceloop.inboxes.models import InboundMessage, Inbox

logger = logging.getLogger(__name__)

BATCH = 200
TIMEOUT_SECONDS = 60


def _port(inbox: Inbox) -> int:
    return inbox.imap_port or (993 if inbox.imap_security == Inbox.ImapSecurity.SSL else 143)


def connect(inbox: Inbox) -> imaplib.IMAP4:
    """An authenticated connection with the folder selected; TLS certificates are verified."""
    security = inbox.imap_security
    context = tls.client_context(inbox.imap_ca_certificate)
    client: imaplib.IMAP4
    if security == Inbox.ImapSecurity.SSL:
        client = imaplib.IMAP4_SSL(
            inbox.imap_host, _port(inbox), ssl_context=context, timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(inbox.imap_host, _port(inbox), timeout=TIMEOUT_SECONDS)
    try:
        if security == Inbox.ImapSecurity.STARTTLS:
            client.starttls(ssl_context=context)
        client.login(inbox.imap_username, inbox.imap_password)
        status, _data = client.select(_quote(inbox.imap_folder or "INBOX"))
        if status != "OK":
            raise imaplib.IMAP4.error("Cannot open folder %r" % inbox.imap_folder)
    except BaseException:
        # The caller never gets this client: close its socket rather than leak it.
        with contextlib.suppress(OSError):
            client.shutdown()
        raise
    return client


def _quote(folder: str) -> str:
    return '"%s"' % folder.replace("\\", "\\\\").replace('"', '\\"')


def _after_import(client: imaplib.IMAP4, inbox: Inbox, uid: bytes) -> None:
    if inbox.imap_after_import == Inbox.ImapAfterImport.MOVE and inbox.imap_move_to:
        target = _quote(inbox.imap_move_to)
        if "MOVE" in capability_names(client):
            client.uid("MOVE", uid.decode(), target)
            return
        status, _data = client.uid("COPY", uid.decode(), target)
        if status == "OK":
            client.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
        return
    client.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Seen)")


def poll_inbox(*, inbox_id: int) -> int:
    """Import the new messages of one inbox's IMAP folder; return how many were stored."""
    from serviceloop.inboxes.services import receive_raw_email

    inbox = Inbox.objects.filter(pk=inbox_id, is_active=True).first()
    if inbox is None or not inbox.has_imap:
        return 0
    stored = 0
    try:
        client = connect(inbox)
        try:
            if inbox.imap_after_import == Inbox.ImapAfterImport.MOVE and inbox.imap_move_to:
                # Fails harmlessly when the folder exists already.
                client.create(_quote(inbox.imap_move_to))
            criteria = "ALL" if inbox.imap_after_import == Inbox.ImapAfterImport.MOVE else "UNSEEN"
            status, data = client.uid("SEARCH", criteria)
            uids = data[0].split() if status == "OK" and data and data[0] else []
            for uid in uids[:BATCH]:
                status, parts = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                raw = next((p[1] for p in parts or [] if isinstance(p, tuple) and len(p) > 1), None)
                if status != "OK" or not isinstance(raw, bytes):
                    continue
                receive_raw_email(inbox=inbox, raw=raw, via=InboundMessage.Via.IMAP)
                _after_import(client, inbox, uid)
                stored += 1
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()
        error = ""
    except OSError as exc:  # DNS, TCP, TLS (a certificate it cannot verify), timeouts
        error = imap_network_failure(exc, "%s:%s" % (inbox.imap_host, _port(inbox)))
    except imaplib.IMAP4.error as exc:
        error = _("%(where)s answered: %(reply)s") % {
            "where": "%s:%s" % (inbox.imap_host, _port(inbox)),
            "reply": server_reply(exc),
        }
    if error:
        logger.warning("IMAP polling of %s failed: %s", inbox.address, error)
    Inbox.objects.filter(pk=inbox.pk).update(
        imap_last_polled_at=clock.now(), imap_last_error=error[:2000]
    )
    return stored


def poll_imap_inboxes() -> int:
    """Poll every active inbox with IMAP settings (the worker's schedule runs this)."""
    total = 0
    for inbox_id in (
        Inbox.objects.filter(is_active=True).exclude(imap_host="").values_list("id", flat=True)
    ):
        total += poll_inbox(inbox_id=inbox_id)
    return total


def capability_names(client: imaplib.IMAP4) -> set[str]:
    return {str(c).upper() for c in client.capabilities}
