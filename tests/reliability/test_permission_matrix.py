"""The permission matrix: every API operation and every admin page, asked by an anonymous visitor, an agent, a support
manager and a superuser, gives each the answer its role deserves.

The operations come from the OpenAPI schema and the admin pages from the admin site's own URL lists, so a new
endpoint or page cannot be forgotten: one without an expectation below fails the test until someone says who may
use it. Anonymous API calls get 401, anonymous admin visits a redirect to the login page; a role that may not use
an operation gets 403; a role that may is never refused (and a list or admin page opens with 200).
"""

from __future__ import annotations

import re
import socket
from collections import Counter

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from conversations import clock
from conversations.roles import AGENT_APPS, MANAGER_APPS
from sla.policies import business_hours_save
from tests.support.people import browser_for, client_for
from workflows.gallery import catalog as gallery
from workflows.models import WorkflowReplay
from workflows.services import workflow_definition

ANONYMOUS, AGENT, MANAGER, SUPERUSER = "anonymous", "agent", "manager", "superuser"
PUBLIC, NOBODY = "public", "nobody"
INBOX_TOKEN = "inbox token"  # a door opened by an inbox's own token, never by a user's: every user gets 401
ROLES = (ANONYMOUS, AGENT, MANAGER, SUPERUSER)
WHO_MAY = {
    NOBODY: set(),
    INBOX_TOKEN: set(),
    PUBLIC: set(ROLES),
    AGENT: {AGENT, MANAGER, SUPERUSER},
    MANAGER: {MANAGER, SUPERUSER},
    SUPERUSER: {SUPERUSER},
}

