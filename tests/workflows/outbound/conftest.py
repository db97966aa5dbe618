"""Fixtures for outbound steps: fake remote endpoints are pytest-httpserver servers on 127.0.0.1, which the SSRF
guard refuses unless allowlisted — so these tests allowlist exactly the loopback names the fake servers use."""
import pytest

from workflows.outbound import client
from workflows.outbound.ssrf import BlockedDestination


@pytest.fixture
def allow_loopback(settings):
    """Let outbound requests reach the local fake servers (and nothing else new)."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    settings.HELPDESK_RETRY_BASE_SECONDS = 1
    return settings


@pytest.fixture
def no_sockets(monkeypatch):
    """A transport that refuses to open any socket: a request that got past the guard fails the test loudly."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a socket was opened: the SSRF guard let a request through")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return refuse


__all__ = ["BlockedDestination", "client"]
