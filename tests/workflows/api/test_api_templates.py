"""`workflow-templates/` lists the gallery; `workflow-templates/{key}/use/` creates a draft from one (docs/api.md)."""

from workflows.gallery import catalog as gallery
from workflows.models import Workflow


def test_lists_the_gallery_by_category(manager_client):
    response = manager_client.get("/api/workflow-templates/")
    assert response.status_code == 200
    page = response.json()
    keys = {item["key"] for item in page["results"]}
    assert keys == {t.slug for t in gallery.all_templates()} and len(keys) >= 12 and page["count"] == len(keys)
    categories = {item["category"] for item in page["results"]}
    assert {"Customer Service", "Sales", "Operations"} <= categories
    sales = manager_client.get("/api/workflow-templates/?category=sales").json()["results"]
    assert sales and all(item["category"] == "Sales" for item in sales)
    first = manager_client.get("/api/workflow-templates/?page_size=5").json()
    assert len(first["results"]) == 5 and first["count"] == len(keys) and first["next"]


def test_one_template_reads_with_its_definition(manager_client):
    key = gallery.all_templates()[0].slug
    body = manager_client.get(f"/api/workflow-templates/{key}/").json()
    assert body["key"] == key and body["definition"]["steps"] and body["steps"]


def test_use_creates_a_draft_workflow(manager_client, manager):
    template = gallery.get_template("vip-auto-route")
    response = manager_client.post("/api/workflow-templates/vip-auto-route/use/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["status"], body["version"]) == (template.name, "draft", 1)
    workflow = Workflow.objects.get(pk=body["id"])
    assert workflow.created_by == manager
    assert [s["type"] for s in body["steps"]] == [s["type"] for s in template.definition["steps"]]


def test_unknown_template_is_404(manager_client):
    assert manager_client.get("/api/workflow-templates/nope/").status_code == 404
    assert manager_client.post("/api/workflow-templates/nope/use/").status_code == 404
    assert not Workflow.objects.exists()


def test_agents_and_anonymous_are_refused(agent_client, anon_client):
    assert agent_client.get("/api/workflow-templates/").status_code == 403
    assert agent_client.post("/api/workflow-templates/vip-auto-route/use/").status_code == 403
    assert anon_client.get("/api/workflow-templates/").status_code == 401