# Who may use each API path: one audience for every method, or one per method. A path missing here fails the test.
API_AUDIENCE: dict[str, str | dict[str, str]] = {
    "/api/contacts/": AGENT,
    "/api/contacts/{id}/": AGENT,
    "/api/teams/": {"get": AGENT, "post": MANAGER},
    "/api/teams/{id}/": {"get": AGENT, "put": MANAGER, "patch": MANAGER, "delete": MANAGER},
    "/api/conversations/": AGENT,
    "/api/conversations/{id}/": AGENT,
    "/api/conversations/{conversation_pk}/messages/": AGENT,
    "/api/conversations/{conversation_pk}/recordings/": AGENT,
    "/api/tickets/": AGENT,
    "/api/tickets/{id}/": AGENT,
    "/api/surveys/{token}/answer/": PUBLIC,
    "/api/business-hours/": MANAGER,
    "/api/business-hours/{id}/": MANAGER,
    "/api/sla-policies/": MANAGER,
    "/api/sla-policies/{id}/": MANAGER,
    "/api/analytics/sla/": MANAGER,
    "/api/analytics/conversations/": MANAGER,
    "/api/exports/conversations.csv": MANAGER,
    "/api/analytics/workflows/": MANAGER,
    "/api/workflows/": MANAGER,
    "/api/workflows/{id}/": MANAGER,
    "/api/workflows/{id}/activate/": MANAGER,
    "/api/workflows/{id}/deactivate/": MANAGER,
    "/api/workflows/{id}/duplicate/": MANAGER,
    "/api/workflows/{id}/export/": MANAGER,
    "/api/workflows/{id}/run/": MANAGER,
    "/api/workflows/{id}/test/": MANAGER,
    "/api/workflows/callable/": MANAGER,
    "/api/workflows/import/": MANAGER,
    "/api/ai/workflows/": MANAGER,
    "/api/workflow-runs/": MANAGER,
    "/api/workflow-runs/{id}/": MANAGER,
    "/api/workflow-runs/{id}/cancel/": MANAGER,
    "/api/workflow-runs/{id}/retry/": MANAGER,
    "/api/workflow-templates/": MANAGER,
    "/api/workflow-templates/{key}/": MANAGER,
    "/api/workflow-templates/{key}/use/": MANAGER,
    "/api/integrations/": MANAGER,
    "/api/integrations/{id}/": MANAGER,
    "/api/custom-actions/": MANAGER,
    "/api/custom-actions/{id}/": MANAGER,
    "/api/custom-actions/{id}/test/": MANAGER,
    # Agents keep personal macros (their own only; shared ones are the managers'): the views scope each row.
    "/api/macros/": AGENT,
    "/api/macros/{id}/": AGENT,
    "/api/conversations/{id}/apply-macro/": AGENT,
    "/api/conversations/{conversation_pk}/events/": MANAGER,
    "/api/events/{event_pk}/explain/": MANAGER,
    "/api/workflows/{id}/replay/": MANAGER,
    "/api/workflow-replays/{id}/": MANAGER,
    "/api/endpoints/": MANAGER,
    "/api/endpoints/{id}/": MANAGER,
    "/api/endpoints/{id}/enable/": MANAGER,
    "/api/attachments/{attachment_id}/": AGENT,
    "/api/conversations/{conversation_pk}/messages/{message_pk}/retry/": AGENT,
    "/api/inboxes/": MANAGER,
    "/api/inboxes/{id}/": MANAGER,
    "/api/inboxes/{id}/rotate-token/": MANAGER,
    "/api/inboxes/{id}/inbound/": INBOX_TOKEN,
    "/api/conversation-fields/": {"get": AGENT, "post": MANAGER},
    "/api/conversation-fields/{id}/": {"get": AGENT, "put": MANAGER, "patch": MANAGER, "delete": MANAGER},
    "/api/conversations/{conversation_pk}/links/": AGENT,
    "/api/conversations/{conversation_pk}/links/{other_pk}/": AGENT,
    "/api/conversations/{conversation_pk}/presence/": AGENT,
    "/api/conversations/{conversation_pk}/merge/": AGENT,
    "/api/conversations/{conversation_pk}/snooze/": AGENT,
    "/api/views/": AGENT,
    "/api/views/{id}/": AGENT,
    "/api/notifications/": AGENT,
    "/api/notifications/{id}/": AGENT,
    "/api/notifications/{id}/read/": AGENT,
    "/api/notifications/read-all/": AGENT,
    "/api/macros/{id}/apply/": AGENT,
    "/api/macros/{id}/preview/": AGENT,
    # Canned responses are scoped like macros: shared ones the managers', personal ones their owner's.
    "/api/canned-responses/": AGENT,
    "/api/canned-responses/{id}/": AGENT,
    "/api/canned-responses/{id}/render/": AGENT,
    "/api/agents/": AGENT,
    # The path's user is the manager: an agent may change only their own status.
    "/api/agents/{user_id}/": {"get": AGENT, "patch": MANAGER},
    "/api/teams/{id}/queue/": AGENT,
    "/api/contacts/{id}/erase/": MANAGER,
    "/api/contacts/{id}/export/": MANAGER,
    "/api/health/live/": PUBLIC,
    "/api/health/ready/": PUBLIC,
    "/api/metrics/": MANAGER,
}

# Who may open the admin pages of each app; a model of an app missing here fails the test.
ADMIN_APP_AUDIENCE = {
    **{app: MANAGER for app in MANAGER_APPS},
    **{app: AGENT for app in AGENT_APPS},
    "auth": SUPERUSER,
    "authtoken": SUPERUSER,
    "django_q": SUPERUSER,
    "reports": MANAGER,
}
# Add pages whose audience differs from their app's: rows the system writes (events, recordings, surveys, targets,
# runs, scheduled events, django-q's task rows) are added by nobody; teams and agent profiles only by managers.
ADD_PAGE_AUDIENCE = {
    **{
        model: NOBODY
        for model in (
            "conversations.event",
            "conversations.recording",
            "conversations.survey",
            "sla.slatarget",
            "workflows.workflowrun",
            "workflows.scheduledevent",
            "django_q.success",
            "django_q.failure",
            "django_q.ormq",
            "conversations.userpreference",  # each person's own row, made on first visit
            "workflows.endpoint",  # one per destination, made by the first attempt
            "reports.conversationreport",  # the Reports page: nothing to add or delete
            "conversations.notification",
        )
    },  # made by a mention, never by hand
    "conversations.team": MANAGER,
    "conversations.agentprofile": MANAGER,
    "conversations.conversationfield": MANAGER,
}
# Delete pages likewise: contacts and conversations are never deleted (closed instead), nor are events.
DELETE_PAGE_AUDIENCE = {
    "conversations.contact": NOBODY,
    "conversations.conversation": NOBODY,
    "conversations.event": NOBODY,
    "conversations.agentprofile": MANAGER,
    "reports.conversationreport": NOBODY,
}
# The API access page (a manager's own API token) sits beside each person's preferences but is for managers.
PAGE_AUDIENCE_OVERRIDES = {
    "/add/": ADD_PAGE_AUDIENCE,
    "/delete/": DELETE_PAGE_AUDIENCE,
    "/api-access/": {"conversations.userpreference": MANAGER},
}
# Models whose every page has another audience than their app's: inboxes hold mail passwords (managers only).
MODEL_AUDIENCE = {"conversations.inbox": MANAGER}
# Action URLs that need a body: those allowed in get a 400 naming what is missing, not a page.
BODY_REQUIRED = {"/admin/workflows/workflow/reorder/"}
# Actions that only take a form post and send everyone back where they came from (the status switch, "save these
# filters as a view"): those allowed in are redirected, never refused.
REDIRECT_ACTIONS = {"/admin/conversations/agentprofile/my-status/", "/admin/conversations/conversation/save-view/"}


