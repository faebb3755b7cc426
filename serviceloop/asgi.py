"""ASGI entry point: HTTP through Django's WSGI handler in a thread pool; websockets join here.

Every view is synchronous. Django's ASGI handler runs each request in a new thread of its
own and hops between it and the event loop several times per request (the middleware
chain, the view, the response): under load about 1.5 ms of CPU per request, and a new
database connection for each. Here uvicorn still owns the sockets, and a2wsgi hands each
HTTP request to one of a fixed set of threads that run Django as WSGI: one hop in and one
out, and each thread keeps its database connection from one request to the next.
"""

import os
from typing import cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi_typing import WSGIApp
from channels.routing import ProtocolTypeRouter
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")

# The stubs type the handler's result as a response object, which is what WSGI iterates.
django_http = cast(WSGIApp, get_wsgi_application())
application = ProtocolTypeRouter(
    {"http": WSGIMiddleware(django_http, workers=settings.SERVICELOOP_WEB_THREADS)}
)
