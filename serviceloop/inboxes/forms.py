"""The inbox settings form: turns posted text into typed settings for the inbox services.

The form only parses (numbers, choices, checkboxes); the rules live in `services`, and a
refusal there is put back on the field it names, so every error shows beside its input.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from serviceloop.accounts.models import Team
from serviceloop.core.errors import DomainError
from serviceloop.inboxes.models import DEFAULT_ACKNOWLEDGEMENT, Inbox

MEGABYTE = 1024 * 1024


class SmtpSecurity:
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"
    choices = [
        (NONE, _("None")),
        (STARTTLS, _("STARTTLS")),
        (SSL, _("TLS (SMTPS)")),
    ]


# Service field names that the form shows under another name.
FORM_FIELD_FOR = {
    "team_id": "team",
    "smtp_use_tls": "smtp_security",
    "smtp_use_ssl": "smtp_security",
    "max_attachment_bytes": "max_attachment_mb",
}

TEXT_SETTINGS = [
    "name",
    "imap_host",
    "imap_ca_certificate",
    "imap_username",
    "imap_folder",
    "imap_move_to",
    "smtp_host",
    "smtp_username",
    "acknowledgement_template",
]


class InboxForm(forms.Form):
    address = forms.EmailField(label=_("Address"), max_length=254)
    name = forms.CharField(label=_("Name shown to customers"), max_length=120, required=False)
    team = forms.ModelChoiceField(
        label=_("Team for new tickets"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=_("No team"),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    imap_host = forms.CharField(label=_("IMAP host"), max_length=200, required=False)
    imap_port = forms.IntegerField(
        label=_("IMAP port"), min_value=1, max_value=65535, required=False
    )
    imap_security = forms.ChoiceField(
        label=_("IMAP security"), choices=Inbox.ImapSecurity.choices, initial="ssl"
    )
    imap_ca_certificate = forms.CharField(
        label=_("Trusted IMAP certificate"),
        help_text=_(
            "Only for a server with a self-signed certificate or one from a private CA: "
            "paste that certificate (PEM). Certificates are always verified."
        ),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    imap_username = forms.CharField(label=_("IMAP user name"), max_length=200, required=False)
    imap_password = forms.CharField(
        label=_("IMAP password"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_imap_password = forms.BooleanField(label=_("Remove the password"), required=False)
    imap_folder = forms.CharField(
        label=_("IMAP folder"), max_length=200, required=False, initial="INBOX"
    )
    imap_after_import = forms.ChoiceField(
        label=_("After import"), choices=Inbox.ImapAfterImport.choices, initial="seen"
    )
    imap_move_to = forms.CharField(label=_("Move to folder"), max_length=200, required=False)

    smtp_host = forms.CharField(
        label=_("SMTP host (empty: the server's EMAIL_* settings)"),
        max_length=200,
        required=False,
    )
    smtp_port = forms.IntegerField(
        label=_("SMTP port"), min_value=1, max_value=65535, required=False
    )
    smtp_security = forms.ChoiceField(
        label=_("SMTP security"), choices=SmtpSecurity.choices, initial=SmtpSecurity.NONE
    )
    smtp_username = forms.CharField(label=_("SMTP user name"), max_length=200, required=False)
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_smtp_password = forms.BooleanField(label=_("Remove the password"), required=False)

    max_attachment_mb = forms.DecimalField(
        label=_("Attachment limit (MB)"),
        min_value=Decimal(0),
        max_value=Decimal(10_000),
        decimal_places=2,
        initial=10,
    )
    send_acknowledgement = forms.BooleanField(
        label=_("Send an acknowledgement for each new ticket"), required=False, initial=True
    )
    acknowledgement_template = forms.CharField(
        label=_("Acknowledgement ({number} is the ticket number, {subject} its subject)"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 7}),
        initial=DEFAULT_ACKNOWLEDGEMENT,
    )
    thread_by_subject_days = forms.IntegerField(
        label=_("Join a reply by subject within (days, 0: never)"),
        min_value=0,
        max_value=365,
        initial=7,
    )
    sender_rate_limit_per_hour = forms.IntegerField(
        label=_("Messages per sender per hour (0: no limit)"),
        min_value=0,
        max_value=100_000,
        initial=30,
    )

    def __init__(self, data: Any = None, *, inbox: Inbox | None = None) -> None:
        self.inbox = inbox
        super().__init__(
            data, initial=_initial(inbox) if inbox is not None else None, label_suffix=""
        )
        if inbox is not None:
            # The address names the inbox; it is set once, when the inbox is added.
            del self.fields["address"]
            for name, is_set in (
                ("imap_password", bool(inbox.imap_password)),
                ("smtp_password", bool(inbox.smtp_password)),
            ):
                if is_set:
                    self.fields[name].widget.attrs["placeholder"] = _("saved; leave empty to keep")
        else:
            del self.fields["clear_imap_password"]
            del self.fields["clear_smtp_password"]

    def inbox_settings(self) -> dict[str, Any]:
        """The cleaned form as keyword arguments of `create_inbox` / `update_inbox`."""
        data = self.cleaned_data
        team = data["team"]
        security = data["smtp_security"]
        settings: dict[str, Any] = {name: data[name].strip() for name in TEXT_SETTINGS}
        settings.update(
            is_active=data["is_active"],
            team_id=team.pk if team is not None else None,
            imap_port=data["imap_port"],
            imap_security=data["imap_security"],
            imap_folder=settings["imap_folder"] or "INBOX",
            imap_after_import=data["imap_after_import"],
            smtp_port=data["smtp_port"],
            smtp_use_tls=security == SmtpSecurity.STARTTLS,
            smtp_use_ssl=security == SmtpSecurity.SSL,
            max_attachment_bytes=int(data["max_attachment_mb"] * MEGABYTE),
            send_acknowledgement=data["send_acknowledgement"],
            thread_by_subject_days=data["thread_by_subject_days"],
            sender_rate_limit_per_hour=data["sender_rate_limit_per_hour"],
        )
        if self.inbox is None and not settings["name"]:
            del settings["name"]  # a new inbox is then named after its address
        # A password is never shown again, so an empty box means "keep the saved one".
        for name in ("imap_password", "smtp_password"):
            if data.get("clear_" + name):
                settings[name] = ""
            elif data[name]:
                settings[name] = data[name]
        return settings

    def add_refusal(self, refusal: DomainError) -> None:
        """Show a service's refusal beside the field it names (or above the form)."""
        name = FORM_FIELD_FOR.get(refusal.field or "", refusal.field)
        self.add_error(name if name in self.fields else None, refusal.message)


def _initial(inbox: Inbox) -> dict[str, Any]:
    initial: dict[str, Any] = {
        name: getattr(inbox, name)
        for name in (
            *TEXT_SETTINGS,
            "is_active",
            "imap_port",
            "imap_security",
            "imap_after_import",
            "smtp_port",
            "send_acknowledgement",
            "thread_by_subject_days",
            "sender_rate_limit_per_hour",
        )
    }
    initial["team"] = inbox.team_id
    initial["smtp_security"] = (
        SmtpSecurity.SSL
        if inbox.smtp_use_ssl
        else SmtpSecurity.STARTTLS
        if inbox.smtp_use_tls
        else SmtpSecurity.NONE
    )
    initial["max_attachment_mb"] = (Decimal(inbox.max_attachment_bytes) / MEGABYTE).quantize(
        Decimal("0.01")
    )
    return initial
