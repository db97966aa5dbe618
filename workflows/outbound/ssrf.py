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
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from conversations.conf import helpdesk_setting

Resolver = Callable[[str, int], list[str]]

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("100.100.100.200"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class BlockedDestination(Exception):
    """The URL points somewhere outbound requests may not go."""


class ResolutionFailed(Exception):
    """The host name did not resolve (a DNS outage, or a name that does not exist yet): not a security block, and
    worth trying again later. The outbound client reports it as a transient OutboundError."""


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses a host resolves to (numeric forms such as 2130706433 or 0x7f.1 resolve without DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ResolutionFailed(f"Could not resolve host {host}: {exc}") from exc
    except UnicodeError as exc:  # a name no DNS can hold: the URL is wrong, not the network
        raise BlockedDestination(f"Cannot resolve host {host!r}: {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


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
    return sorted({str(info[4][0]) for info in infos})


def is_forbidden_address(address: str) -> bool:
    """True for loopback, private, link-local, multicast, unspecified, reserved and metadata addresses."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_forbidden_address(str(embedded)):
            return True
    return (
        ip in METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or (ip.version == 4 and ip in SHARED_ADDRESS_SPACE)
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
# whose DNS answer changes in between (DNS rebinding) would slip through. The sessions of the outbound client (and
# the OAuth2 token fetch) mount `GuardedAdapter`, whose connections resolve once through the same resolver, refuse
# forbidden addresses and connect to the vetted IP themselves (TLS still verifies the certificate against the host
# name). Nothing is patched: every other HTTP connection of the process (the host project's own `requests.get`) is
# untouched.
_connect_resolver: contextvars.ContextVar[Resolver | None] = contextvars.ContextVar("ssrf_resolver", default=None)


def _guarded_create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
    resolver = _connect_resolver.get() or system_resolver
    host, port = address
    if allowlisted(str(host)):
        return urllib3_connection.create_connection(address, *args, **kwargs)
    addresses = resolver(str(host).strip("[]"), port)
    forbidden = [a for a in addresses if is_forbidden_address(a)]
    if forbidden or not addresses:
        raise BlockedDestination(f"{host} resolves to {forbidden[0] if forbidden else 'nothing'} at connect time.")
    error: OSError | None = None
    for vetted in addresses:
        try:
            return urllib3_connection.create_connection((vetted, port), *args, **kwargs)
        except OSError as exc:
            error = exc
    raise error  # type: ignore[misc]


class _GuardedConnectionMixin:
    """urllib3's `_new_conn` with the connect-time check (same error mapping as urllib3 2.x)."""

    def _new_conn(self: Any) -> socket.socket:  # typed as urllib3's HTTPConnection, which the mixin extends
        try:
            return _guarded_create_connection(
                (self._dns_host, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections pass the connect-time check; it never goes through a proxy."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> NoReturn:
        raise BlockedDestination("Outbound requests are not sent through a proxy.")


def guard_session(session: requests.Session) -> requests.Session:
    """Mount the guarded adapter on `session` for http and https, and ignore proxy environment variables."""
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


def guarded_session() -> requests.Session:
    """A requests session whose every connection is checked when it opens."""
    return guard_session(requests.Session())


@contextlib.contextmanager
def guarded_connections(resolver: Resolver = system_resolver) -> Iterator[None]:
    """Inside the block, guarded sessions resolve through `resolver` when they connect (the system's otherwise)."""
    token = _connect_resolver.set(resolver)
    try:
        yield
    finally:
        _connect_resolver.reset(token)
