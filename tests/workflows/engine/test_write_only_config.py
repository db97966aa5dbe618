"""Write-only step config keys (a webhook `secret`): masked in every read (API, export, admin editor, dry run, run
log), shown once by the save that generated or changed them, kept when the mask is posted back or the key left out,
copied server-side by duplicate, generated anew by an import of a masked export."""

import json
from typing import ClassVar

import pytest
from django.urls import reverse

from tests.support.outbound import SECRET, receiver_verifies
from tests.support.runs import drain, only_run
from workflows import services
from workflows.engine.definition import keep_write_only, mask_write_only, new_write_only_keys, prepare_steps
from workflows.gallery import catalog as gallery
from workflows.models import StepRun, Workflow
from workflows.steps import step_types
from workflows.steps.registry import WRITE_ONLY_MASK, StepOutcome, StepType

URL = "/api/workflows/"
OTHER_SECRET = SECRET.replace("a", "b")  # still `whsec_` + base64 of 32 bytes, another key


def hook(url: str = "https://example.com/h", **config) -> dict:
    return {"type": "webhook", "config": {"url": url, **config}}


def body(*steps: dict, **overrides) -> dict:
    return {
        "name": "Notify CRM",
        "status": "draft",
        "trigger": {"type": "conversation.created", "config": {}},
        "steps": list(steps),
        **overrides,
    }


def stored_secrets(workflow_id: int) -> list[str | None]:
    definition = services.workflow_definition(Workflow.objects.get(pk=workflow_id), reveal="all")
    return [step["config"].get("secret") for step in definition["steps"]]


def secrets_of(data: dict) -> list[str | None]:
    return [step["config"].get("secret") for step in data["steps"]]


# The pure functions ---------------------------------------------------------------------------------------


def test_the_registry_declares_the_webhook_secret_write_only():
    assert step_types.get("webhook").write_only == ("secret",)
    assert step_types.get("http_request").write_only == ()


def test_masking_hides_write_only_values_and_leaves_everything_else():
    definition = body(
        hook(secret=SECRET, preset="generic"), {"type": "add_tag", "config": {"tags": ["x"]}}, hook(secret="")
    )
    masked = mask_write_only(definition)
    assert masked["steps"][0]["config"] == {
        "url": "https://example.com/h",
        "secret": WRITE_ONLY_MASK,
        "preset": "generic",
    }
    assert masked["steps"][1:] == definition["steps"][1:]  # nothing to hide: an empty secret stays empty
    assert definition["steps"][0]["config"]["secret"] == SECRET  # the input is not changed


def test_the_mask_or_a_left_out_key_keeps_the_secret_of_the_same_step():
    previous = [hook(secret=SECRET), hook("https://example.com/other", secret=OTHER_SECRET)]
    kept = keep_write_only([hook(secret=WRITE_ONLY_MASK), hook("https://example.com/other")], previous)
    assert [step["config"]["secret"] for step in kept] == [SECRET, OTHER_SECRET]


def test_an_edited_step_in_the_same_place_keeps_its_secret():
    kept = keep_write_only([hook("https://example.com/new", secret=WRITE_ONLY_MASK)], [hook(secret=SECRET)])
    assert kept[0]["config"] == {"url": "https://example.com/new", "secret": SECRET}


def test_reordered_steps_keep_their_own_secrets_matched_by_their_other_config():
    previous = [
        hook("https://a.example.com", secret=SECRET),
        {"type": "add_tag", "config": {"tags": ["x"]}},
        hook("https://b.example.com", secret=OTHER_SECRET),
    ]
    steps = [hook("https://b.example.com", secret=WRITE_ONLY_MASK), hook("https://a.example.com")]
    assert [step["config"]["secret"] for step in keep_write_only(steps, previous)] == [OTHER_SECRET, SECRET]


