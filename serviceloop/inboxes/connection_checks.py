"""Try an inbox's IMAP and SMTP settings for real, and say in one sentence what happened.

Each check connects, signs in and (for IMAP) opens the folder, step by step, so the
sentence names the step that failed: an admin who typed a wrong port is told the
connection was refused, not that "something" went wrong.
"""

import contextlib
import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from serviceloop.inboxes import tls
from serviceloop.inboxes.models import Inbox

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of one check: `message` is written for the admin who pressed the button."""

    ok: bool
    message: str


def server_reply(error: BaseException) -> str:
    """The server's own words from an imaplib or smtplib error, as readable text."""
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return "%s %s" % (error.smtp_code, text)
    detail = error.args[0] if error.args else str(error)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    detail = str(detail)
    # imaplib quotes the server's bytes: "b'[AUTHENTICATIONFAILED] ...'".
    if detail.startswith(("b'", 'b"')) and detail.endswith(("'", '"')):
        detail = detail[2:-1]
    return detail.strip() or type(error).__name__


def network_failure(error: OSError, where: str) -> str:
    """A sentence for an error below the mail protocol: DNS, TCP, TLS, timeouts."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return _("The TLS certificate of %(where)s could not be verified: %(reason)s.") % {
            "where": where,
            # "Hostname mismatch, certificate is not valid for 'x'." ends a sentence itself.
            "reason": (error.verify_message or server_reply(error)).rstrip("."),
        }
    if isinstance(error, ssl.SSLError):
        return _(
            "The TLS handshake with %(where)s failed (%(reason)s). Check the port and the "
            "security setting."
        ) % {"where": where, "reason": error.reason or server_reply(error)}
    if isinstance(error, socket.gaierror):
        return _("The host name in %(where)s could not be found.") % {"where": where}
    if isinstance(error, ConnectionRefusedError):
        return _(
            "Could not connect to %(where)s: the connection was refused. Check the host and port."
        ) % {"where": where}
    if isinstance(error, TimeoutError):
        return _("%(where)s did not answer within %(seconds)s seconds.") % {
            "where": where,
            "seconds": TIMEOUT_SECONDS,
        }
    return _("Could not talk to %(where)s: %(reason)s.") % {
        "where": where,
        "reason": error.strerror or server_reply(error),
    }


# OpenSSL's X509_V_ERR_* codes for "no trusted CA vouches for this certificate" ...
UNTRUSTED_ISSUER = {2, 18, 19, 20, 21}
# ... and for "it is made out to another name or address".
NAME_MISMATCH = {62, 64}


def imap_network_failure(error: OSError, where: str) -> str:
    """`network_failure` for IMAP, saying what the admin can do about a certificate."""
    sentence = network_failure(error, where)
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code in UNTRUSTED_ISSUER:
            sentence += " " + _(
                "If this server uses a self-signed certificate or one from a private CA, "
                'paste that certificate into the inbox setting "Trusted IMAP certificate".'
            )
        elif error.verify_code in NAME_MISMATCH:
            sentence += " " + _("Enter the host name the certificate is made out to as IMAP host.")
    return sentence


def _quote_folder(folder: str) -> str:
    return '"%s"' % folder.replace("\\", "\\\\").replace('"', '\\"')


def check_imap(inbox: Inbox) -> ConnectionCheck:
    """Connect to the inbox's IMAP server, sign in and open its folder (read-only)."""
    if not inbox.imap_host:
        return ConnectionCheck(False, _("Enter an IMAP host first, then save."))
    if not inbox.imap_username:
        return ConnectionCheck(False, _("Enter the IMAP user name first, then save."))
    secure = inbox.imap_security == Inbox.ImapSecurity.SSL
    port = inbox.imap_port or (993 if secure else 143)
    where = "%s:%s" % (inbox.imap_host, port)
    folder = inbox.imap_folder or "INBOX"
    client: imaplib.IMAP4
    try:
        context = tls.client_context(inbox.imap_ca_certificate)
        if secure:
            client = imaplib.IMAP4_SSL(
                inbox.imap_host, port, ssl_context=context, timeout=TIMEOUT_SECONDS
            )
        else:
            client = imaplib.IMAP4(inbox.imap_host, port, timeout=TIMEOUT_SECONDS)
    except OSError as error:
        return ConnectionCheck(False, imap_network_failure(error, where))
    except imaplib.IMAP4.error as error:
        return ConnectionCheck(
            False,
            _("%(where)s did not greet like an IMAP server: %(reply)s")
            % {"where": where, "reply": server_reply(error)},
        )
    try:
        if inbox.imap_security == Inbox.ImapSecurity.STARTTLS:
            try:
                client.starttls(ssl_context=context)
            except imaplib.IMAP4.error as error:
                return ConnectionCheck(
                    False,
                    _("%(where)s does not offer STARTTLS: %(reply)s")
                    % {"where": where, "reply": server_reply(error)},
                )
        try:
            client.login(inbox.imap_username, inbox.imap_password)
        except imaplib.IMAP4.error as error:
            return ConnectionCheck(
                False,
                _("%(where)s refused the user name or password for %(user)s: %(reply)s")
                % {"where": where, "user": inbox.imap_username, "reply": server_reply(error)},
            )
        status, data = client.select(_quote_folder(folder), readonly=True)
        if status != "OK":
            reply = data[0] if data else b""
            return ConnectionCheck(
                False,
                _("Signed in as %(user)s, but the folder %(folder)s could not be opened: %(reply)s")
                % {
                    "user": inbox.imap_username,
                    "folder": folder,
                    "reply": reply.decode("utf-8", "replace")
                    if isinstance(reply, bytes)
                    else str(reply),
                },
            )
        count = data[0].decode() if data and isinstance(data[0], bytes) else "?"
        return ConnectionCheck(
            True,
            _(
                "Connected to %(where)s, signed in as %(user)s and opened %(folder)s "
                "(%(count)s messages)."
            )
            % {"where": where, "user": inbox.imap_username, "folder": folder, "count": count},
        )
    except OSError as error:
        return ConnectionCheck(False, imap_network_failure(error, where))
    except imaplib.IMAP4.error as error:
        return ConnectionCheck(
            False,
            _("%(where)s ended the session: %(reply)s")
            % {"where": where, "reply": server_reply(error)},
        )
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


