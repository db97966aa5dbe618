"""Smaller admin fixes of issue 14: names that read well, no "View site" link to a 404, proper plurals, and the
managers' "API access" page for their own API token."""

from rest_framework.authtoken.models import Token

from tests.support.forms import ADD_URL, VIP_FORM
from workflows.integrations.services import integration_save

API_ACCESS = "/admin/conversations/userpreference/api-access/"


def test_admin_names_read_well_and_there_is_no_view_site_link(manager_browser):
    index = manager_browser.get("/admin/").content.decode()
    assert ">Automation</a>" in index and ">SLA targets</a>" in index and "Sla targets" not in index
    assert "View site" not in index
    workflows = manager_browser.get("/admin/workflows/workflow/").content.decode()
    assert '<a href="/admin/workflows/">Automation</a>\n&rsaquo; Workflows' in workflows


def test_one_problem_is_not_problems(manager_browser):
    integration_save(name="CRM", base_url="https://crm.example.com/api/")  # the integration VIP_FORM's request names
    html = manager_browser.post(ADD_URL, {**VIP_FORM, "steps[1].config.tags": ""}).content.decode()
    assert "The workflow has 1 problem; it is shown next to its field." in html
    html = manager_browser.post(
        ADD_URL, {**VIP_FORM, "steps[1].config.tags": "", "steps[2].config.timeout_seconds": "ten"}
    ).content.decode()
    assert "The workflow has 2 problems; each is shown next to its field." in html


def test_manager_creates_a_token_that_works_on_the_api(manager_browser, manager, anon_client):
    page = manager_browser.get("/admin/").content.decode()
    assert f'<a href="{API_ACCESS}" id="api-access-link">API access</a>' in page
    assert 'id="no-token"' in manager_browser.get(API_ACCESS).content.decode()
    assert manager_browser.post(API_ACCESS).status_code == 302
    key = Token.objects.get(user=manager).key
    html = manager_browser.get(API_ACCESS).content.decode()
    assert f'value="{key}"' in html and f"Authorization: Token {key}" in html
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_client.get("/api/workflows/").status_code == 200


def test_regenerating_replaces_the_old_token(manager_browser, manager, anon_client):
    old = Token.objects.create(user=manager).key
    response = manager_browser.post(API_ACCESS, follow=True)
    assert "the old one no longer works" in response.content.decode()
    new = Token.objects.get(user=manager).key
    assert new != old
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert anon_client.get("/api/workflows/").status_code == 401
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert anon_client.get("/api/workflows/").status_code == 200


def test_agents_have_no_api_access_page(agent_browser, agent):
    assert "api-access-link" not in agent_browser.get("/admin/").content.decode()
    assert agent_browser.get(API_ACCESS).status_code == 403
    assert agent_browser.post(API_ACCESS).status_code == 403
    assert not Token.objects.filter(user=agent).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(API_ACCESS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
