"""A local stand-in for OpenAI's HTTP API, on 127.0.0.1, for tests.

It speaks the real wire format, so requests go through the real `openai`
client and the SDK's Responses model: `GET /v1/models`, and `POST
/v1/responses`, plain or streamed as server-sent events (the reply is the offline demo
model's plain answer, serialised with OpenAI's own types). It checks the
bearer key and records what it was sent.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import agents.runtime.sdk  # noqa: F401  (loads the SDK as agents_sdk)
from agents.runtime.demo_model.responses import build_turn, stream_events
from agents.runtime.sdk import ModelSettings

MODELS = ["gpt-4.1-mini", "gpt-4.1"]


class FakeOpenAI:
    def __init__(self, *, keys: set[str]) -> None:
        self.keys = keys
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _authorised(self) -> bool:
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                server.requests.append({"path": self.path, "key": key})
                if key in server.keys:
                    return True
                self._json(
                    401,
                    {
                        "error": {
                            "message": "Incorrect API key provided.",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    },
                )
                return False

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/models":
                    data = [
                        {"id": name, "object": "model", "created": 0, "owned_by": "x"}
                        for name in MODELS
                    ]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"error": {"message": "Not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorised():
                    return
                server.requests[-1]["body"] = body
                if self.path != "/v1/responses":
                    self._json(404, {"error": {"message": "Not found"}})
                    return
                turn = build_turn(
                    system_instructions=body.get("instructions"),
                    input=body.get("input", ""),
                    model_settings=ModelSettings(),
                    tools=[],
                    output_schema=None,
                    handoffs=[],
                )
                events = list(stream_events(turn))
                if not body.get("stream"):
                    # The last event (response.completed) holds the whole response.
                    self._json(200, events[-1].response.model_dump(exclude_none=True))
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for event in events:
                    payload = event.model_dump_json(exclude_none=True)
                    self.wfile.write(
                        f"event: {event.type}\ndata: {payload}\n\n".encode()
                    )
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
