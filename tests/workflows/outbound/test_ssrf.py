"""The SSRF guard: crafted URLs that point inward are all refused before any socket opens; redirects are checked
hop by hop; the allowlist lets one host through.

Names are resolved by a resolver that parses numeric forms with the C library (AI_NUMERICHOST: no DNS query ever
leaves the machine) and maps the few test host names from a table, so the decimal/octal/hex spellings are checked
exactly as getaddrinfo reads them in production.
"""

import socket

import pytest
import requests

from workflows.outbound.client import OutboundError, OutboundRequest, send
from workflows.outbound.ssrf import BlockedDestination, check_url, is_forbidden_address

NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.1.2.3"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],  # one public answer does not excuse an inward one
    "public.example": ["93.184.216.34"],
}


def offline_resolver(host: str, port: int) -> list[str]:
    """Numeric hosts through getaddrinfo without DNS; names from the table; anything else cannot resolve."""
    if host in NAMES:
        return NAMES[host]
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST)
    except socket.gaierror as exc:
        raise BlockedDestination(f"Cannot resolve host {host!r}") from exc
    return sorted({info[4][0] for info in infos})


CRAFTED = [
    "http://127.0.0.1/admin",
    "http://localhost:8000/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/router",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://100.64.0.1/",
    "http://internal.example/",
    "http://rebind.example/",
    "http://user:secret@public.example/",
    "ftp://public.example/file",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
    "http:///no-host",
]


@pytest.mark.parametrize("url", CRAFTED)
def test_crafted_url_is_refused_before_any_socket_opens(url, settings, no_sockets):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    with pytest.raises(BlockedDestination):
        check_url(url, offline_resolver)
    with pytest.raises(BlockedDestination):
        send(OutboundRequest(method="GET", url=url), resolver=offline_resolver)


def test_at_least_twenty_crafted_urls():
    assert len(CRAFTED) >= 20


def test_public_address_passes_the_guard(settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    check_url("https://public.example/hook", offline_resolver)  # raises when refused
    assert not is_forbidden_address("93.184.216.34")
    assert is_forbidden_address("::ffff:10.0.0.1")


def test_allowlist_lets_exactly_that_host_through(settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["internal.example"]
    check_url("http://internal.example/api", offline_resolver)
    with pytest.raises(BlockedDestination):
        check_url("http://10.1.2.3/api", offline_resolver)


def test_allowlisted_loopback_server_is_reached(settings, httpserver):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    httpserver.expect_request("/ok").respond_with_json({"fine": True})
    response = send(OutboundRequest(method="GET", url=httpserver.url_for("/ok")))
    assert response.json() == {"fine": True}


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://2130706433/"]
)
def test_redirect_into_a_forbidden_address_is_refused(settings, httpserver, target):
    """The first hop is an allowlisted local server; its redirect inward is checked and refused, not followed."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    httpserver.expect_request("/jump").respond_with_data("", status=302, headers={"Location": target})
    session = requests.Session()
    seen: list[str] = []
    original = session.request

    def recording(method, url, **kwargs):
        seen.append(url)
        return original(method, url, **kwargs)

    session.request = recording
    with pytest.raises(BlockedDestination):
        send(OutboundRequest(method="GET", url=httpserver.url_for("/jump")), session=session, resolver=offline_resolver)
    assert seen == [httpserver.url_for("/jump")]


def test_redirect_loop_ends_with_a_permanent_error(settings, httpserver):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest(method="GET", url=httpserver.url_for("/loop")))
    assert caught.value.transient is False


def test_dns_rebinding_between_check_and_connect_is_refused(settings, httpserver):
    """The name resolves to a public address when checked and to loopback when the connection opens: the connection
    is refused, because the connect-time guard resolves once and connects to the address it vetted."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    httpserver.expect_request("/internal").respond_with_data("secret admin page")
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    url = f"http://rebind.example:{httpserver.port}/internal"
    with pytest.raises(BlockedDestination):
        send(OutboundRequest(method="GET", url=url), resolver=rebinding)
    assert httpserver.log == []


def test_connect_time_guard_connects_to_the_vetted_address(settings, httpserver):
    """A name checked once is connected by the address that was checked (here: an allowlisted loopback answer)."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    httpserver.expect_request("/ok").respond_with_json({"reached": True})
    calls: list[str] = []

    def counted(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"] if len(calls) == 1 else ["10.9.9.9"]

    with pytest.raises(BlockedDestination, match="connect time"):
        send(OutboundRequest(method="GET", url=f"http://svc.example:{httpserver.port}/ok"), resolver=counted)
    assert calls == ["svc.example", "svc.example"] and httpserver.log == []


def test_credentials_do_not_follow_a_redirect_to_another_host(settings, httpserver):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    elsewhere = f"http://127.0.0.1:{httpserver.port}/elsewhere"
    httpserver.expect_request("/start").respond_with_data("", status=307, headers={"Location": elsewhere})
    httpserver.expect_request("/elsewhere").respond_with_json({"ok": True})
    send(
        OutboundRequest(
            method="POST",
            url=httpserver.url_for("/start"),
            json_body={"a": 1},
            headers={"Authorization": "Bearer s3cr3t-token", "X-Api-Key": "k-123456"},
        ),
        key="idem-1",
    )
    (first, _), (second, _) = httpserver.log
    assert first.headers["Authorization"] == "Bearer s3cr3t-token"
    assert "Authorization" not in second.headers and "X-Api-Key" not in second.headers
    assert second.headers["Idempotency-Key"] == "idem-1"


def test_credentials_follow_a_redirect_on_the_same_host(settings, httpserver):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    httpserver.expect_request("/old").respond_with_data("", status=308, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_json({"ok": True})
    send(OutboundRequest(method="GET", url=httpserver.url_for("/old"), headers={"Authorization": "Bearer tok-1234"}))
    assert httpserver.log[1][0].headers["Authorization"] == "Bearer tok-1234"


def test_oauth_token_endpoint_redirect_is_not_followed(settings, httpserver, db):
    from workflows.integrations.auth import oauth_access_token
    from workflows.integrations.services import integration_save
    from workflows.outbound.client import OutboundError as TokenError

    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    httpserver.expect_request("/token").respond_with_data(
        "", status=307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    integration = integration_save(
        name="CRM",
        base_url=httpserver.url_for("/"),
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "cid",
            "client_secret": "csecret-123",
            "token_url": httpserver.url_for("/token"),
        },
    )
    with pytest.raises(TokenError):
        oauth_access_token(integration)
    assert len(httpserver.log) == 1
