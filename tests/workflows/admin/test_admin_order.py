"""docs/managers.md "Order" in the admin without a browser: the editor's order and stop-processing fields, and the
reorder view behind the workflow list's drag and drop (its bad input is a 400, never a 500; agents cannot use it)."""

import pytest

from tests.support.forms import ADD_URL, VIP_FORM
from workflows import services
from workflows.models import Workflow

pytestmark = pytest.mark.usefixtures("crm_integration")  # the integration the VIP form names

REORDER = "/admin/workflows/workflow/reorder/"


def test_editor_saves_order_and_stop_processing(browser):
    response = browser.post(ADD_URL, {**VIP_FORM, "order": "7", "stop_processing": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = services.workflow_definition(Workflow.objects.get(name="VIP cancellation"))
    assert (definition["order"], definition["stop_processing"]) == (7, True)


def test_editor_shows_a_bad_order_on_its_field(browser):
    response = browser.post(ADD_URL, {**VIP_FORM, "order": "first"})
    assert response.status_code == 200 and not Workflow.objects.exists()
    assert "A whole number" in response.content.decode()


def test_reorder_view_saves_the_dragged_order(browser, make_workflow):
    first, second, third = (make_workflow("message.created", [], name=name) for name in ("A", "B", "C"))
    response = browser.post(REORDER, {"workflow": [third.pk, first.pk, second.pk]})
    assert response.status_code == 200
    ordered = list(Workflow.objects.order_by("order", "id").values_list("name", flat=True))
    assert ordered == ["C", "A", "B"]
    assert response.json()["order"] == {str(w.pk): w.order for w in Workflow.objects.all()}


@pytest.mark.parametrize("ids", [[], ["x"], ["1", "1"], ["999"]])
def test_reorder_view_refuses_bad_ids_with_a_400(browser, make_workflow, ids):
    make_workflow("message.created", [], name="A")
    response = browser.post(REORDER, {"workflow": ids})
    assert response.status_code == 400 and "workflow" in response.json()


def test_agents_cannot_reorder(agent_browser, make_workflow):
    workflow = make_workflow("message.created", [], name="A")
    response = agent_browser.post(REORDER, {"workflow": [workflow.pk]})
    assert response.status_code in (302, 403)
    assert Workflow.objects.get().version == 1
