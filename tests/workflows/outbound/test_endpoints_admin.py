"""Admin › Endpoints (docs/managers.md) through the admin client: the list with state and figures, the banner on every
admin page while an endpoint is disabled, and the re-enable page with its optional redelivery time. Agents get
neither."""

import datetime as dt

import pytest

from conversations import clock
from tests.support.outbound import LATER, disable
from workflows.engine.sweep import resume_due_runs
from workflows.models import Endpoint, WorkflowRun

pytestmark = pytest.mark.usefixtures("allow_loopback")

LIST = "/admin/workflows/endpoint/"


def test_the_endpoints_page_shows_state_and_figures(thresholds, contact, make_workflow, down_receiver, manager_browser):
    disable(contact, make_workflow, down_receiver)
    endpoint = Endpoint.objects.get()
    page = manager_browser.get(LIST).content.decode()
    assert endpoint.url in page and "query-secret" not in page
    assert 'class="endpoint-state"' in page and ">disabled<" in page
    assert f'href="{LIST}{endpoint.pk}/enable/">Re-enable…' in page


def test_the_banner_shows_on_every_admin_page_while_an_endpoint_is_disabled(
    thresholds, contact, make_workflow, down_receiver, manager_browser, agent_browser
):
    disable(contact, make_workflow, down_receiver)
    for url in ("/admin/", "/admin/workflows/workflow/", "/admin/conversations/conversation/"):
        page = manager_browser.get(url).content.decode()
        assert 'id="delivery-alerts"' in page and "is disabled since" in page, url
    assert 'id="delivery-alerts"' not in agent_browser.get("/admin/").content.decode()
    manager_browser.post(f"{LIST}{Endpoint.objects.get().pk}/enable/", {})
    assert 'id="delivery-alerts"' not in manager_browser.get("/admin/").content.decode()


def test_the_re_enable_button_redelivers_what_failed_since(
    thresholds, contact, make_workflow, down_receiver, manager_browser
):
    since = (clock.now() - dt.timedelta(minutes=5)).astimezone(dt.UTC)
    workflow = disable(contact, make_workflow, down_receiver)
    down_receiver.clear_all_handlers()
    down_receiver.expect_request("/hook").respond_with_data("ok")
    endpoint = Endpoint.objects.get()
    form = manager_browser.get(f"{LIST}{endpoint.pk}/enable/").content.decode()
    assert 'name="redeliver_failed_since"' in form and "disabled" in form
    bad = manager_browser.post(f"{LIST}{endpoint.pk}/enable/", {"redeliver_failed_since": "soon"})
    assert bad.status_code == 200 and "Enter a valid date/time." in bad.content.decode()
    done = manager_browser.post(
        f"{LIST}{endpoint.pk}/enable/", {"redeliver_failed_since": since.strftime("%Y-%m-%dT%H:%M")}, follow=True
    )
    assert "is enabled; 4 failed run(s) queued for redelivery" in done.content.decode()
    with clock.travel(LATER):
        resume_due_runs(clock.now())
    assert set(WorkflowRun.objects.filter(workflow=workflow).values_list("status", flat=True)) == {"succeeded"}


def test_agents_cannot_open_or_use_the_endpoints_page(thresholds, contact, make_workflow, down_receiver, agent_browser):
    disable(contact, make_workflow, down_receiver)
    endpoint = Endpoint.objects.get()
    assert agent_browser.get(LIST).status_code == 403
    assert agent_browser.post(f"{LIST}{endpoint.pk}/enable/", {}).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.state == "disabled"
