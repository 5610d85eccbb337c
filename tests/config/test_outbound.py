"""Outbound HTTP for users is refused where it could reach inside the network."""

import datetime
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config import outbound


class LocalSite:
    """A small web server with a few fixed pages, on 127.0.0.1 unless told
    (any 127.x address is loopback); over TLS when given ``ssl_context``."""

    def __init__(self, host="127.0.0.1", port=0, ssl_context=None) -> None:
        site = self
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.hits.append(self.path)
                if self.path == "/hello":
                    self._send(200, b"hello world")
                elif self.path == "/host":
                    self._send(200, self.headers["Host"].encode())
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

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(
                self.httpd.socket, server_side=True
            )
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeDNS:
    """DNS, the edge of the machine, answering some names from a script: each
    lookup of a name takes its next answer, the last one repeating. Other
    names (and addresses) resolve as usual. ``lookups`` lists the names asked."""

    def __init__(self, monkeypatch, answers: dict[str, list[str]]) -> None:
        self.answers = {name: list(addresses) for name, addresses in answers.items()}
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            # anyio asks with the name IDNA-encoded, as bytes.
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, *args, **kwargs)
            self.lookups.append(name)
            queue = self.answers[name]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def inside():
    """A server on 127.0.0.2: loopback too, but outside the one network the
    tests allow, so it stands for an internal address nobody may reach."""
    local = LocalSite(host="127.0.0.2")
    yield local
    local.close()


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


def test_the_transport_refuses_a_redirect_to_a_network_that_is_not_allowed(
    site, inside
):
    """Any httpx2 client on the transport: every hop is checked where it
    connects, whoever follows the redirect."""
    redirect = f"{site.url}/redirect?to={inside.url}/hello"
    with httpx2.Client(transport=outbound.transport(), follow_redirects=True) as client:
        assert client.get(f"{site.url}/redirect?to=/hello").text == "hello world"
        with pytest.raises(outbound.OutboundRefusedError, match=r"127\.0\.0\.2 is"):
            client.get(redirect)
    with pytest.raises(outbound.OutboundRefusedError, match=r"127\.0\.0\.2 is"):
        outbound.request("GET", redirect)
    assert inside.hits == []


async def test_the_async_transport_refuses_a_redirect_the_same_way(site, inside):
    transport = outbound.async_transport()
    async with httpx2.AsyncClient(transport=transport, follow_redirects=True) as client:
        response = await client.get(f"{site.url}/redirect?to=/hello")
        assert response.text == "hello world"
        with pytest.raises(outbound.OutboundRefusedError, match=r"127\.0\.0\.2 is"):
            await client.get(f"{site.url}/redirect?to={inside.url}/hello")
    assert inside.hits == []


def test_a_name_is_resolved_once_and_only_the_checked_address_is_connected_to(
    monkeypatch, site
):
    """A name that answers an allowed address, then an internal one (DNS
    rebinding): the connection goes to the address that was checked, and the
    next connection, checked again, is refused. Host stays the name."""
    inside = LocalSite(host="127.0.0.2", port=site.port)
    try:
        dns = FakeDNS(monkeypatch, {"rebind.test": ["127.0.0.1", "127.0.0.2"]})
        url = f"http://rebind.test:{site.port}/host"
        with httpx2.Client(transport=outbound.transport()) as client:
            assert client.get(url).text == f"rebind.test:{site.port}"
        assert dns.lookups == ["rebind.test"]
        with pytest.raises(
            outbound.OutboundRefusedError,
            match=r"rebind\.test resolves to 127\.0\.0\.2, which is not a public",
        ):
            outbound.request("GET", url)
        assert site.hits == ["/host"]
        assert inside.hits == []
    finally:
        inside.close()


async def test_the_async_transport_connects_only_to_the_checked_address(
    monkeypatch, site
):
    inside = LocalSite(host="127.0.0.2", port=site.port)
    try:
        FakeDNS(monkeypatch, {"rebind.test": ["127.0.0.1", "127.0.0.2"]})
        url = f"http://rebind.test:{site.port}/host"
        async with httpx2.AsyncClient(transport=outbound.async_transport()) as client:
            assert (await client.get(url)).text == f"rebind.test:{site.port}"
        async with httpx2.AsyncClient(transport=outbound.async_transport()) as client:
            with pytest.raises(
                outbound.OutboundRefusedError, match=r"rebind\.test resolves"
            ):
                await client.get(url)
        assert inside.hits == []
    finally:
        inside.close()


def test_an_operators_host_is_called_as_configured_but_not_where_it_redirects(
    settings, inside
):
    """trusted_urls: a base URL from the environment may be internal (a proxy,
    a local Ollama); a redirect from it to another host is still checked."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    operators = LocalSite()
    try:
        trusted = [operators.url + "/v1"]
        with httpx2.Client(
            transport=outbound.transport(trusted_urls=trusted), follow_redirects=True
        ) as client:
            assert client.get(f"{operators.url}/redirect?to=/hello").status_code == 200
            with pytest.raises(outbound.OutboundRefusedError):
                client.get(f"{operators.url}/redirect?to={inside.url}/hello")
        response = outbound.request(
            "GET", f"{operators.url}/hello", trusted_urls=trusted
        )
        assert response.text() == "hello world"
        with pytest.raises(outbound.OutboundRefusedError):
            outbound.request("GET", f"{operators.url}/hello")
        assert inside.hits == []
    finally:
        operators.close()


def _certificate(tmp_path, name: str):
    """A self-signed certificate for ``name``: the server's context, and a
    client context that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


def test_tls_checks_the_certificate_against_the_name_not_the_address(
    monkeypatch, settings, tmp_path
):
    """Connecting to the checked address keeps SNI and the certificate check
    on the host name: the right name passes, another name for the same
    address fails."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server_context, client_context = _certificate(tmp_path, "secure.test")
    secure = LocalSite(ssl_context=server_context)
    try:
        FakeDNS(
            monkeypatch, {"secure.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
        )
        transport = outbound.transport(verify=client_context)
        with httpx2.Client(transport=transport) as client:
            response = client.get(f"https://secure.test:{secure.port}/host")
            assert response.text == f"secure.test:{secure.port}"
            with pytest.raises(httpx2.ConnectError, match="certificate"):
                client.get(f"https://other.test:{secure.port}/host")
    finally:
        secure.close()
