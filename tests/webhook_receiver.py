"""A real HTTP server on 127.0.0.1 that plays a webhook receiver in tests."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


class WebhookReceiver:
    """Record every POST; answer with the scripted statuses in turn, then 200.

    `delay` seconds pass between reading a request and answering it, as with a slow receiver.
    """

    def __init__(self, statuses: tuple[int, ...] = (), delay: float = 0.0) -> None:
        self.posts: list[ReceivedPost] = []
        self._statuses = list(statuses)
        self._delay = delay
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hooks" % self.server.server_address[1]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.posts.append(
                        ReceivedPost(self.path, dict(self.headers.items()), body, time.time())
                    )
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                time.sleep(receiver._delay)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"thanks" if status < 300 else b"try again later")

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        return Handler

    def wait_for_posts(self, count: int, *, timeout: float = 10.0) -> list[ReceivedPost]:
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.posts)


@contextmanager
def webhook_receiver(
    statuses: tuple[int, ...] = (), delay: float = 0.0
) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(statuses, delay)
    thread = threading.Thread(target=receiver.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=5)


def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens, so a POST is refused."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return "http://127.0.0.1:%d/hooks" % port
