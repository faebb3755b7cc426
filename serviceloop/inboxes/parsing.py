"""Turn raw RFC 5322 bytes into what a ticket needs, whatever the sender's client did.

Nothing here touches the database, and nothing here may raise on bad input: every header
and part is read defensively, charsets fall back (declared -> utf-8 -> cp1252), and a
broken part is skipped rather than failing the whole message.
"""

import codecs
import email
import email.header
import email.parser
import email.policy
import hashlib
import html
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3

from serviceloop.inboxes.quoting import read_reply

logger = logging.getLogger(__name__)

MAX_PARTS = 500
MAX_DEPTH = 40
MAX_TEXT_CHARS = 200_000
MAX_HTML_CHARS = 400_000

MESSAGE_ID_RE = re.compile(r"<[^<>\s]{1,250}>")
TICKET_TOKEN_RE = re.compile(r"\[#(\d{1,12})\]")
# Reply and forward prefixes in the languages support mail arrives in: Re, Fwd, AW (de),
# WG (de), SV (sv/da/no), VS (fi), Antw (nl), Odp (pl), YNT (tr), RES (pt), RV/ENC (es/pt),
# TR (fr), R (it), Doorst (nl), VL (fi), FS (no), and counters such as "RE[2]:" or "Re(3):".
REPLY_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|antwort|odp|ynt|res|rv|enc|tr|r|doorst|vl|fs|fw)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)
NOREPLY_LOCALPARTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply"}


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass
class Bounce:
    """A delivery status notification: which of our messages failed, and why."""

    original_message_ids: list[str]
    status: str
    diagnostic: str


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: str = ""
    text: str = ""
    new_text: str = ""
    # Whose mail the text quotes (its attribution line's address), or "".
    quoted_from: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # Why no automatic mail may answer this message ("" when one may).
    automatic_reason: str = ""
    # Why a machine, not a person, wrote it: an auto-responder, an out-of-office, bulk mail,
    # a delivery report ("" when a person did). Mail through a mailing list does not count:
    # people write through lists.
    auto_reply_reason: str = ""
    bounce: Bounce | None = None
    defects: list[str] = field(default_factory=list)

    @property
    def thread_references(self) -> list[str]:
        """Message-IDs this message answers, the most specific first."""
        refs = list(self.in_reply_to) + list(reversed(self.references))
        return list(dict.fromkeys(r for r in refs if r != self.message_id))

    @property
    def reply_address(self) -> str:
        return self.reply_to or self.from_address


# --- Text helpers -------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Make a string safe to store: raw 8-bit bytes decoded, no NULs, no lone surrogates."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", "surrogateescape")
        value = decode_bytes(raw, None)
    value = value.replace("\x00", "")
    return value.encode("utf-8", "replace").decode("utf-8")


def decode_bytes(raw: bytes, charset: str | None) -> str:
    """Decode with the declared charset, then utf-8, then cp1252 (never fails)."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            if not codecs.lookup(candidate)._is_text_encoding:
                continue
            return raw.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return raw.decode("cp1252", errors="replace")


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, ticket tokens and case, for threading."""
    subject = TICKET_TOKEN_RE.sub(" ", subject or "")
    previous = None
    while previous != subject:
        previous = subject
        subject = REPLY_PREFIX_RE.sub("", subject).strip()
        subject = TICKET_TOKEN_RE.sub(" ", subject).strip()
    return " ".join(subject.split()).casefold()[:250]


def has_reply_prefix(subject: str) -> bool:
    return bool(REPLY_PREFIX_RE.match(TICKET_TOKEN_RE.sub(" ", subject or "").strip()))


def ticket_numbers_in(subject: str) -> list[int]:
    return [int(n) for n in TICKET_TOKEN_RE.findall(subject or "")]


def message_ids_in(value: str) -> list[str]:
    return MESSAGE_ID_RE.findall(value or "")


# --- Headers ------------------------------------------------------------------------------


def _raw_headers(msg: MimeMessage, name: str) -> list[str]:
    """The raw values of one header (undecoded, 8-bit bytes as surrogates)."""
    try:
        values = msg.get_all(name) or []
    except Exception:
        return []
    return [v if isinstance(v, str) else _header_object_text(v) for v in values]


def _header_object_text(value: object) -> str:
    # compat32 wraps 8-bit header values in a Header; its chunks keep the original text.
    chunks = getattr(value, "_chunks", None)
    if chunks:
        return "".join(str(chunk[0]) for chunk in chunks)
    return str(value)


