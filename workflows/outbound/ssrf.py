"""The SSRF guard: an outbound URL may only reach public addresses, unless its host is allowlisted.

The host is resolved and every address it resolves to is checked, so names pointing inward, IPv4-mapped IPv6,
decimal/octal/hex IPv4 spellings (which the resolver turns into addresses) and cloud metadata endpoints are
all refused. Redirects are followed by the client one hop at a time through this same check.
"""
from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from urllib3.util import connection as urllib3_connection

from conversations.conf import helpdesk_setting

Resolver = Callable[[str, int], list[str]]

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254"),
})
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class BlockedDestination(Exception):
    """The URL points somewhere outbound requests may not go."""


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses a host resolves to (numeric forms such as 2130706433 or 0x7f.1 resolve without DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedDestination(f"Cannot resolve host {host!r}: {exc}") from exc
    return sorted({info[4][0] for info in infos})


def literal_resolver(host: str, port: int) -> list[str]:
    """The addresses of a host written as an address (in any spelling the C resolver reads without DNS, e.g.
    2130706433) or `localhost`; nothing for a name, which is resolved and checked when a request is sent. For
    checks at save time: no DNS query, and no answer that a later DNS change would make stale anyway."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return ["127.0.0.1"]
    try:
        infos = socket.getaddrinfo(host, port, flags=socket.AI_NUMERICHOST, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


def is_forbidden_address(address: str) -> bool:
    """True for loopback, private, link-local, multicast, unspecified, reserved and metadata addresses."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_forbidden_address(str(embedded)):
            return True
    return (
        ip in METADATA_ADDRESSES or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
        or ip.is_unspecified or ip.is_reserved or (ip.version == 4 and ip in SHARED_ADDRESS_SPACE)
    )


def allowlisted(host: str) -> bool:
    """Hosts in HELPDESK_OUTBOUND_ALLOWLIST are reachable whatever they resolve to (exact, case-insensitive)."""
    return host.lower().strip("[]") in {entry.lower().strip("[]") for entry in helpdesk_setting("OUTBOUND_ALLOWLIST")}


def check_url(url: str, resolver: Resolver = system_resolver) -> None:
    """Raise BlockedDestination unless `url` is http(s) to a public address or an allowlisted host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedDestination(f"Only http and https URLs are allowed, not {parts.scheme or 'none'!r}.")
    host = parts.hostname
    if not host:
        raise BlockedDestination("The URL has no host.")
    if parts.username or parts.password:
        raise BlockedDestination("Credentials inside URLs are not allowed; use an integration's auth.")
    if allowlisted(host):
        return
    if host.lower().rstrip(".") in METADATA_HOSTS:
        raise BlockedDestination(f"{host} is a cloud metadata endpoint.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedDestination(f"Bad port in URL: {exc}") from exc
    for address in resolver(host, port):
        if is_forbidden_address(address):
            raise BlockedDestination(f"{host} resolves to {address}, a private or reserved address.")


# Connect-time check ------------------------------------------------------------------------------------------------
# `check_url` vets a URL before the request, but the HTTP library resolves the name again when it connects: a name
# whose DNS answer changes in between (DNS rebinding) would slip through. While the outbound client sends, urllib3's
# connection factory resolves once through the same resolver, refuses forbidden addresses and connects to the vetted
# IP itself (TLS still verifies the certificate against the host name). Outside `guarded_connections` nothing changes.
_connect_resolver: contextvars.ContextVar[Resolver | None] = contextvars.ContextVar("ssrf_resolver", default=None)
_unguarded_create_connection = urllib3_connection.create_connection


def _create_connection(address, *args, **kwargs):
    resolver = _connect_resolver.get()
    host, port = address
    if resolver is None or allowlisted(str(host)):
        return _unguarded_create_connection(address, *args, **kwargs)
    addresses = resolver(str(host).strip("[]"), port)
    forbidden = [a for a in addresses if is_forbidden_address(a)]
    if forbidden or not addresses:
        raise BlockedDestination(f"{host} resolves to {forbidden[0] if forbidden else 'nothing'} at connect time.")
    error: OSError | None = None
    for vetted in addresses:
        try:
            return _unguarded_create_connection((vetted, port), *args, **kwargs)
        except OSError as exc:
            error = exc
    raise error  # type: ignore[misc]


urllib3_connection.create_connection = _create_connection


@contextlib.contextmanager
def guarded_connections(resolver: Resolver = system_resolver) -> Iterator[None]:
    """Inside the block, every connection urllib3 (and so requests) opens in this context is checked at connect time."""
    token = _connect_resolver.set(resolver)
    try:
        yield
    finally:
        _connect_resolver.reset(token)