@dataclass(frozen=True)
class _SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool
    use_ssl: bool
    source: str


def _smtp_settings(inbox: Inbox) -> _SmtpSettings | None:
    """The server this inbox's mail goes out through: its own, else the EMAIL_* settings."""
    if inbox.smtp_host:
        return _SmtpSettings(
            host=inbox.smtp_host,
            port=inbox.smtp_port or (465 if inbox.smtp_use_ssl else 25),
            username=inbox.smtp_username,
            password=inbox.smtp_password,
            use_tls=inbox.smtp_use_tls,
            use_ssl=inbox.smtp_use_ssl,
            source=_("the SMTP settings of this inbox"),
        )
    if settings.EMAIL_HOST:
        return _SmtpSettings(
            host=settings.EMAIL_HOST,
            port=settings.EMAIL_PORT,
            username=settings.EMAIL_HOST_USER,
            password=settings.EMAIL_HOST_PASSWORD,
            use_tls=settings.EMAIL_USE_TLS,
            use_ssl=settings.EMAIL_USE_SSL,
            source=_("the EMAIL_* settings of the server"),
        )
    return None


def check_smtp(inbox: Inbox) -> ConnectionCheck:
    """Connect to the SMTP server this inbox sends through: EHLO, STARTTLS, sign in."""
    server = _smtp_settings(inbox)
    if server is None:
        return ConnectionCheck(
            False,
            _(
                "No SMTP server is set for this inbox and EMAIL_HOST is empty, so mail is only "
                "written to the console. Enter an SMTP host to send real mail."
            ),
        )
    where = "%s:%s" % (server.host, server.port)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        if server.use_ssl:
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    except smtplib.SMTPException as error:
        return ConnectionCheck(
            False,
            _("%(where)s did not greet like an SMTP server: %(reply)s")
            % {"where": where, "reply": server_reply(error)},
        )
    except OSError as error:
        return ConnectionCheck(False, network_failure(error, where))
    steps = [_("said EHLO")]
    try:
        client.ehlo()
        if server.use_tls:
            try:
                client.starttls(context=context)
            except smtplib.SMTPNotSupportedError:
                return ConnectionCheck(
                    False, _("%(where)s does not offer STARTTLS.") % {"where": where}
                )
            client.ehlo()
            steps.append(_("switched to TLS"))
        if server.username:
            try:
                client.login(server.username, server.password)
            except smtplib.SMTPNotSupportedError:
                return ConnectionCheck(
                    False,
                    _(
                        "%(where)s does not offer sign-in (AUTH) on this connection; "
                        "many servers offer it only after STARTTLS."
                    )
                    % {"where": where},
                )
            except smtplib.SMTPAuthenticationError as error:
                return ConnectionCheck(
                    False,
                    _("%(where)s refused the user name or password for %(user)s: %(reply)s")
                    % {"where": where, "user": server.username, "reply": server_reply(error)},
                )
            steps.append(_("signed in as %(user)s") % {"user": server.username})
        return ConnectionCheck(
            True,
            _("Connected to %(where)s (%(source)s), %(steps)s.")
            % {"where": where, "source": server.source, "steps": ", ".join(steps)},
        )
    except smtplib.SMTPException as error:
        return ConnectionCheck(
            False,
            _("%(where)s refused the session: %(reply)s")
            % {"where": where, "reply": server_reply(error)},
        )
    except OSError as error:
        return ConnectionCheck(False, network_failure(error, where))
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()
