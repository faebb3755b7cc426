from django.utils.translation import gettext as _

from serviceloop.core.errors import NotFound


class SignInLinkInvalid(NotFound):
    code = "sign_in_link_invalid"

    def __init__(self) -> None:
        super().__init__(_("This sign-in link was used already or has expired. Ask for a new one."))
