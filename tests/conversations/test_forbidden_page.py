"""An agent who opens a manager page gets a 403 page that says why and links back, not Django's bare text."""

from django.test import Client


def test_agent_gets_a_helpful_403_on_workflow_pages(agent):
    client = Client()
    client.force_login(agent)
    response = client.get("/admin/workflows/workflow/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "support managers" in text and 'href="/admin/"' in text
