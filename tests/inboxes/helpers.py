"""Building mail for tests: real RFC 5322 bytes, as a customer's client would send them."""

from email.message import EmailMessage
from email.utils import make_msgid

from serviceloop.inboxes import services
from serviceloop.inboxes.models import InboundMessage, Inbox

SUPPORT = "support@shop.example"


def make_inbox(address: str = SUPPORT, **settings: object) -> Inbox:
    return services.create_inbox(actor=None, address=address, **settings)


def mail(
    *,
    sender: str = "ann@customer.example",
    subject: str = "My order has not arrived",
    body: str = "Hello, where is my order?",
    to: str = SUPPORT,
    cc: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    html: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="customer.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def receive(inbox: Inbox, raw: bytes, via: str = InboundMessage.Via.IMPORT) -> InboundMessage:
    result = services.receive_raw_email(inbox=inbox, raw=raw, via=via)
    result.inbound.refresh_from_db()
    return result.inbound
