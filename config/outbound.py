"""Outbound HTTP on behalf of users, safe from server-side request forgery.

Every request (and every redirect) is checked before it leaves: http or https
only; the host resolved here, and refused if any address it resolves to is not
public (loopback, private, link-local such as the cloud metadata address
169.254.169.254, multicast, reserved, unspecified), unless an operator allowed
that network in OUTBOUND_ALLOWED_NETWORKS. The connection then goes to the
address that was checked, so a DNS answer that changes between the check and
the connection (rebinding) cannot reach an internal address. TLS still checks
the certificate against the host name. Responses are capped in size and time.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

MAX_REDIRECTS = 3


class OutboundRefusedError(Exception):
    """The request may not be made; the message says why, for a person."""


class OutboundFailedError(Exception):
    """The request was allowed but did not succeed (timeout, too large...)."""


@dataclass
class OutboundResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _allowed_networks() -> list:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in settings.OUTBOUND_ALLOWED_NETWORKS
    ]


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return
    if not ip.is_global or ip.is_multicast:
        raise OutboundRefusedError(
            f"{address} is not a public address (private, loopback, link-local "
            "or reserved), so it may not be called."
        )


def resolve(host: str, port: int) -> str:
    """The address to connect to, after checking every address ``host`` has."""
    try:
        answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise OutboundFailedError(f"Could not resolve {host}: {error}") from None
    addresses = list(dict.fromkeys(answer[4][0] for answer in answers))
    if not addresses:
        raise OutboundFailedError(f"{host} has no address.")
    for address in addresses:
        check_address(address)
    return addresses[0]


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


def _send_once(
    method: str, url: str, *, headers: dict, body: bytes | None, timeout: float
) -> urllib3.BaseHTTPResponse:
    scheme, host, port = check_url(url)
    address = resolve(host, port)
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    pool_class = (
        urllib3.HTTPSConnectionPool if scheme == "https" else urllib3.HTTPConnectionPool
    )
    options = {}
    if scheme == "https":
        # Connect to the checked address, verify the certificate for the name.
        options = {"server_hostname": host, "assert_hostname": host}
    pool = pool_class(
        address,
        port=port,
        timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
        retries=False,
        maxsize=1,
        **options,
    )
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    try:
        return pool.urlopen(
            method,
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.TimeoutError:
        raise OutboundFailedError(
            f"{host} did not answer within {timeout:g} s."
        ) from None
    except urllib3.exceptions.HTTPError as error:
        raise OutboundFailedError(f"Could not reach {host}: {error}") from None


def request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    body: bytes | None = None,
    allowed_hosts: list[str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> OutboundResponse:
    """Make one request, following up to MAX_REDIRECTS checked redirects.

    ``allowed_hosts``, when given, limits the hosts (and their subdomains when
    written ``.example.com``) that the request and its redirects may reach.
    """
    timeout = timeout or settings.OUTBOUND_TIMEOUT
    max_bytes = max_bytes or settings.OUTBOUND_MAX_BYTES
    headers = dict(headers or {})
    for _hop in range(MAX_REDIRECTS + 1):
        _check_host_allowed(url, allowed_hosts)
        response = _send_once(method, url, headers=headers, body=body, timeout=timeout)
        if response.status in (301, 302, 303, 307, 308) and response.headers.get(
            "Location"
        ):
            response.release_conn()
            url = urljoin(url, response.headers["Location"])
            if response.status == 303 or (
                response.status in (301, 302) and method == "POST"
            ):
                method, body = "GET", None
            continue
        try:
            data = response.read(max_bytes + 1, decode_content=True)
        except urllib3.exceptions.HTTPError as error:
            raise OutboundFailedError(f"The response broke off: {error}") from None
        finally:
            response.release_conn()
        if len(data) > max_bytes:
            raise OutboundFailedError(f"The response is larger than {max_bytes} bytes.")
        return OutboundResponse(
            status=response.status,
            headers=dict(response.headers),
            body=data,
            url=url,
        )
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