@pytest.fixture
def loopback_only(monkeypatch):
    """A manager's POST may start a workflow step that calls out: refuse every socket that is not loopback."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(f"{address[0]} is not loopback")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def people(agent, manager) -> dict[str, User]:
    """One user per signed-in role: an agent, a support manager, and a superuser in no role group."""
    superuser = User.objects.create_superuser("root", "root@example.com", "pw-root")
    return {AGENT: agent, MANAGER: manager, SUPERUSER: superuser}


def api_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI schema the app serves."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return sorted((method, path) for path, operations in document["paths"].items() for method in operations)


def audience_of(method: str, path: str) -> str:
    """Who may use the operation, from API_AUDIENCE; an operation missing there fails the test."""
    audience = API_AUDIENCE.get(path)
    if isinstance(audience, dict):
        audience = audience.get(method)
    assert audience, f"{method.upper()} {path} has no expectation in API_AUDIENCE: say who may use it"
    return audience


def api_answer(client: APIClient, method: str, path: str, ids: dict[str, object]) -> int:
    """The status of one call, path parameters filled from `ids`; writes send an empty JSON body."""
    url = re.sub(r"\{(\w+)\}", lambda match: str(ids.get(match.group(1), 1)), path)
    if method == "get":
        return client.get(url).status_code
    return getattr(client, method)(url, {}, format="json").status_code


def check_api_answer(role: str, audience: str, method: str, path: str, code: int) -> str | None:
    """What is wrong with `code` as the answer to `role`, or None."""
    if role not in WHO_MAY[audience]:
        expected = 401 if role == ANONYMOUS or audience == INBOX_TOKEN else 403
        return None if code == expected else f"{role} {method.upper()} {path}: {code}, expected {expected}"
    if code in (401, 403) or code >= 500 or (method == "get" and "{" not in path and code != 200):
        return f"{role} {method.upper()} {path}: {code}, expected an answer to a {role}"
    return None


def test_every_api_operation_answers_each_role_as_its_audience_says(people, conversation, team, loopback_only):
    clients = {ANONYMOUS: APIClient(), **{role: client_for(user) for role, user in people.items()}}
    ids = {
        "id": conversation.pk,
        "conversation_pk": conversation.pk,
        "token": "no-such-survey",
        "key": "spam-close",
        "user_id": people[MANAGER].pk,
    }
    operations = api_operations()
    problems, counts = [], Counter()
    for method, path in operations:
        audience = audience_of(method, path)
        for role in ROLES:
            code = api_answer(clients[role], method, path, ids)
            counts[(role, "allowed" if role in WHO_MAY[audience] else "refused")] += 1
            problems.append(check_api_answer(role, audience, method, path, code))
    print(f"API permission matrix over {len(operations)} operations:", dict(sorted(counts.items())))
    assert not any(problems), "\n".join(problem for problem in problems if problem)
    assert len(operations) >= 70 and ("post", "/api/workflows/{id}/run/") in operations


def admin_pages() -> list[tuple[str, str, str]]:
    """(url, app label, model) of every admin page that takes no argument: changelists, add pages, custom pages."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if pattern.name and "<" not in str(pattern.pattern):
                try:
                    url = reverse(f"admin:{pattern.name}")
                except NoReverseMatch:
                    continue
                pages.append((url, model._meta.app_label, model._meta.model_name))
    return sorted(set(pages))


