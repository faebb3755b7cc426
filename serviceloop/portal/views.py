"""The customer portal: sign in by emailed link, follow and answer your own requests.

A customer is not a Django user; the session holds the customer's id after a link is
redeemed. Every read goes through tickets.queries.ticket_for_customer, so another
customer's ticket number answers 404 exactly like a missing one.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from serviceloop.core.errors import DomainError, ObjectNotFound
from serviceloop.customers.models import Customer
from serviceloop.portal import services
from serviceloop.tickets import queries
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Attachment, Channel, Message

SESSION_KEY = "portal_customer_id"
REQUESTS_SHOWN = 100


class CustomerRequest(HttpRequest):
    customer: Customer


def customer_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Let in only a customer who signed in with a link; others go to the sign-in page."""

    @wraps(view)
    def wrapper(request: CustomerRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        customer_id = request.session.get(SESSION_KEY)
        customer = (
            Customer.objects.select_related("organization").filter(pk=customer_id).first()
            if customer_id
            else None
        )
        if customer is None:
            return redirect("portal:sign-in")
        request.customer = services.surviving_customer(customer)
        return view(request, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link by email; the answer is the same whether or not we know it."""
    if request.session.get(SESSION_KEY) and request.method == "GET":
        return redirect("portal:requests")
    if request.method == "POST":
        services.send_sign_in_link(
            email=request.POST.get("email", ""),
            link_for=lambda key: request.build_absolute_uri(reverse("portal:redeem", args=[key])),
        )
        return render(request, "portal/link_sent.html", {"email": request.POST.get("email", "")})
    return render(request, "portal/sign_in.html")


@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest, key: str) -> HttpResponse:
    """Sign in with a link. GET only asks to confirm, so a mail scanner that follows links
    does not use up the one-time link."""
    if request.method == "GET":
        return render(request, "portal/redeem.html", {"key": key})
    try:
        customer = services.redeem_sign_in_link(key=key)
    except DomainError as error:
        return render(request, "portal/redeem.html", {"key": key, "error": error}, status=422)
    request.session.cycle_key()
    request.session[SESSION_KEY] = customer.pk
    return redirect("portal:requests")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    return redirect("portal:sign-in")


@customer_required
@require_GET
def request_list(request: CustomerRequest) -> HttpResponse:
    rows = list(
        queries.tickets_for_customer(request.customer).order_by("-updated_at", "-id")[
            :REQUESTS_SHOWN
        ]
    )
    return render(request, "portal/requests.html", {"customer": request.customer, "rows": rows})


def _address(customer: Customer) -> str:
    return customer.email or (
        customer.identities.filter(kind="email").values_list("value", flat=True).first() or ""
    )


@customer_required
@require_http_methods(["GET", "POST"])
def new_request(request: CustomerRequest) -> HttpResponse:
    """Open a request, with attachments, through the web channel."""
    context: dict[str, Any] = {"customer": request.customer}
    if request.method == "POST":
        try:
            ticket, _first_message = tickets.open_ticket(
                actor=None,
                subject=request.POST.get("subject", ""),
                body=request.POST.get("body", ""),
                requester_email=_address(request.customer),
                channel=Channel.WEB,
                attachments=request.FILES.getlist("attachments"),
            )
        except DomainError as error:
            context |= {
                "error": error,
                "subject": request.POST.get("subject", ""),
                "body": request.POST.get("body", ""),
            }
            return render(request, "portal/new.html", context, status=422)
        messages.success(
            request, _("Thank you. We received your request #%(n)s.") % {"n": ticket.number}
        )
        return redirect("portal:request", ticket.number)
    return render(request, "portal/new.html", context)


def _request_context(customer: Customer, number: int, **extra: Any) -> dict[str, Any]:
    ticket = queries.ticket_for_customer(customer, number)
    return {
        "customer": customer,
        "ticket": ticket,
        "conversation": list(queries.public_messages(ticket)),
    } | extra


@customer_required
@require_GET
def request_detail(request: CustomerRequest, number: int) -> HttpResponse:
    return render(request, "portal/request.html", _request_context(request.customer, number))


@customer_required
@require_POST
def reply(request: CustomerRequest, number: int) -> HttpResponse:
    ticket = queries.ticket_for_customer(request.customer, number)
    body = request.POST.get("body", "")
    try:
        message = tickets.add_customer_message(
            ticket_id=ticket.pk,
            customer=request.customer,
            body=body,
            channel=Channel.WEB,
            attachments=request.FILES.getlist("attachments"),
        )
    except DomainError as error:
        context = _request_context(request.customer, number, error=error, draft=body)
        return render(request, "portal/request.html", context, status=422)
    if message.ticket_id != ticket.pk:
        # The request was closed: the reply opened a follow-up request.
        number = Message.objects.select_related("ticket").get(pk=message.pk).ticket.number
        messages.info(request, _("That request was closed, so we opened a new one for you."))
    return redirect("portal:request", number)


@customer_required
@require_POST
def solve(request: CustomerRequest, number: int) -> HttpResponse:
    ticket = queries.ticket_for_customer(request.customer, number)
    tickets.solve_ticket_for_customer(ticket_id=ticket.pk, customer=request.customer)
    messages.success(request, _("Glad it is sorted. Reply any time if it comes back."))
    return redirect("portal:request", number)


@customer_required
@require_GET
def attachment(request: CustomerRequest, number: int, attachment_id: int) -> FileResponse:
    """A file from the public conversation (never one attached to an internal note)."""
    ticket = queries.ticket_for_customer(request.customer, number)
    found = Attachment.objects.filter(
        pk=attachment_id, message__ticket=ticket, message__kind=Message.Kind.REPLY
    ).first()
    if found is None:
        raise ObjectNotFound("Attachment", attachment_id)
    response = FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
