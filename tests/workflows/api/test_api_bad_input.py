"""Bodies that used to raise inside the validators (500s) are answered 400 naming the key."""

import pytest

from workflows.models import Integration, Workflow


def body(trigger=None, steps=None):
    return {"name": "Bad", "trigger": trigger or {"type": "conversation.created", "config": {}}, "steps": steps or []}


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (body(trigger={"type": ["x"], "config": {}}), "trigger.type"),
        (body(trigger={"type": {"a": 1}, "config": {}}), "trigger.type"),
        (body(steps=[{"type": "wait", "config": {"days": 10**12}}]), "steps[0].config.days"),
        (body(steps=[{"type": "wait", "config": {"minutes": 1e308}}]), "steps[0].config.minutes"),
        (body(steps=[{"type": "schedule_event", "config": {"name": "x", "days": 10**9}}]), "steps[0].config.days"),
    ],
)
def test_bad_workflow_bodies_are_400_with_the_key(manager_client, payload, key):
    response = manager_client.post("/api/workflows/", payload, format="json")
    assert response.status_code == 400, response.content
    assert key in str(response.json()), response.json()
    assert not Workflow.objects.exists()


@pytest.mark.parametrize("auth", [{"type": ["none"]}, {"type": {"x": 1}}, {"type": 7}])
def test_bad_auth_type_is_400(manager_client, auth):
    response = manager_client.post(
        "/api/integrations/", {"name": "CRM", "base_url": "https://crm.example.com/", "auth": auth}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "auth" in response.json()
    assert not Integration.objects.exists()


def test_secret_with_a_pasted_newline_is_trimmed_and_control_characters_refused(manager_client):
    created = manager_client.post(
        "/api/integrations/",
        {
            "name": "CRM",
            "base_url": "https://crm.example.com/",
            "auth": {"type": "bearer", "token": "tok-SECRET-1234\n"},
            "secrets": {"KEY": "  k-value-9876 \n"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    from workflows.integrations.auth import auth_headers
    from workflows.integrations.secrets import integration_secrets

    integration = Integration.objects.get()
    assert auth_headers(integration) == {"Authorization": "Bearer tok-SECRET-1234"}
    assert integration_secrets(integration) == {"KEY": "k-value-9876"}
    refused = manager_client.post(
        "/api/integrations/",
        {"name": "CRM2", "base_url": "https://crm.example.com/", "secrets": {"KEY": "a\x00b-secret"}},
        format="json",
    )
    assert refused.status_code == 400 and "secrets" in refused.json()


def test_escaped_forms_of_a_secret_are_masked(db):
    from workflows.integrations.secrets import mask, secret_values
    from workflows.integrations.services import integration_save

    integration_save(name="CRM", base_url="https://crm.example.com/", secrets={"KEY": 'pa"ss\\word-42'})
    secrets = secret_values()
    text = 'InvalidHeader: \'pa"ss\\\\word-42\' and json "pa\\"ss\\\\word-42"'
    assert "word-42" not in mask(text, secrets)


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 100000000 }}",
        "{{ 9 ** 99999999 }}",
        "{{ [1] * 10**7 }}",
        "{{ lipsum(100000) }}",
        "{% for i in range(99999) %}{{ 'xxxxxxxx' }}{% endfor %}",
    ],
)
def test_templates_cannot_exhaust_the_worker(template):
    from workflows.engine.context import RenderError, render

    with pytest.raises(RenderError):
        render(template, {})


def test_ordinary_arithmetic_still_renders():
    from workflows.engine.context import render

    assert render("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ vars.n * 2 }}", {"vars": {"n": 21}}) == "1024 ababab 42"
