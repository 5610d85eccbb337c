"""Outbound HTTP made for users, safe from server-side request forgery.

One rule for every request the site sends out, whoever builds it (the
``http_request`` tool, webhook tools, model providers' clients, the embeddings
API): http or https only; the host resolved here, and refused if any address it
resolves to is not public (loopback, private, link-local such as the cloud
metadata address 169.254.169.254, multicast, reserved, unspecified), unless an
operator allowed that network in OUTBOUND_ALLOWED_NETWORKS.

The check happens where the connection is opened: the transports below give
httpx's connection pool a network backend that resolves the host, checks every
address, and connects to a checked address, never to a fresh DNS answer (so a
name that resolves differently the second time, DNS rebinding, cannot reach
inside). Every redirect is a new request through the same backend, so it is
checked the same way. The URL keeps its host name, so the Host header, TLS SNI
and the certificate check are still about the name.

Hosts an operator configured (a provider's base URL in the environment) may be
passed as ``trusted_urls``: connections to exactly that host and port are made
as configured, without the address check (an internal proxy, an Ollama on the
same machine); anything they redirect to elsewhere is still checked.

``request()`` is the simple interface (size and time capped); ``transport()``,
``async_transport()`` and ``legacy_async_transport()`` hand the same checks to
client libraries (openai's clients, LiteLLM).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import anyio.to_thread
import httpcore2
import httpx2
from django.conf import settings

MAX_REDIRECTS = 3


class OutboundRefusedError(Exception):
    """The request may not be made; the message says why, for a person."""


class OutboundFailedError(Exception):
    """The request was allowed but did not succeed (timeout, too large...)."""


@dataclass
class OutboundResponse:
    status: int
    # Case-insensitive, as HTTP header names are.
    headers: Mapping[str, str]
    body: bytes
    url: str

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _allowed_networks() -> list:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in settings.OUTBOUND_ALLOWED_NETWORKS
    ]


def check_address(address: str, *, host: str = "") -> None:
    """Refuse ``address`` unless it is public or in an allowed network; the
    message names ``host`` too when that is the name it was resolved from."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return
    if not ip.is_global or ip.is_multicast:
        which = address
        if host and host != address:
            which = f"{host} resolves to {address}, which"
        raise OutboundRefusedError(
            f"{which} is not a public address (private, loopback, link-local "
            "or reserved), so it may not be called."
        )


def addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, once each, after checking them all."""
    try:
        answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise OutboundFailedError(f"Could not resolve {host}: {error}") from None
    found = list(dict.fromkeys(answer[4][0] for answer in answers))
    if not found:
        raise OutboundFailedError(f"{host} has no address.")
    for address in found:
        check_address(address, host=host)
    return found


def resolve(host: str, port: int) -> str:
    """The address to connect to, after checking every address ``host`` has."""
    return addresses(host, port)[0]


def check_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an acceptable URL; OutboundRefusedError otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefusedError(f"{url!r} is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundRefusedError("Only http and https URLs may be called.")
    if not parts.hostname:
        raise OutboundRefusedError(f"{url!r} has no host.")
    if parts.username or parts.password:
        raise OutboundRefusedError("URLs with credentials in them are not allowed.")
    return (
        parts.scheme,
        parts.hostname,
        port or (443 if parts.scheme == "https" else 80),
    )


def _origins(urls: Iterable[str]) -> frozenset[tuple[str, int]]:
    """(host, port) of each URL, the host as the connection pool sees it
    (lower case, IDNA-encoded, IPv6 without brackets)."""
    origins = set()
    for url in urls:
        if not url:
            continue
        parsed = httpx2.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            continue
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        origins.add((parsed.raw_host.decode("ascii").lower(), port))
    return frozenset(origins)


class _Checked:
    """What the sync and async backends share: which hosts are trusted, and
    which connection error the wrapped library expects."""

    def __init__(self, inner, connect_error: type[Exception], trusted_urls) -> None:
        self._inner = inner
        self._connect_error = connect_error
        self._trusted = _origins(trusted_urls)

    def _targets(self, host: str, port: int) -> list[str]:
        if (host.lower(), port) in self._trusted:
            # As the operator configured it: the name, resolved as usual.
            return [host]
        try:
            return addresses(host, port)
        except OutboundFailedError as error:
            # A name that does not resolve is an ordinary connection failure
            # to the client library (retried, reported as unreachable).
            raise self._connect_error(str(error)) from None


class CheckedBackend(_Checked):
    """An httpcore network backend (sync) that connects only to checked
    addresses; ``inner`` is the library's own backend, which opens the socket."""

    def connect_tcp(
        self, host, port, timeout=None, local_address=None, socket_options=None
    ):
        failure = None
        for target in self._targets(host, port):
            try:
                return self._inner.connect_tcp(
                    target, port, timeout, local_address, socket_options
                )
            except self._connect_error as error:
                failure = error
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise OutboundRefusedError("Unix sockets may not be called.")

    def sleep(self, seconds):
        self._inner.sleep(seconds)


