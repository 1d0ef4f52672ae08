"""A loopback proxy to the Prefect API that loses the answer to one flow run completion.

The API commits the transition; the client never hears back, retries it, and the API
rejects the duplicate, handing back its own copy of the state (without the result when
results are not persisted). A network hiccup or a slow server does the same in production.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


@contextmanager
def losing_one_completion(upstream: str) -> Iterator[tuple[str, list[str]]]:
    """Serve on loopback; yield (proxy API url, paths whose answer was lost)."""
    lost: list[str] = []
    base = httpx.URL(upstream.rstrip("/") + "/")
    client = httpx.Client(timeout=60)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            url = base.join(self.path.removeprefix(base.path))
            answer = client.request(self.command, url, content=body, headers=headers)
            if not lost and self.path.endswith("/set_state") and b'"COMPLETED"' in body:
                lost.append(self.path)
                self.close_connection = True  # committed upstream; the answer never arrives
                return
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in HOP_BY_HOP | {"content-encoding"}:
                    self.send_header(key, value)
            self.send_header("content-length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{base.path.rstrip('/')}", lost
    finally:
        server.shutdown()
        server.server_close()
        client.close()
