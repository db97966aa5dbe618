"""The manager's admin pages: templates gallery, dry-run test page, run history with retry, analytics (the same
numbers as the API). Agents get a 403 on every one of them."""

import datetime as dt
import json

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversations import services as conversation_services
from tests.support.runs import drain
from workflows import selectors as analytics
from workflows import services
from workflows.admin import charts
from workflows.admin import runs as admin_runs
from workflows.gallery import catalog as gallery
from workflows.models import StepRun, Workflow, WorkflowRun
from workflows.steps import StepOutcome, StepType, step_types

PAGES = [
    "admin:workflows_workflow_templates",
    "admin:workflows_workflow_test",
    "admin:workflows_workflow_analytics",
    "admin:workflows_workflowrun_changelist",
]


# Permissions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_manager_opens_every_page(browser, name):
    assert browser.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_agent_gets_403_on_every_page(agent_browser, name):
    assert agent_browser.get(reverse(name)).status_code == 403


def test_agent_cannot_use_a_template(agent_browser):
    response = agent_browser.post(reverse("admin:workflows_workflow_use_template", args=["spam-close"]))
    assert response.status_code == 403
    assert not Workflow.objects.exists()


def test_anonymous_visitor_is_sent_to_login(db):
    response = Client().get(reverse("admin:workflows_workflow_analytics"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# Gallery ----------------------------------------------------------------------------------------------------


def test_gallery_shows_every_template_with_category_trigger_and_steps(browser):
    page = browser.get(reverse("admin:workflows_workflow_templates")).content.decode()
    for template in gallery.all_templates():
        assert f'data-template="{template.slug}"' in page
        assert template.name.replace("&", "&amp;") in page
    for category in gallery.CATEGORIES:
        assert f'<h2 id="category-{category.lower().replace(" ", "-")}">{category}</h2>' in page
    assert "⚡ Recording uploaded" in page
    assert "Route: team VIP Support, strategy Least busy" in page and "least_busy" not in page


def test_use_template_creates_a_draft_and_opens_it(browser, manager):
    response = browser.post(reverse("admin:workflows_workflow_use_template", args=["vip-auto-route"]))
    workflow = Workflow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:workflows_workflow_change", args=[workflow.pk])
    assert (workflow.name, workflow.status, workflow.created_by) == ("VIP auto-route", "draft", manager)
    assert workflow.steps.count() == 4


def test_use_template_needs_post(browser):
    assert browser.get(reverse("admin:workflows_workflow_use_template", args=["spam-close"])).status_code == 405
    assert not Workflow.objects.exists()


def test_unknown_template_goes_back_to_the_gallery_with_an_error(browser):
    response = browser.post(reverse("admin:workflows_workflow_use_template", args=["nope"]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:workflows_workflow_templates")
    assert "No workflow template &quot;nope&quot;" in response.content.decode()
    assert not Workflow.objects.exists()


# Dry-run test page -----------------------------------------------------------------------------------------


@pytest.fixture
def vip_workflow(manager):
    return gallery.template_use(slug="vip-auto-route", created_by=manager)


def test_conversation_search_finds_by_subject_and_contact(browser, conversation):
    other_contact = conversation_services.contact_create(name="Grace Hopper", email="grace@example.com")
    other = conversation_services.conversation_open(contact=other_contact, channel="email", subject="Compiler bug")
    url = reverse("admin:workflows_workflow_test")
    by_subject = browser.get(url, {"q": "printer"}).context["conversations"]
    by_contact = browser.get(url, {"q": "grace"}).context["conversations"]
    assert [c.pk for c in by_subject] == [conversation.pk]
    assert [c.pk for c in by_contact] == [other.pk]


def test_dry_run_on_a_conversation_shows_each_step_and_changes_nothing(browser, vip_workflow, conversation):
    conversation_services.team_create(name="VIP Support")
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk, "conversation": conversation.pk}
    )
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["status"] for row in rows] == ["would_run"] * 4
    assert rows[0]["branch"] == "true → next step"
    assert rows[3]["label"] == "Route: team VIP Support, strategy Least busy"
    page = response.content.decode()
    assert "would start the workflow" in page and "contact.attributes.vip" in page
    conversation.refresh_from_db()
    assert conversation.priority == "normal" and not conversation.tags.exists()
    assert not WorkflowRun.objects.exists()


def test_dry_run_shows_the_step_that_would_fail_and_why(browser, vip_workflow, conversation):
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk, "conversation": conversation.pk}
    )
    route = response.context["rows"][3]
    assert (route["status"], route["error"]) == ("failed", 'No team "VIP Support".')
    assert response.context["report"]["result"]["status"] == "failed"


