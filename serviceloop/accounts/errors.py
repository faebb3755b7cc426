from django.utils.translation import gettext as _

from serviceloop.core.errors import NotAllowed


class SettingsNotAllowed(NotAllowed):
    code = "settings_not_allowed"

    def __init__(self) -> None:
        super().__init__(_("Only admins and supervisors can change settings."))


class AdminOnly(NotAllowed):
    code = "admin_only"

    def __init__(self) -> None:
        super().__init__(_("Only admins can manage agents and their roles."))


class ContributorNotAllowed(NotAllowed):
    code = "contributor_not_allowed"

    def __init__(self) -> None:
        super().__init__(
            _("Contributors work only the tickets assigned to them and add internal notes.")
        )
