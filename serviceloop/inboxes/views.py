"""Public web-form pages: an inbox's contact page, its confirmation page, the embed snippet.

Anyone may post the contact page (the embeddable form used to post here from other sites,
so there is no CSRF token); the checks are in `web_form`, shared with the API endpoint the
embeddable form posts to now. Refusals re-render the form with status 422 (429 when a rate
limit is spent).
"""

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from serviceloop.inboxes import queries, web_form
from serviceloop.inboxes.models import Inbox
from serviceloop.inboxes.web_form import HONEYPOT, Outcome, Submission

# Signs the ticket number in the confirmation page's link, so the page shows only a
# number this server gave out, not any number put in the address.
RECEIPT_SALT = "serviceloop.inboxes.contact-sent"


def form_context(inbox: Inbox, submission: Submission | None = None) -> dict:
    """What contact.html needs: the form, filled in again and with errors after a refusal."""
    if submission is None:
        return {
            "inbox": inbox,
            "data": {},
            "errors": {},
            "honeypot": HONEYPOT,
            "web_fields": web_form.web_form_fields(),
        }
    return {
        "inbox": inbox,
        "data": submission.data,
        "errors": submission.errors,
        "honeypot": HONEYPOT,
        "web_fields": submission.fields,
    }


def refusal_status(submission: Submission) -> int:
    return 429 if submission.outcome == Outcome.RATE_LIMITED else 422


def confirmation_url(inbox: Inbox, number: int | None) -> str:
    """The page that thanks the person and shows the ticket number (if there is one)."""
    url = reverse("inboxes:contact-sent", args=[inbox.slug])
    if number is None:
        return url
    return "%s?receipt=%s" % (url, signing.dumps([inbox.slug, number], salt=RECEIPT_SALT))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, slug: str) -> HttpResponse:
    inbox = queries.contact_inbox(slug)
    if request.method == "GET":
        return render(request, "inboxes/contact.html", form_context(inbox))
    submission = web_form.submit_web_form(
        inbox=inbox,
        posted=request.POST,
        files=request.FILES.getlist("attachments"),
        client_ip=web_form.client_ip(request),
    )
    if submission.outcome in (Outcome.SENT, Outcome.HONEYPOT):
        context = {"inbox": inbox, "number": submission.ticket_number}
        return render(request, "inboxes/contact_sent.html", context)
    context = form_context(inbox, submission)
    context["files_dropped"] = bool(request.FILES)
    return render(request, "inboxes/contact.html", context, status=refusal_status(submission))


@require_GET
def contact_sent(request: HttpRequest, slug: str) -> HttpResponse:
    """Where a form posted to the API sends the browser: thanks, and the ticket number."""
    inbox = queries.contact_inbox(slug)
    number = None
    try:
        receipt_slug, receipt_number = signing.loads(
            request.GET.get("receipt", ""), salt=RECEIPT_SALT
        )
    except (signing.BadSignature, TypeError, ValueError):
        pass  # no receipt, or not one of ours: thank them without a number
    else:
        if receipt_slug == inbox.slug and isinstance(receipt_number, int):
            number = receipt_number
    return render(request, "inboxes/contact_sent.html", {"inbox": inbox, "number": number})


def embed_snippet(request: HttpRequest, slug: str) -> HttpResponse:
    """The plain HTML form to paste into another site; it posts to the web-form API."""
    inbox = queries.contact_inbox(slug)
    action = request.build_absolute_uri(reverse("api-v1:submit_web_form", args=[inbox.slug]))
    context = {**form_context(inbox), "action": action}
    snippet = render(request, "inboxes/embed.html", context).content.decode()
    return render(request, "inboxes/embed_page.html", {"inbox": inbox, "snippet": snippet})