def test_dry_run_with_a_sample_event_shows_the_branch_and_rendered_request(browser, manager):
    workflow = gallery.template_use(slug="after-hours-auto-reply", created_by=manager)
    event = {"payload": {"body": "Hello?", "sender_type": "customer"}}
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": workflow.pk, "event": json.dumps(event)}
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert report["trigger"]["matches"] is True
    first = response.context["rows"][0]
    assert first["type"] == "condition" and first["branch"] in ("true → next step", "false → stop")


def test_dry_run_of_a_non_matching_condition_stops(browser, vip_workflow, contact):
    contact_plain = conversation_services.contact_create(name="Plain", email="plain@example.com")
    conversation = conversation_services.conversation_open(contact=contact_plain, channel="web", subject="Hi")
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk, "conversation": conversation.pk}
    )
    rows = response.context["rows"]
    assert [row["status"] for row in rows] == ["stopped", "not_reached", "not_reached", "not_reached"]
    assert rows[0]["branch"] == "false → stop"
    assert response.context["report"]["result"]["status"] == "stopped"


def test_bad_sample_json_is_a_form_error(browser, vip_workflow):
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk, "event": '{"payload": {"body": "hi",}}'}
    )
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "Not valid JSON" in response.context["form"].errors["event"][0]


@pytest.mark.parametrize(
    "event, message",
    [
        ('{"body": "hi"}', "Unknown key 'body'"),
        ('["payload"]', "A sample event is a JSON object"),
        ('{"payload": "hi"}', '"payload" is an object'),
        ('{"payload": {"message_id": "abc"}}', "payload.message_id is the id (a number) of a message."),
    ],
)
def test_sample_event_of_the_wrong_shape_is_a_form_error(browser, vip_workflow, event, message):
    response = browser.post(reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk, "event": event})
    assert response.status_code == 200
    assert message in response.context["form"].errors["event"][0]


@pytest.mark.parametrize("conversation", ["abc", "99999999999999999999999", "-1"])
def test_unknown_conversation_is_a_form_error(browser, vip_workflow, conversation):
    response = browser.post(
        reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk, "conversation": conversation}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["conversation"]


def test_search_with_a_huge_number_finds_nothing(browser, conversation):
    response = browser.get(reverse("admin:workflows_workflow_test"), {"q": "9" * 30})
    assert response.status_code == 200
    assert list(response.context["conversations"]) == []


def test_dry_run_needs_a_conversation_or_an_event(browser, vip_workflow):
    response = browser.post(reverse("admin:workflows_workflow_test"), {"workflow": vip_workflow.pk})
    assert response.context["report"] is None
    assert "Pick a conversation or write a sample message" in response.content.decode()


# Runs -------------------------------------------------------------------------------------------------------


class FlakyStep(StepType):
    """Fails until `healthy` is set: a failed run that a retry completes."""

    type = "flaky_for_test"
    label = "Flaky"
    healthy = False

    def execute(self, config, ctx):
        if FlakyStep.healthy:
            return StepOutcome(output={"ok": True})
        return StepOutcome.failed("the remote system is down")


@pytest.fixture
def flaky():
    FlakyStep.healthy = False
    with step_types.register_temporarily(FlakyStep):
        yield FlakyStep


@pytest.fixture
def run_admin():
    """The run pages are workflows.admin.runs' (it registers WorkflowRun unless another module did first)."""
    registered = admin.site._registry[WorkflowRun]
    assert isinstance(registered, admin_runs.WorkflowRunAdmin), (
        f"WorkflowRun is registered by {type(registered).__module__}: remove that registration so "
        "workflows.admin.runs provides the run pages"
    )