def _decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (=?utf-8?q?...?=) and stray 8-bit bytes."""
    value = clean_text(value)
    if "=?" not in value:
        return value
    try:
        return clean_text(str(email.header.make_header(email.header.decode_header(value))))
    except Exception:
        return value


def _header(msg: MimeMessage, name: str) -> str:
    values = _raw_headers(msg, name)
    if not values:
        return ""
    return " ".join(_decode_words(values[0]).split())


def _addresses(msg: MimeMessage, name: str) -> list[tuple[str, str]]:
    # Split the raw value first: a decoded display name may contain commas.
    values = [clean_text(v) for v in _raw_headers(msg, name)]
    try:
        pairs = getaddresses(values)
    except Exception:
        pairs = [parseaddr(v) for v in values]
    found = []
    for display, address in pairs:
        address = address.strip().strip("<>").strip()
        if "@" in address and " " not in address and len(address) <= 254:
            found.append((_decode_words(display).strip()[:200], address.lower()))
    return found


def _message_id(msg: MimeMessage) -> str:
    value = _header(msg, "Message-ID")
    ids = message_ids_in(value)
    if ids:
        return ids[0]
    value = value.strip()
    if value and " " not in value and len(value) <= 250:
        return "<%s>" % value.strip("<>")
    return ""


# --- HTML ---------------------------------------------------------------------------------


def _drop_remote_content(tag: str, attribute: str, value: str) -> str | None:
    # Remote images are tracking pixels as often as not; only embedded (cid:) ones load.
    if attribute in ("src", "srcset", "background", "poster") and tag != "a":
        return value if value.strip().lower().startswith("cid:") else None
    return value


def sanitize_html(markup: str) -> str:
    """Keep the formatting, drop scripts, handlers, styles and remote content."""
    if not markup.strip():
        return ""
    return nh3.clean(
        markup[:MAX_HTML_CHARS],
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        attribute_filter=_drop_remote_content,
    )


class _TextExtractor(HTMLParser):
    BLOCKS = {
        "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "pre", "hr", "ul", "ol", "section", "article", "header", "footer",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append("[%s]" % alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.quote_depth:
            prefix = "> " * self.quote_depth
            data = "\n".join(prefix + line if line.strip() else line for line in data.split("\n"))
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable plain text from HTML: blocks become lines, quotes get "> " markers."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup[:MAX_HTML_CHARS])
        extractor.close()
    except Exception:
        return html.unescape(nh3.clean(markup[:MAX_HTML_CHARS], tags=set()))
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- Parts --------------------------------------------------------------------------------


def _payload_bytes(part: MimeMessage) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    try:
        raw = part.get_payload()
    except Exception:
        return b""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: MimeMessage) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return clean_text(decode_bytes(_payload_bytes(part), charset))


def _disposition(part: MimeMessage) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: MimeMessage) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _decode_words(str(name)).replace("/", "_").replace("\\", "_").strip()
    return name[:200]


def _content_type(part: MimeMessage) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _leaves(msg: MimeMessage) -> list[MimeMessage]:
    """Every leaf part in order, not descending into attached messages (forwards)."""
    leaves: list[MimeMessage] = []
    stack: list[tuple[MimeMessage, int]] = [(msg, 0)]
    while stack and len(leaves) < MAX_PARTS:
        part, depth = stack.pop()
        try:
            is_multipart = part.is_multipart() and _content_type(part).startswith("multipart/")
            children = part.get_payload() if is_multipart else None
        except Exception:
            is_multipart, children = False, None
        if is_multipart and isinstance(children, list) and depth < MAX_DEPTH:
            stack.extend(
                (child, depth + 1) for child in reversed(children) if isinstance(child, MimeMessage)
            )
        elif not is_multipart:
            leaves.append(part)
    return leaves


def _attached_message_bytes(part: MimeMessage) -> bytes:
    try:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, MimeMessage):
            return inner.as_bytes(policy=email.policy.compat32)
    except Exception:
        logger.debug("Attached message could not be re-serialized", exc_info=True)
    return _payload_bytes(part)


def _attachment_name(part: MimeMessage, content_type: str, index: int) -> str:
    name = _filename(part)
    if name:
        return name
    if content_type == "message/rfc822":
        return "forwarded-message-%d.eml" % index
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return "attachment-%d%s" % (index, extension)


def _original_ids_in_report(leaves: list[MimeMessage]) -> tuple[list[str], str, str]:
    ids: list[str] = []
    status = diagnostic = ""
    for part in leaves:
        content_type = _content_type(part)
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            report = _delivery_status_text(part)
            if match := re.search(r"^Status:\s*(\S+)", report, re.MULTILINE | re.IGNORECASE):
                status = match.group(1)
            if match := re.search(
                r"^Diagnostic-Code:\s*(.+(?:\n[ \t].+)*)", report, re.MULTILINE | re.IGNORECASE
            ):
                diagnostic = " ".join(match.group(1).split())[:1000]
        elif content_type in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            headers = _attached_message_bytes(part) if content_type == "message/rfc822" else b""
            text = decode_bytes(headers or _payload_bytes(part), "utf-8")
            if match := re.search(r"^Message-ID:\s*(<[^<>\s]+>)", text, re.MULTILINE | re.I):
                ids.append(match.group(1))
    return ids, status, diagnostic


def _delivery_status_text(part: MimeMessage) -> str:
    # The email package parses message/delivery-status into a list of header blocks.
    try:
        payload = part.get_payload()
        if isinstance(payload, list):
            return "\n".join(
                "\n".join("%s: %s" % (k, v) for k, v in block.items())
                for block in payload
                if isinstance(block, MimeMessage)
            )
    except Exception:
        logger.debug("Delivery status could not be read as headers", exc_info=True)
    return decode_bytes(_payload_bytes(part), "utf-8")


# How mail clients start the subject of an out-of-office reply they send without marking it
# Auto-Submitted (older Outlook and Exchange, Lotus, webmail rules), casefolded.
OUT_OF_OFFICE_SUBJECTS = (
    "automatic reply:", "out of office autoreply:", "out of office:", "autoreply:",
    "auto-reply:", "abwesenheitsnotiz:", "automatische antwort:", "réponse automatique:",
    "respuesta automática:", "risposta automatica:", "automatisch antwoord:",
    "resposta automática:",
)  # fmt: skip


def _auto_reply_reason(msg: MimeMessage, from_address: str, content_type: str) -> str:
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "Auto-Submitted: %s" % auto_submitted
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return "Precedence: %s" % precedence
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "X-Autogenerated"):
        if _header(msg, name):
            return "%s header" % name
    if from_address.split("@")[0] in NOREPLY_LOCALPARTS:
        return "sent from %s" % from_address
    if _header(msg, "Return-Path").strip() == "<>":
        return "null sender (Return-Path: <>)"
    if content_type == "multipart/report":
        return "delivery report"
    # "Réponse automatique :" is French typography; compare without the space.
    subject = " ".join(_header(msg, "Subject").split()).casefold().replace(" :", ":")
    if subject.startswith(OUT_OF_OFFICE_SUBJECTS):
        return "out-of-office subject (%s)" % subject.split(":", 1)[0]
    return ""


def _mailing_list_reason(msg: MimeMessage) -> str:
    for name in ("List-Id", "List-Unsubscribe"):
        if _header(msg, name):
            return "mailing list (%s)" % name
    return ""


def parse_headers(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, sender address and subject, from the header block alone (fast)."""
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    return _message_id(msg), senders[0][1] if senders else "", _header(msg, "Subject")


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw bytes into a ParsedMail; never raises on malformed mail."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parsed = ParsedMail()
    try:
        parsed.defects = [type(d).__name__ for d in msg.defects][:20]
    except Exception:
        parsed.defects = []
    parsed.message_id = _message_id(msg)
    parsed.in_reply_to = message_ids_in(_header(msg, "In-Reply-To"))
    parsed.references = message_ids_in(_header(msg, "References"))
    parsed.subject = _header(msg, "Subject")[:500]
    parsed.date = _header(msg, "Date")[:100]
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    if not senders:
        return_path = message_ids_in(_header(msg, "Return-Path"))
        if return_path and "@" in return_path[0]:
            senders = [("", return_path[0].strip("<>").lower())]
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    reply_to = _addresses(msg, "Reply-To")
    parsed.reply_to = reply_to[0][1] if reply_to else ""
    parsed.to = [a for _n, a in _addresses(msg, "To")]
    parsed.cc = [a for _n, a in _addresses(msg, "Cc")]
    top_type = _content_type(msg)
    parsed.auto_reply_reason = _auto_reply_reason(msg, parsed.from_address, top_type)
    parsed.automatic_reason = parsed.auto_reply_reason or _mailing_list_reason(msg)

    leaves = _leaves(msg)
    texts: list[str] = []
    htmls: list[str] = []
    for index, part in enumerate(leaves, start=1):
        content_type = _content_type(part)
        disposition = _disposition(part)
        named = bool(_filename(part))
        is_body = disposition != "attachment" and not named
        if content_type == "text/plain" and is_body:
            texts.append(_part_text(part))
            continue
        if content_type == "text/html" and is_body:
            htmls.append(_part_text(part))
            continue
        content = (
            _attached_message_bytes(part) if content_type == "message/rfc822" else None
        ) or _payload_bytes(part)
        if not content and not named:
            continue
        content_id = _header(part, "Content-ID").strip().strip("<>")
        parsed.attachments.append(
            ParsedAttachment(
                filename=_attachment_name(part, content_type, index),
                content_type=content_type,
                content=content,
                content_id=content_id[:250],
            )
        )

    if top_type == "multipart/report" or any(
        _content_type(p) in ("message/delivery-status", "message/global-delivery-status")
        for p in leaves
    ):
        ids, status, diagnostic = _original_ids_in_report(leaves)
        parsed.bounce = Bounce(original_message_ids=ids, status=status, diagnostic=diagnostic)

    markup = "\n".join(h for h in htmls if h.strip())
    parsed.html = sanitize_html(markup)
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    if not text and markup:
        text = html_to_text(markup)
    parsed.text = text.strip()[:MAX_TEXT_CHARS]
    reply = read_reply(parsed.text)
    parsed.new_text, parsed.quoted_from = reply.new_text, reply.quoted_from
    return parsed
