"""With SENTRY_DSN set, an unhandled error in a request reaches the DSN's
server (a local one here, speaking Sentry's envelope endpoint); without it,
nothing is sent."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.test import Client
from django.urls import path
import config.urls

def broken(request):
    raise RuntimeError("sentry-check: the view broke")

config.urls.urlpatterns.append(path("sentry-check/", broken))
from django.urls import clear_url_caches
clear_url_caches()
response = Client(raise_request_exception=False, HTTP_HOST="localhost").get(
    "/sentry-check/"
)
print("status", response.status_code)
import sentry_sdk
sentry_sdk.flush(timeout=5)
"""


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        _Ingest.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")


def run_with(dsn: str | None) -> tuple[str, list[bytes]]:
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test")
    env.pop("SENTRY_DSN", None)
    if dsn is not None:
        env["SENTRY_DSN"] = dsn.format(port=server.server_address[1])
    try:
        output = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
    return output.stdout + output.stderr, list(_Ingest.received)


def test_an_unhandled_error_reaches_the_dsn():
    output, received = run_with("http://publickey@127.0.0.1:{port}/42")
    assert "status 500" in output, output
    events = b"".join(received)
    assert b"sentry-check: the view broke" in events
    assert b'"environment":"production"' in events


def test_nothing_is_sent_without_a_dsn():
    output, received = run_with(None)
    assert "status 500" in output, output
    assert received == []