@pytest.fixture
def failed_run(run_admin, flaky, make_workflow, conversation):
    make_workflow(
        "message.created",
        [{"type": "add_tag", "config": {"tags": ["seen"]}}, {"type": "flaky_for_test", "config": {}}],
        name="Flaky workflow",
    )
    conversation_services.message_create(conversation=conversation, body="hello", sender_type="customer")
    drain()
    return WorkflowRun.objects.get()


def test_run_list_filters_by_status_and_workflow(browser, failed_run, make_workflow):
    url = reverse("admin:workflows_workflowrun_changelist")
    failed = browser.get(url, {"status__exact": "failed"}).context["cl"].result_list
    succeeded = browser.get(url, {"status__exact": "succeeded"}).context["cl"].result_list
    by_workflow = browser.get(url, {"workflow__id__exact": failed_run.workflow_id}).context["cl"].result_list
    assert [run.pk for run in failed] == [failed_run.pk] == [run.pk for run in by_workflow]
    assert list(succeeded) == []


def test_run_list_is_read_only(browser, failed_run):
    assert browser.get(reverse("admin:workflows_workflowrun_add")).status_code == 403
    assert browser.post(reverse("admin:workflows_workflowrun_delete", args=[failed_run.pk])).status_code == 403


def test_run_page_shows_the_step_timeline(browser, failed_run):
    StepRun.objects.filter(run=failed_run, position=0).update(
        input={"headers": [{"key": "Authorization", "value": "Bearer ****"}]}
    )
    response = browser.get(reverse("admin:workflows_workflowrun_change", args=[failed_run.pk]))
    rows = response.context["rows"]
    assert [(row["type"], row["status"], row["attempts"]) for row in rows] == [
        ("add_tag", "succeeded", 1),
        ("flaky_for_test", "failed", 1),
    ]
    page = response.content.decode()
    assert "the remote system is down" in page
    assert "Bearer ****" in page
    assert "Retry on the version it ran (v1)" in page
    assert "Retry on the current version" not in page  # the workflow has not changed since


def test_retry_from_failed_step_completes_the_run_without_redoing_done_steps(
    browser, failed_run, django_capture_on_commit_callbacks
):
    FlakyStep.healthy = True
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("admin:workflows_workflowrun_retry", args=[failed_run.pk]))
    assert response.status_code == 302
    failed_run.refresh_from_db()
    assert failed_run.status == "succeeded"
    # The done step was not run again; the retried step starts a fresh count of attempts (and backoff).
    assert list(failed_run.steps.values_list("status", "attempts")) == [("succeeded", 1), ("succeeded", 1)]


def test_retry_on_the_current_version_runs_the_step_that_replaced_the_failed_one(
    browser, failed_run, django_capture_on_commit_callbacks
):
    definition = services.workflow_definition(failed_run.workflow)
    definition["steps"][1] = {"type": "add_tag", "config": {"tags": ["fixed"]}}
    services.workflow_update(workflow=failed_run.workflow, definition=definition)
    page = browser.get(reverse("admin:workflows_workflowrun_change", args=[failed_run.pk])).content.decode()
    assert "Retry on the version it ran (v1)" in page and "Retry on the current version (v2)" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("admin:workflows_workflowrun_retry", args=[failed_run.pk]), {"version": "current"}, follow=True
        )
    page = response.content.decode()
    assert "queued again from its failed step on version 2 (the current version)" in page
    assert "retried on the current version; it started on v1" in page
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.version, failed_run.retried_on) == ("succeeded", 2, "current")
    assert list(failed_run.steps.values_list("type", "status")) == [("add_tag", "succeeded"), ("add_tag", "succeeded")]


def test_retry_on_the_version_it_ran_says_so(browser, failed_run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("admin:workflows_workflowrun_retry", args=[failed_run.pk]), {"version": "original"}, follow=True
        )
    assert "on version 1 (the version it ran)" in response.content.decode()
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.retried_on) == ("failed", "original")


