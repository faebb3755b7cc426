from django.utils.translation import gettext as _

from serviceloop.core.errors import Conflict, NotAllowed, NotFound


class TicketNotFound(NotFound):
    code = "ticket_not_found"

    def __init__(self, number: int) -> None:
        super().__init__(_("Ticket #%(number)s was not found.") % {"number": number})


class TicketClosed(Conflict):
    code = "ticket_closed"

    def __init__(self, number: int) -> None:
        super().__init__(
            _("Ticket #%(number)s is closed; a reply will open a follow-up.") % {"number": number}
        )


class StatusChangeRefused(Conflict):
    code = "status_change_refused"


class NotAssignedToYou(NotAllowed):
    code = "not_assigned_to_you"

    def __init__(self, number: int) -> None:
        super().__init__(
            _(
                "Contributors work only tickets assigned to them; #%(number)s is not. "
                "You can still add an internal note."
            )
            % {"number": number}
        )


class ContributorCannotAssign(NotAllowed):
    code = "contributor_cannot_assign"

    def __init__(self) -> None:
        super().__init__(_("Contributors cannot assign or merge tickets; ask an agent."))
