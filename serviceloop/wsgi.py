"""The web server's entry point: Django as WSGI, served by granian (`serviceloop run`).

Every view is synchronous, so the server runs Django's WSGI handler directly on a fixed
set of threads per process (`SERVICELOOP_WEB_THREADS`), each keeping its database
connection, while granian's own runtime (Rust) reads and writes the sockets. Measured on
ticket creation (bench/README.md), that costs less CPU per request than an ASGI server
reaching the same synchronous views: Django's ASGI handler starts a thread per request and
hops to and from the event loop around it, and an ASGI-to-WSGI bridge still hops for the
request body and the response. Websockets, when live chat needs them, take an ASGI
application of their own.

Behind a reverse proxy every request comes from the proxy's address. From the addresses in
FORWARDED_ALLOW_IPS (default: this machine), the client's address and scheme are taken
from X-Forwarded-For and X-Forwarded-Proto, so per-address limits (the contact form) count
each client apart; from anywhere else those headers are ignored, as anyone can send them.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from granian.utils.proxies import wrap_wsgi_with_proxy_headers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")

application = wrap_wsgi_with_proxy_headers(
    get_wsgi_application(), trusted_hosts=settings.FORWARDED_ALLOW_IPS
)
