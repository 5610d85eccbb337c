"""Outbound HTTP for users is refused where it could reach inside the network."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config import outbound


class LocalSite:
    """A small web server on 127.0.0.1 with a few fixed pages."""

    def __init__(self) -> None:
        site = self
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.hits.append(self.path)
                if self.path == "/hello":
                    self._send(200, b"hello world")
                elif self.path == "/big":
                    self._send(200, b"x" * 5000)
                elif self.path == "/slow":
                    time.sleep(2)
                    self._send(200, b"late")
                elif self.path.startswith("/redirect"):
                    target = self.path.split("to=", 1)[1]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, b"missing")

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                self._send(200, b"got " + self.rfile.read(length))

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site(settings):
    """The local site, with loopback exempted as an operator could exempt a
    network; every other private range stays refused."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    local = LocalSite()
    yield local
    local.close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not to bind)
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address):
    with pytest.raises(outbound.OutboundRefusedError, match="not a public address"):
        outbound.check_address(address)


def test_public_addresses_pass_and_operators_can_exempt_a_network(settings):
    outbound.check_address("93.184.216.34")
    outbound.check_address("2606:4700:4700::1111")
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    outbound.check_address("10.1.2.3")
    with pytest.raises(outbound.OutboundRefusedError):
        outbound.check_address("192.168.1.1")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http and https"),
        ("ftp://example.com/x", "Only http and https"),
        ("gopher://127.0.0.1:70/", "Only http and https"),
        ("http:///nohost", "has no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://[::1", "not a valid URL"),
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(url, message):
    with pytest.raises(outbound.OutboundRefusedError, match=message):
        outbound.request("GET", url)


def test_a_name_that_resolves_to_an_internal_address_is_refused(monkeypatch):
    """DNS is the edge: a public-looking name pointing inside is caught."""

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(outbound.OutboundRefusedError, match=r"10\.0\.0\.5"):
        outbound.request("GET", "http://innocent.example.com/")


def test_a_name_with_one_internal_address_among_public_ones_is_refused(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(outbound.OutboundRefusedError):
        outbound.request("GET", "http://mixed.example.com/")


def test_loopback_is_refused_without_an_exemption(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    local = LocalSite()
    try:
        with pytest.raises(outbound.OutboundRefusedError):
            outbound.request("GET", f"{local.url}/hello")
        with pytest.raises(outbound.OutboundRefusedError):
            outbound.request("GET", "http://localhost:1/")
        assert local.hits == []
    finally:
        local.close()


def test_an_allowed_request_returns_status_headers_and_body(site):
    response = outbound.request("GET", f"{site.url}/hello")
    assert (response.status, response.text()) == (200, "hello world")
    assert response.headers["Content-Type"] == "text/plain"
    posted = outbound.request("POST", f"{site.url}/echo", body=b"ping")
    assert posted.text() == "got ping"


def test_redirects_are_followed_only_where_the_first_request_could_go(site):
    ok = outbound.request("GET", f"{site.url}/redirect?to=/hello")
    assert ok.text() == "hello world"
    for target in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"):
        with pytest.raises(outbound.OutboundRefusedError):
            outbound.request("GET", f"{site.url}/redirect?to={target}")
    with pytest.raises(outbound.OutboundRefusedError, match="Only http"):
        outbound.request("GET", f"{site.url}/redirect?to=file:///etc/passwd")


def test_responses_are_capped_in_size_and_time(site):
    with pytest.raises(outbound.OutboundFailedError, match="larger than 100 bytes"):
        outbound.request("GET", f"{site.url}/big", max_bytes=100)
    with pytest.raises(outbound.OutboundFailedError, match="did not answer"):
        outbound.request("GET", f"{site.url}/slow", timeout=0.5)


def test_allowed_hosts_limit_the_request_and_its_redirects(site):
    assert outbound.host_allowed("api.example.com", [".example.com"])
    assert outbound.host_allowed("example.com", [".example.com"])
    assert not outbound.host_allowed("evilexample.com", [".example.com"])
    assert not outbound.host_allowed("example.com.evil.net", ["example.com"])
    response = outbound.request("GET", f"{site.url}/hello", allowed_hosts=["127.0.0.1"])
    assert response.status == 200
    with pytest.raises(outbound.OutboundRefusedError, match="not among the hosts"):
        outbound.request("GET", f"{site.url}/hello", allowed_hosts=["example.com"])
    with pytest.raises(outbound.OutboundRefusedError, match="not among the hosts"):
        outbound.request(
            "GET",
            f"{site.url}/redirect?to=http://localhost:1/",
            allowed_hosts=["127.0.0.1"],
        )
