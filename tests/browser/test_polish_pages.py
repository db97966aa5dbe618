"""Issue 14's smaller pages in a real browser at 1440x900: the editor asks before leaving with unsaved changes (and
not after saving or without changes), the versions page restores an old version, the API access page makes a
token. Screenshots land in tests/browser/artifacts/polish-*.png."""

from __future__ import annotations

import re

import pytest
from rest_framework.authtoken.models import Token

from tests.support.browser import log_in
from tests.support.forms import DEFINITION
from tests.support.people import make_user
from workflows import services
from workflows.models import Workflow


@pytest.fixture
def manager_page(live_server, chromium, roles):
    make_user("manager", "Support managers")
    page = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, "manager")
    return page


def leave_by_link(page) -> None:
    """Follow the breadcrumb to the workflow list."""
    page.click(".breadcrumbs a[href$='/workflows/workflow/']", no_wait_after=True)
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_editor_asks_before_leaving_with_unsaved_changes(live_server, manager_page, shot):
    page = manager_page
    workflow = services.workflow_create(definition=DEFINITION)
    editor = f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/"
    page.goto(editor)
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", record)
    page.click('[name="name"]')  # focus only: nothing changed, leaving asks nothing
    leave_by_link(page)
    page.wait_for_url(re.compile(r"/workflows/workflow/$"))
    assert dialogs == []

    page.goto(editor)
    page.fill('[name="name"]', "Tag refunds and more")
    with page.expect_event("dialog"):
        leave_by_link(page)
    assert dialogs == ["beforeunload"]  # dismissed: the user stays in the editor, the change still typed
    assert page.url == editor
    assert page.input_value('[name="name"]') == "Tag refunds and more"
    shot(page, "polish-editor-unsaved")

    page.click('input[name="_continue"]')  # saving leaves without asking
    page.wait_for_selector(".messagelist .success")
    assert dialogs == ["beforeunload"] and Workflow.objects.get().name == "Tag refunds and more"


@pytest.mark.django_db(transaction=True)
def test_versions_page_compares_and_restores(live_server, manager_page, shot):
    page = manager_page
    workflow = services.workflow_create(definition=DEFINITION)
    services.workflow_update(
        workflow=workflow,
        definition={
            **DEFINITION,
            "steps": [
                {"type": "add_tag", "config": {"tags": ["refund", "vip"]}},
                {"type": "set_priority", "config": {"priority": "high"}},
            ],
        },
    )
    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/")
    page.click("text=Versions")
    page.wait_for_url(re.compile(r"/versions/$"))
    shot(page, "polish-versions")
    page.click("text=Compare with current")
    assert page.locator("#version-diff .added").first.is_visible()
    shot(page, "polish-version-diff")
    page.click("#restore-version")
    page.wait_for_url(re.compile(r"/change/$"))
    assert "Version 1 restored as version 3 (order 1, stop processing the workflows after it: no)." in page.inner_text(
        ".messagelist"
    )
    assert Workflow.objects.get().version == 3


@pytest.mark.django_db(transaction=True)
def test_api_access_page_creates_a_token_from_the_user_menu(live_server, manager_page, shot):
    page = manager_page
    page.click("#api-access-link")
    page.click("#create-token")
    page.wait_for_selector("#api-token")
    assert page.input_value("#api-token") == Token.objects.get(user__username="manager").key
    shot(page, "polish-api-access")