def admin_object_pages() -> list[tuple[str, str, str]]:
    """(url, app label, model) of every admin page about one row (change, delete, history and the custom pages of
    get_urls), for the first row of each model that has one; `slug` arguments name a workflow template."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        row = model._default_manager.order_by("pk").first()
        for pattern in model_admin.get_urls():
            names = list(pattern.pattern.converters)
            if not pattern.name or len(names) != 1 or (row is None and names != ["slug"]):
                continue
            value = "spam-close" if names == ["slug"] else row.pk
            pages.append(
                (
                    reverse(f"admin:{pattern.name}", kwargs={names[0]: value}),
                    model._meta.app_label,
                    model._meta.model_name,
                )
            )
    return sorted(set(pages))


def expected_admin_answer(role: str, url: str, app: str, model: str, about_no_row: bool) -> set[int]:
    """The statuses `role` may get from the page: its app's audience, or the add/delete page's own."""
    audience = ADMIN_APP_AUDIENCE.get(app)
    assert audience, f"admin app {app!r} ({url}) has no expectation in ADMIN_APP_AUDIENCE"
    audience = MODEL_AUDIENCE.get(f"{app}.{model}", audience)
    for suffix, overrides in PAGE_AUDIENCE_OVERRIDES.items():
        if url.endswith(suffix):
            audience = overrides.get(f"{app}.{model}", audience)
    if role == ANONYMOUS:
        return {302}
    if role not in WHO_MAY[audience]:
        return {403}
    if url in REDIRECT_ACTIONS:
        return {302}
    if url in BODY_REQUIRED:
        return {400}
    return {200} if about_no_row else {200, 302}  # an action on a row (toggle, retry) redirects when done


def admin_answer(browser: Client, url: str) -> tuple[int, str]:
    """GET the page; a page that only takes POST (toggle, retry, use a template) is POSTed instead."""
    response = browser.get(url)
    if response.status_code == 405:
        response = browser.post(url)
    return response.status_code, response.get("Location", "")


@pytest.fixture
def admin_rows(conversation, manager) -> None:
    """A row for every object page to show: a workflow, a calendar (the conversation brings a contact and events)."""
    workflow = gallery.template_use(slug="spam-close", created_by=manager)
    # The replay page takes a replay id, and the object pages are visited with the workflow's: give one that id.
    WorkflowReplay.objects.create(
        pk=workflow.pk,
        workflow=workflow,
        definition=workflow_definition(workflow),
        since=clock.now(),
        until=clock.now(),
        heartbeat_at=clock.now(),
    )
    business_hours_save(name="Office", timezone="UTC", intervals=[{"weekday": 0, "start": "09:00", "end": "17:00"}])


def test_every_admin_page_answers_each_role_as_its_app_says(people, admin_rows):
    browsers = {ANONYMOUS: Client(), **{role: browser_for(user) for role, user in people.items()}}
    pages = [(*page, True) for page in admin_pages()] + [(*page, False) for page in admin_object_pages()]
    problems, counts = [], Counter()
    for url, app, model, about_no_row in pages:
        for role in ROLES:
            code, location = admin_answer(browsers[role], url)
            expected = expected_admin_answer(role, url, app, model, about_no_row)
            counts[(role, code)] += 1
            if code not in expected or (role == ANONYMOUS and not location.startswith("/admin/login/")):
                problems.append(f"{role} {url}: {code} {location}, expected {sorted(expected)}")
    print(f"Admin permission matrix over {len(pages)} pages:", dict(sorted(counts.items())))
    assert not problems, "\n".join(problems)
    urls = {url for url, *_ in pages}
    assert {"/admin/workflows/workflow/analytics/", "/admin/conversations/conversation/"} <= urls
    assert any(url.endswith("/holidays/") for url in urls) and any(url.endswith("/toggle/") for url in urls)
