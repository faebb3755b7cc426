"""The web server's entry point: Django as WSGI, served by granian (`serviceloop run`).

Every view is synchronous, so the server runs Django's WSGI handler directly on a fixed
set of threads per process (`SERVICELOOP_WEB_THREADS`), each keeping its database
connection, while granian's own runtime (Rust) reads and writes the sockets. Measured on
ticket creation (bench/README.md), that costs less CPU per request than an ASGI server
reaching the same synchronous views: Django's ASGI handler starts a thread per request and
hops to and from the event loop around it, and an ASGI-to-WSGI bridge still hops for the
request body and the response. Websockets, when live chat needs them, take an ASGI
application of their own.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")

application = get_wsgi_application()