def test_each_previous_step_lends_its_secret_once():
    previous = [hook(secret=SECRET), hook(secret=OTHER_SECRET)]
    steps = [hook(secret=WRITE_ONLY_MASK), hook(secret=WRITE_ONLY_MASK), hook(secret=WRITE_ONLY_MASK)]
    kept = keep_write_only(steps, previous)
    assert [step["config"].get("secret") for step in kept] == [SECRET, OTHER_SECRET, None]


def test_a_moved_and_edited_step_or_another_type_has_nothing_to_keep():
    previous = [{"type": "add_tag", "config": {"tags": ["x"]}}, hook(secret=SECRET)]
    kept = keep_write_only([hook("https://example.com/moved", secret=WRITE_ONLY_MASK)], previous)
    assert "secret" not in kept[0]["config"]
    assert "secret" not in keep_write_only([hook(secret=WRITE_ONLY_MASK)], [])[0]["config"]


def test_a_posted_value_or_an_empty_one_is_not_replaced_by_the_saved_one():
    previous = [hook(secret=SECRET)]
    assert keep_write_only([hook(secret=OTHER_SECRET)], previous)[0]["config"]["secret"] == OTHER_SECRET
    assert keep_write_only([hook(secret="")], previous)[0]["config"]["secret"] == ""


def test_prepare_generates_what_has_nothing_to_keep_and_keeps_the_rest():
    previous = [hook(secret=SECRET)]
    prepared = prepare_steps(body(hook(secret=WRITE_ONLY_MASK), hook("https://x.example.com", secret="")), previous)
    first, second = (step["config"]["secret"] for step in prepared["steps"])
    assert first == SECRET
    assert second.startswith("whsec_") and second not in (SECRET, WRITE_ONLY_MASK)
    fresh = prepare_steps(body(hook(secret=WRITE_ONLY_MASK)))["steps"][0]["config"]["secret"]
    assert fresh.startswith("whsec_") and fresh != SECRET


def test_new_write_only_keys_are_the_values_the_previous_version_did_not_hold():
    before = body(hook(secret=SECRET))
    assert new_write_only_keys(before, None) == [(0, "secret")]
    assert new_write_only_keys(before, before) == []
    assert new_write_only_keys(body(hook(secret=SECRET), hook(secret=OTHER_SECRET)), before) == [(1, "secret")]


class TokenStep(StepType):
    """A fake step type with a write-only key: nothing about write-only handling is webhook-specific."""

    type = "test_token_call"
    label = "Token call"
    schema: ClassVar[dict] = {"type": "object", "properties": {"token": {"type": "string"}, "note": {"type": "string"}}}
    write_only = ("token",)
    has_side_effects = False

    def execute(self, config, ctx):
        return StepOutcome()


def test_any_step_type_can_declare_write_only_keys(manager_client):
    with step_types.register_temporarily(TokenStep):
        created = manager_client.post(
            URL, body({"type": "test_token_call", "config": {"token": "t0ps3cret"}}), format="json"
        ).json()
        assert created["steps"][0]["config"]["token"] == "t0ps3cret"  # shown once
        url = f"{URL}{created['id']}/"
        read = manager_client.get(url).json()
        assert read["steps"][0]["config"]["token"] == WRITE_ONLY_MASK
        read["steps"][0]["config"]["note"] = "edited"
        updated = manager_client.put(url, read, format="json").json()
        assert updated["steps"][0]["config"] == {"token": WRITE_ONLY_MASK, "note": "edited"}
        stored = services.workflow_definition(Workflow.objects.get(pk=created["id"]), reveal="all")
        assert stored["steps"][0]["config"]["token"] == "t0ps3cret"