def test_retry_of_a_run_that_did_not_fail_is_a_message_not_an_error(browser, failed_run):
    WorkflowRun.objects.filter(pk=failed_run.pk).update(status="succeeded")
    response = browser.post(reverse("admin:workflows_workflowrun_retry", args=[failed_run.pk]), follow=True)
    assert response.status_code == 200
    assert "Only failed runs can be retried." in response.content.decode()


def test_agent_cannot_retry(agent_browser, failed_run):
    assert agent_browser.post(reverse("admin:workflows_workflowrun_retry", args=[failed_run.pk])).status_code == 403
    failed_run.refresh_from_db()
    assert failed_run.status == "failed"


# Analytics ---------------------------------------------------------------------------------------------------


def test_analytics_page_shows_the_same_numbers_as_the_api(
    browser, manager_client, failed_run, make_workflow, conversation
):
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["ok"]}}], name="Tagger")
    conversation_services.message_create(conversation=conversation, body="again", sender_type="customer")
    drain()
    today = timezone.localdate()
    period = {"since": (today - dt.timedelta(days=6)).isoformat(), "until": today.isoformat()}
    api = manager_client.get("/api/analytics/workflows/", period).json()
    response = browser.get(reverse("admin:workflows_workflow_analytics"), period)
    assert json.loads(json.dumps(response.context["report"])) == api
    assert api["totals"]["executions"] == 3
    page = response.content.decode()
    assert f'<div class="wf-stat" id="stat-executions"><b>{api["totals"]["executions"]}</b>' in page
    assert f"{100 * api['success_rate']:.1f}%" in page and f"{100 * api['failure_rate']:.1f}%" in page
    assert f'data-date="{today.isoformat()}" data-executions="{api["daily"][-1]["executions"]}"' in page
    assert page.count('class="day"') == 7


def test_analytics_defaults_to_the_apis_window(browser, manager_client):
    api = manager_client.get("/api/analytics/workflows/").json()
    report = browser.get(reverse("admin:workflows_workflow_analytics")).context["report"]
    assert (report["since"], report["until"]) == (api["since"], api["until"])
    assert report == analytics.workflow_analytics(
        since=dt.date.fromisoformat(api["since"]), until=dt.date.fromisoformat(api["until"])
    )


@pytest.mark.parametrize(
    "period, message",
    [
        ({"since": "2026-02-10", "until": "2026-02-01"}, "The start must be on or before the end."),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "The period is at most 731 days."),
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"until": "9999-12-31"}, "Use a date between 1970 and 9000."),
        ({"since": "0001-01-01", "until": "0001-01-02"}, "Use a date between 1970 and 9000."),
    ],
)
def test_bad_period_is_a_form_error(browser, period, message):
    response = browser.get(reverse("admin:workflows_workflow_analytics"), period)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert message in response.content.decode()


def test_cancel_button_stops_a_waiting_run(run_admin, browser, make_workflow, conversation):
    make_workflow(
        "message.created",
        [{"type": "wait", "config": {"hours": 1}}, {"type": "add_tag", "config": {"tags": ["later"]}}],
    )
    conversation_services.message_create(conversation=conversation, body="hello", sender_type="customer")
    drain()
    run = WorkflowRun.objects.get()
    assert run.status == "waiting"
    assert "Cancel run" in browser.get(reverse("admin:workflows_workflowrun_change", args=[run.pk])).content.decode()
    response = browser.post(reverse("admin:workflows_workflowrun_cancel", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_test_page_opened_from_a_workflow_preselects_it(browser, vip_workflow):
    response = browser.get(reverse("admin:workflows_workflow_test", args=[vip_workflow.pk]))
    assert response.context["form"]["workflow"].value() == vip_workflow.pk


def test_trend_chart_has_one_bar_per_day_on_a_whole_number_axis():
    daily = [
        {"date": "2026-03-01", "executions": 0, "succeeded": 0, "failed": 0},
        {"date": "2026-03-02", "executions": 7, "succeeded": 4, "failed": 2},
    ]
    svg = charts.execution_trend_svg(daily)
    assert svg.count('class="day"') == 2
    assert [label for label in ("0", "2", "4", "6", "8") if f">{label}</text>" in svg] == ["0", "2", "4", "6", "8"]
    assert svg.count("<rect") == 3  # succeeded, failed and the one other run of the second day
