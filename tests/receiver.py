"""A real HTTP receiver on 127.0.0.1 (random port) for tests of outgoing posts.

It records every request and answers from a script of replies (then with the default one), so a test can
say "500, then 200" or "answer after 3 seconds" and check what leadgate actually sent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from tests.local_server import LocalServer, QuietHandler


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # seconds between single body bytes (a receiver that answers very slowly)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class Receiver(LocalServer):
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.default = Reply()
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(self.command, self.path, headers, body))
                    reply = receiver._script.popleft() if receiver._script else receiver.default
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    if self.command == "HEAD":
                        pass  # the headers only, as HTTP asks
                    elif reply.trickle:
                        for byte in reply.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(reply.body)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = do_PUT = do_HEAD = _handle

        self._serve(Handler)

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)