class AsyncCheckedBackend(_Checked):
    """The same as CheckedBackend, for async clients; DNS is looked up in a
    thread so the event loop does not wait on it."""

    async def connect_tcp(
        self, host, port, timeout=None, local_address=None, socket_options=None
    ):
        failure = None
        targets = await anyio.to_thread.run_sync(self._targets, host, port)
        for target in targets:
            try:
                return await self._inner.connect_tcp(
                    target, port, timeout, local_address, socket_options
                )
            except self._connect_error as error:
                failure = error
        raise failure

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise OutboundRefusedError("Unix sockets may not be called.")

    async def sleep(self, seconds):
        await self._inner.sleep(seconds)


# httpx's transports keep their connection pool in ``_pool`` and take no
# network backend, so each transport below gets a pool of its own with the
# checking backend; the rest (requests, responses, error mapping) is httpx's.
# No proxy from the environment is used: a proxy would connect for them,
# unchecked.


def _with_checked_pool(transport, pool_class, backend, ssl_context, limits):
    transport._pool = pool_class(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport


def transport(*, trusted_urls: Iterable[str] = (), verify=True) -> httpx2.HTTPTransport:
    """For ``httpx2.Client(transport=...)``, openai's sync client among them."""
    return _with_checked_pool(
        httpx2.HTTPTransport(verify=verify),
        httpcore2.ConnectionPool,
        CheckedBackend(httpcore2.SyncBackend(), httpcore2.ConnectError, trusted_urls),
        httpx2.create_ssl_context(verify=verify),
        httpx2.Limits(),
    )


def async_transport(
    *, trusted_urls: Iterable[str] = (), verify=True
) -> httpx2.AsyncHTTPTransport:
    """For ``httpx2.AsyncClient(transport=...)``, openai's async client among them."""
    return _with_checked_pool(
        httpx2.AsyncHTTPTransport(verify=verify),
        httpcore2.AsyncConnectionPool,
        AsyncCheckedBackend(
            httpcore2.AnyIOBackend(), httpcore2.ConnectError, trusted_urls
        ),
        httpx2.create_ssl_context(verify=verify),
        httpx2.Limits(),
    )


def legacy_async_transport(*, trusted_urls: Iterable[str] = ()):
    """The same checks for a client of the older httpx 0.x (LiteLLM's)."""
    # Only LiteLLM still speaks httpx 0.x; nothing else needs it loaded.
    import httpcore
    import httpx

    return _with_checked_pool(
        httpx.AsyncHTTPTransport(),
        httpcore.AsyncConnectionPool,
        AsyncCheckedBackend(
            httpcore.AnyIOBackend(), httpcore.ConnectError, trusted_urls
        ),
        httpx.create_ssl_context(),
        httpx.Limits(),
    )


def _read_capped(response: httpx2.Response, max_bytes: int) -> bytes:
    data = bytearray()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > max_bytes:
                raise OutboundFailedError(
                    f"The response is larger than {max_bytes} bytes."
                )
    except httpx2.HTTPError as error:
        raise OutboundFailedError(f"The response broke off: {error}") from None
    return bytes(data)


def request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    body: bytes | None = None,
    allowed_hosts: list[str] | None = None,
    trusted_urls: Iterable[str] = (),
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> OutboundResponse:
    """Make one request, following up to MAX_REDIRECTS checked redirects.

    ``allowed_hosts``, when given, limits the hosts (and their subdomains when
    written ``.example.com``) that the request and its redirects may reach.
    ``trusted_urls``: operator-configured endpoints (see the module's text).
    """
    timeout = timeout or settings.OUTBOUND_TIMEOUT
    max_bytes = max_bytes or settings.OUTBOUND_MAX_BYTES
    headers = dict(headers or {})
    client = httpx2.Client(
        transport=transport(trusted_urls=trusted_urls),
        timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
    )
    with client:
        for _hop in range(MAX_REDIRECTS + 1):
            _check_host_allowed(url, allowed_hosts)
            _scheme, host, _port = check_url(url)
            try:
                response = client.send(
                    client.build_request(method, url, headers=headers, content=body),
                    stream=True,
                )
            except httpx2.TimeoutException:
                raise OutboundFailedError(
                    f"{host} did not answer within {timeout:g} s."
                ) from None
            except httpx2.HTTPError as error:
                raise OutboundFailedError(f"Could not reach {host}: {error}") from None
            try:
                location = response.headers.get("Location")
                if response.status_code in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, body = "GET", None
                    continue
                return OutboundResponse(
                    status=response.status_code,
                    headers=httpx2.Headers(response.headers),
                    body=_read_capped(response, max_bytes),
                    url=url,
                )
            finally:
                response.close()
    raise OutboundFailedError(f"More than {MAX_REDIRECTS} redirects.")


def host_allowed(host: str, allowed_hosts: list[str]) -> bool:
    host = host.lower().rstrip(".")
    for allowed in allowed_hosts:
        allowed = allowed.lower().strip()
        if allowed.startswith("."):
            if host == allowed[1:] or host.endswith(allowed):
                return True
        elif host == allowed:
            return True
    return False


def _check_host_allowed(url: str, allowed_hosts: list[str] | None) -> None:
    if allowed_hosts is None:
        return
    _scheme, host, _port = check_url(url)
    if not host_allowed(host, allowed_hosts):
        raise OutboundRefusedError(
            f"{host} is not among the hosts this agent may call "
            f"({', '.join(allowed_hosts) or 'none'})."
        )
