"""The API keeps the contract its OpenAPI schema states: schemathesis generates requests from the schema the app
serves (valid ones and invalid ones, every operation), sends them as a support manager and as an agent, and checks
each answer: never a 5xx, only documented status codes, and a body that matches the documented schema.

The budget is fixed (a seed, 6 generated requests per operation plus the boundary cases, then 10 call sequences of
up to 8 steps per role in the stateful phase), so a run is repeatable: about 190 s of CPU for both roles. Look harder
locally with HELPDESK_CONTRACT_EXAMPLES=30 and HELPDESK_CONTRACT_SCENARIOS=60 (0 failures with both when last run).
Workflows that fuzzing creates may run steps that call out; sockets to anywhere but loopback are refused, so nothing
leaves the machine (the SSRF guard then reports the step as failed, which is an answer like any other).
"""

from __future__ import annotations

import os
import socket

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from conversations import services

SEED = 20261203
MAX_EXAMPLES = int(os.environ.get("HELPDESK_CONTRACT_EXAMPLES", "6"))  # raise it locally to look harder
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
LOOPBACK = ("127.0.0.1", "::1", "localhost")

# The contract is the views' and serializers', not the database's: the SQLite pass checks it, the PostgreSQL pass
# of `make test` skips it to keep CI short.
pytestmark = pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the API contract is checked once, in the SQLite pass",
)


@pytest.fixture
def loopback_only(monkeypatch):
    """Refuse name lookups and connections to anything but loopback: fuzzed workflows must not send anything out."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if str(host) not in LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, "name lookups are off in this test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise ConnectionRefusedError(f"{address[0]} is not loopback")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def rows_to_find(loopback_only, contact, team) -> None:
    """Rows for generated ids to find (ids start at 1 on a fresh database): a contact, a team, a conversation."""
    services.conversation_open(contact=contact, channel="email", subject="Contract", team=team)


# The raw-mail door (`POST /api/inboxes/{id}/inbound/`) takes the mail's bytes as they are, like a binary upload.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

# Loaded at collection: drf-spectacular builds the schema from the URL map without touching the database.
# No cache: a run replays nothing from earlier runs, only what the seed and the budget generate.
CONFIG = SchemathesisConfig.from_dict({"seed": SEED, "cache": {"enabled": False}})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)
budget = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def call_and_check(case, user):
    """Send the generated request with the user's token and run the three contract checks on the answer (a failed
    check raises); returns the response."""
    token, _ = Token.objects.get_or_create(user=user)
    return case.call_and_validate(headers={"Authorization": f"Token {token.key}"}, checks=CHECKS)


@schema.parametrize()
@budget
def test_api_keeps_its_schema_for_a_manager(case, manager):
    response = call_and_check(case, manager)
    assert response.status_code < 500, response.text[:300]


@schema.parametrize()
@budget
def test_api_keeps_its_schema_for_an_agent(case, agent):
    response = call_and_check(case, agent)
    assert response.status_code < 500, response.text[:300]


# The stateful phase: sequences of calls chained through the links schemathesis infers from the schema (a created
# row's id fed to the operations that take it: a workflow made, then read, changed, activated, run; a conversation
# opened, then messaged, assigned, snoozed), each answer checked as above. Bounded (scenarios x steps) to keep CI
# short: about 30 s for both roles.
STATEFUL_SCENARIOS = int(os.environ.get("HELPDESK_CONTRACT_SCENARIOS", "10"))
STATEFUL_STEPS = 8
STATEFUL_CONFIG = SchemathesisConfig.from_dict(
    {"seed": SEED, "cache": {"enabled": False}, "phases": {"stateful": {"enabled": True}}}
)
stateful_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", get_wsgi_application(), config=STATEFUL_CONFIG
)


def run_stateful(user) -> list[tuple[str, int]]:
    """Run the bounded call sequences as `user`; every answer is checked against the schema as it comes. Returns
    the (operation, status) of each checked answer, so the caller can see the sequences really ran."""
    token, _ = Token.objects.get_or_create(user=user)
    headers = {"Authorization": f"Token {token.key}"}
    checked: list[tuple[str, int]] = []

    class Scenarios(stateful_schema.as_state_machine()):
        def setup(self):
            # Each sequence starts from the same rows: what one made is rolled back before the next, so a sequence
            # replayed by hypothesis meets the answers it met the first time.
            self.rows = transaction.atomic()
            self.rows._from_testcase = True  # like the test's own transaction: a durable service block runs inside
            self.rows.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.rows.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)
            assert response.status_code < 500, response.text[:300]
            checked.append((f"{case.method} {case.path}", response.status_code))

    Scenarios.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    return checked


def test_call_sequences_keep_the_schema_for_a_manager(manager):
    checked = run_stateful(manager)
    # Sequences ran and chained: more answers than scenarios, and some of them succeeded (a row made, then used).
    assert len(checked) > STATEFUL_SCENARIOS, checked
    assert any(status < 300 for _, status in checked), checked


def test_call_sequences_keep_the_schema_for_an_agent(agent):
    checked = run_stateful(agent)
    assert len(checked) > STATEFUL_SCENARIOS, checked
    assert any(status < 300 for _, status in checked), checked
