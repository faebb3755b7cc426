"""ASGI entry point: HTTP through Django; websockets (live queue, chat) join here later."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")

application = ProtocolTypeRouter({"http": get_asgi_application()})
