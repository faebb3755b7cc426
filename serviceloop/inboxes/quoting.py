"""Fold quoted history and signatures away from what the customer just wrote.

mail-parser-reply knows the attribution lines of many clients and languages ("On ...
wrote:", "Le ... a écrit :", "Am ... schrieb", "-----Original Message-----", Outlook's
"From: ... Sent: ...") and the usual signatures. What it leaves, a trailing block of
"> " lines and the attribution line above it in a language it does not know, is folded
here too. The full text is always kept next to the new text.
"""

import re
from dataclasses import dataclass

from mailparser_reply import EmailReplyParser

LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs"]
MAX_FOLD_CHARS = 100_000

_parser = EmailReplyParser(languages=LANGUAGES)
_ATTRIBUTION_RE = re.compile(
    r"^.{0,300}(?:wrote|schrieb|escribió|écrit|scritto|skrev|napisał)\s*:?\s*$|^.{0,300}:\s*$",
    re.IGNORECASE,
)
_SIGNATURE_RE = re.compile(r"^-- ?$", re.MULTILINE)


def _drop_trailing_quote(text: str) -> str:
    lines = text.split("\n")
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if end == len(lines) or not any(line.lstrip().startswith(">") for line in lines[end:]):
        return text
    if end and _ATTRIBUTION_RE.match(lines[end - 1].strip()):
        end -= 1
    return "\n".join(lines[:end]).rstrip()


@dataclass(frozen=True)
class Reply:
    # What the sender just wrote: no quoted history, no signature.
    new_text: str
    # The address in the attribution of the message it quotes ("On ..., ann@x wrote:",
    # Outlook's "From: Ann <ann@x>"), or "": whose mail this answers.
    quoted_from: str = ""


_ADDRESS_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def read_reply(text: str) -> Reply:
    """Split a message's text into what is new and whose mail it quotes."""
    if not text.strip():
        return Reply("")
    head, tail = text[:MAX_FOLD_CHARS], text[MAX_FOLD_CHARS:]
    quoted_from = ""
    try:
        message = _parser.read(head)
        new = message.replies[0].body if message.replies else head
        if len(message.replies) > 1:
            found = _ADDRESS_RE.search(message.replies[1].headers or "")
            quoted_from = found.group(0).lower() if found else ""
    except Exception:
        new = head
    new = _drop_trailing_quote(new)
    # A plain "-- " signature separator the library left in place.
    if match := _SIGNATURE_RE.search(new):
        new = new[: match.start()]
    new = new.strip()
    if not new:
        # Everything was quoted or signature (a bare forward): show it all.
        return Reply((head + tail).strip(), quoted_from)
    return Reply(new, quoted_from)