# API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def created(manager_client) -> dict:
    response = manager_client.post(URL, body(hook()), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_shows_the_generated_secret_once_and_reads_mask_it(manager_client, created):
    secret = secrets_of(created)[0]
    assert secret.startswith("whsec_") and stored_secrets(created["id"]) == [secret]
    listing = manager_client.get(URL).json()
    items = listing["results"] if isinstance(listing, dict) else listing
    assert secrets_of(manager_client.get(f"{URL}{created['id']}/").json()) == secrets_of(items[0]) == [WRITE_ONLY_MASK]
    assert secret not in manager_client.get(URL).content.decode()


def test_create_with_a_secret_echoes_it_once(manager_client):
    data = manager_client.post(URL, body(hook(secret=SECRET)), format="json").json()
    assert secrets_of(data) == [SECRET]
    assert SECRET not in manager_client.get(f"{URL}{data['id']}/").content.decode()


def test_putting_the_read_body_back_keeps_the_secret_and_shows_it_masked(manager_client, created):
    secret = secrets_of(created)[0]
    url = f"{URL}{created['id']}/"
    read = manager_client.get(url).json()
    read["steps"][0]["config"]["url"] = "https://example.com/moved"
    response = manager_client.put(url, read, format="json")
    assert response.status_code == 200, response.json()
    assert secrets_of(response.json()) == [WRITE_ONLY_MASK] and response.json()["version"] == 2
    assert stored_secrets(created["id"]) == [secret]


def test_patch_without_steps_and_a_step_without_the_key_keep_the_secret(manager_client, created):
    secret = secrets_of(created)[0]
    url = f"{URL}{created['id']}/"
    assert manager_client.patch(url, {"name": "Renamed"}, format="json").status_code == 200
    assert manager_client.patch(url, {"steps": [hook()]}, format="json").status_code == 200
    assert stored_secrets(created["id"]) == [secret]


def test_an_empty_secret_on_update_generates_a_new_one_shown_once(manager_client, created):
    old = secrets_of(created)[0]
    url = f"{URL}{created['id']}/"
    response = manager_client.patch(url, {"steps": [hook(secret="")]}, format="json")
    new = secrets_of(response.json())[0]
    assert new.startswith("whsec_") and new != old and stored_secrets(created["id"]) == [new]
    assert secrets_of(manager_client.get(url).json()) == [WRITE_ONLY_MASK]


def test_a_changed_secret_is_echoed_and_an_unchanged_one_stays_masked(manager_client, created):
    url = f"{URL}{created['id']}/"
    steps = [hook(secret=WRITE_ONLY_MASK), hook("https://example.com/second", secret=SECRET)]
    response = manager_client.patch(url, {"steps": steps}, format="json").json()
    assert secrets_of(response) == [WRITE_ONLY_MASK, SECRET]


def test_reordering_steps_through_the_api_keeps_each_secret(manager_client):
    first = manager_client.post(
        URL, body(hook("https://a.example.com"), hook("https://b.example.com")), format="json"
    ).json()
    a, b = secrets_of(first)
    url = f"{URL}{first['id']}/"
    read = manager_client.get(url).json()
    read["steps"].reverse()
    assert manager_client.put(url, read, format="json").status_code == 200
    assert stored_secrets(first["id"]) == [b, a]


def test_a_bad_secret_is_still_a_400_naming_the_key(manager_client, created):
    response = manager_client.patch(f"{URL}{created['id']}/", {"steps": [hook(secret="plain")]}, format="json")
    assert response.status_code == 400 and "steps[0].config.secret" in response.json()


def test_export_masks_and_importing_it_generates_a_new_secret_shown_once(manager_client, created):
    secret = secrets_of(created)[0]
    exported = manager_client.get(f"{URL}{created['id']}/export/")
    assert secret not in exported.content.decode()
    assert secrets_of(json.loads(exported.content)) == [WRITE_ONLY_MASK]
    imported = manager_client.post(f"{URL}import/", {"workflow": json.loads(exported.content)}, format="json")
    assert imported.status_code == 201, imported.json()
    new = secrets_of(imported.json())[0]
    assert new.startswith("whsec_") and new != secret and stored_secrets(imported.json()["id"]) == [new]
    assert secrets_of(manager_client.get(f"{URL}{imported.json()['id']}/").json()) == [WRITE_ONLY_MASK]


def test_duplicate_copies_the_secret_server_side_and_shows_it_masked(manager_client, created):
    response = manager_client.post(f"{URL}{created['id']}/duplicate/")
    assert response.status_code == 201
    assert secrets_of(response.json()) == [WRITE_ONLY_MASK]
    assert stored_secrets(response.json()["id"]) == stored_secrets(created["id"])


def test_lifecycle_actions_answer_masked_and_keep_the_secret(manager_client, created):
    secret = secrets_of(created)[0]
    response = manager_client.post(f"{URL}{created['id']}/activate/")
    assert secrets_of(response.json()) == [WRITE_ONLY_MASK] and stored_secrets(created["id"]) == [secret]


def test_a_gallery_template_shows_its_generated_secret_once(manager_client):
    response = manager_client.post("/api/workflow-templates/pricing-lead-to-sales/use/")
    assert response.status_code == 201
    data = response.json()
    shown = [s for s in secrets_of(data) if s]
    assert len(shown) == 1 and shown[0].startswith("whsec_") and shown == [s for s in stored_secrets(data["id"]) if s]
    assert shown[0] not in manager_client.get(f"{URL}{data['id']}/").content.decode()


def test_the_api_dry_run_never_shows_the_secret(manager_client, created, conversation):
    secret = secrets_of(created)[0]
    response = manager_client.post(f"{URL}{created['id']}/test/", {"conversation": conversation.pk}, format="json")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["steps"][0]["status"] == "would_run" and report["steps"][0]["input"]["secret"] == WRITE_ONLY_MASK
    assert secret not in response.content.decode() and secret[6:] not in response.content.decode()


def test_a_kept_secret_signs_deliveries_and_never_reaches_the_run_log(
    manager_client, conversation, httpserver, settings
):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    created = manager_client.post(URL, body(hook(secret=SECRET), status="active"), format="json").json()
    url = f"{URL}{created['id']}/"
    read = manager_client.get(url).json()  # what a client edits: the secret masked
    read["steps"][0]["config"]["url"] = httpserver.url_for("/hook")
    assert manager_client.put(url, read, format="json").status_code == 200
    httpserver.expect_request("/hook", method="POST").respond_with_data(f"echo {SECRET}", status=200)
    drain()
    run = only_run(Workflow.objects.get(pk=created["id"]))
    request, _ = httpserver.log[0]
    assert run.status == "succeeded" and receiver_verifies(request, SECRET)
    step = StepRun.objects.get(run=run)
    assert step.input["secret"] == WRITE_ONLY_MASK
    logged = manager_client.get(f"/api/workflow-runs/{run.pk}/").content.decode()
    assert SECRET not in logged and SECRET[6:] not in logged


# Admin ----------------------------------------------------------------------------------------------------


def editor_post(name: str = "Notify CRM", secret: str | None = None, url: str = "https://example.com/h") -> dict:
    data = {
        "name": name,
        "description": "",
        "status": "draft",
        "trigger.type": "conversation.created",
        "steps[0].type": "webhook",
        "steps[0].config.url": url,
        "steps[0].config.preset": "generic",
    }
    if secret is not None:
        data["steps[0].config.secret"] = secret
    return data


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_admin_add_shows_the_generated_secret_once_then_masks_it(browser):
    response = browser.post(reverse("admin:workflows_workflow_add"), editor_post(secret=""), follow=True)
    assert response.status_code == 200
    workflow = Workflow.objects.get()
    secret = stored_secrets(workflow.pk)[0]
    assert secret.startswith("whsec_")
    assert any(secret in message and "shown only once" in message for message in page_messages(response))
    change = browser.get(reverse("admin:workflows_workflow_change", args=[workflow.pk])).content.decode()
    assert secret not in change and secret[6:] not in change
    assert f'name="steps[0].config.secret" data-leaf=".secret" value="{WRITE_ONLY_MASK}"' in change
    assert "to keep the current secret" in change


def test_admin_new_webhook_field_says_a_secret_is_generated(browser):
    html = browser.get(reverse("admin:workflows_workflow_add")).content.decode()
    assert "Leave empty to generate one when you save" in html


def test_admin_save_without_touching_the_secret_keeps_it(browser):
    workflow = services.workflow_create(definition=body(hook(secret=SECRET)))
    url = reverse("admin:workflows_workflow_change", args=[workflow.pk])
    response = browser.post(url, editor_post(name="Renamed", secret=WRITE_ONLY_MASK), follow=True)
    assert response.status_code == 200
    assert Workflow.objects.get(pk=workflow.pk).name == "Renamed" and stored_secrets(workflow.pk) == [SECRET]
    assert not any(SECRET in message for message in page_messages(response))


def test_admin_raw_json_with_the_mask_keeps_the_secret(browser):
    workflow = services.workflow_create(definition=body(hook(secret=SECRET)))
    url = reverse("admin:workflows_workflow_change", args=[workflow.pk])
    raw = json.dumps(services.workflow_definition(workflow))
    assert SECRET not in browser.get(url).content.decode()
    response = browser.post(url, {"raw_mode": "on", "definition": raw})
    assert response.status_code == 302 and stored_secrets(workflow.pk) == [SECRET]


def test_admin_clearing_the_secret_generates_a_new_one_shown_once(browser):
    workflow = services.workflow_create(definition=body(hook(secret=SECRET)))
    url = reverse("admin:workflows_workflow_change", args=[workflow.pk])
    response = browser.post(url, editor_post(secret=""), follow=True)
    new = stored_secrets(workflow.pk)[0]
    assert new.startswith("whsec_") and new != SECRET
    assert any(new in message for message in page_messages(response))


def test_admin_exports_and_duplicate_mask_the_secret(browser):
    workflow = services.workflow_create(definition=body(hook(secret=SECRET)))
    single = browser.get(reverse("admin:workflows_workflow_export", args=[workflow.pk])).content.decode()
    changelist = reverse("admin:workflows_workflow_changelist")
    bulk = browser.post(changelist, {"action": "export_json", "_selected_action": [workflow.pk]}).content.decode()
    assert SECRET not in single and SECRET not in bulk and WRITE_ONLY_MASK in single
    response = browser.post(changelist, {"action": "duplicate", "_selected_action": [workflow.pk]}, follow=True)
    copy = Workflow.objects.exclude(pk=workflow.pk).get()
    assert stored_secrets(copy.pk) == [SECRET] and SECRET not in response.content.decode()


def test_admin_import_of_an_export_announces_the_new_secret(browser):
    workflow = services.workflow_create(definition=body(hook(secret=SECRET)))
    exported = browser.get(reverse("admin:workflows_workflow_export", args=[workflow.pk])).content.decode()
    response = browser.post(reverse("admin:workflows_workflow_import"), {"text": exported}, follow=True)
    imported = Workflow.objects.exclude(pk=workflow.pk).get()
    new = stored_secrets(imported.pk)[0]
    assert new.startswith("whsec_") and new != SECRET
    assert any(new in message for message in page_messages(response))


def test_admin_gallery_shows_the_generated_secret_once(browser):
    response = browser.post(
        reverse("admin:workflows_workflow_use_template", args=["pricing-lead-to-sales"]), follow=True
    )
    workflow = Workflow.objects.get()
    secret = next(s for s in stored_secrets(workflow.pk) if s)
    assert any(secret in message for message in page_messages(response))
    assert secret not in browser.get(reverse("admin:workflows_workflow_change", args=[workflow.pk])).content.decode()


def test_admin_dry_run_page_never_shows_the_secret(browser, manager, conversation):
    workflow = gallery.template_use(slug="pricing-lead-to-sales", created_by=manager)
    secret = next(s for s in stored_secrets(workflow.pk) if s)
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": workflow.pk, "conversation": conversation.pk}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "hooks.zapier.com" in page and secret not in page and secret[6:] not in page
