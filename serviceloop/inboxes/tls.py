"""How the IMAP client trusts a mail server: the system's CAs, plus what the admin pasted.

Certificates are always verified, host name included; there is no switch to turn that
off. A server with a self-signed certificate or one from a private CA is trusted by
pasting that certificate (PEM) into the inbox, as a mail client asks its user to do;
alternatively SSL_CERT_FILE / SSL_CERT_DIR point OpenSSL at another trust store for the
whole server.
"""

import ssl

from django.utils.translation import gettext as _

from serviceloop.core.errors import InvalidInput

FIELD = "imap_ca_certificate"


def client_context(trusted_pem: str = "") -> ssl.SSLContext:
    """A TLS client context that verifies the server; `trusted_pem` adds trust anchors."""
    context = ssl.create_default_context()
    if trusted_pem.strip():
        context.load_verify_locations(cadata=trusted_pem)
    return context


def checked_certificates(pem: str) -> str:
    """The PEM text an admin pasted, if it holds certificates and nothing secret."""
    pem = pem.strip()
    if not pem:
        return ""
    if "PRIVATE KEY-----" in pem:
        raise InvalidInput(
            _("Paste only the certificate; its private key stays on the mail server."),
            field=FIELD,
        )
    # Text, not bytes: OpenSSL would read bytes as DER. Non-ASCII text is no PEM either.
    readable = pem.isascii()
    if readable:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem)
        except (ssl.SSLError, ValueError):
            readable = False
    if not readable:
        raise InvalidInput(
            _(
                "This is not a certificate in PEM form: paste the text from "
                "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
            ),
            field=FIELD,
        )
    return pem + "\n"
