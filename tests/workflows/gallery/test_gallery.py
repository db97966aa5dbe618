"""The templates gallery: enough ready workflows in the three categories, each valid for the shared validator, and
"use template" makes a draft with the template's trigger and steps."""

import pytest

from workflows.engine import references
from workflows.engine.definition import DefinitionError, validate_definition
from workflows.gallery import catalog as gallery
from workflows.models import Workflow
from workflows.steps import step_types

SLUGS = [template.slug for template in gallery.all_templates()]
REQUIRED_EXAMPLES = {
    "vip-auto-route": "conversation.created",
    "sla-breach-escalation": "sla.breached",
    "after-hours-auto-reply": "message.created",
    "cancellation-retention-crm": "message.created",
    "resolved-survey": "conversation.status_changed",
    "negative-sentiment-escalation": "conversation.sentiment_crossed",
    "spam-close": "conversation.disposition_set",
    "recording-transcribe-slack": "recording.uploaded",
}


def test_gallery_has_at_least_twelve_templates_in_the_three_categories():
    by_category = dict(gallery.templates_by_category())
    assert list(by_category) == list(gallery.CATEGORIES)
    assert len(SLUGS) >= 12
    assert len(set(SLUGS)) == len(SLUGS)
    assert all(len(templates) >= 3 for templates in by_category.values())


def test_gallery_has_the_examples_of_the_issue_with_their_triggers():
    triggers = {template.slug: template.trigger_type for template in gallery.all_templates()}
    assert {slug: triggers.get(slug) for slug in REQUIRED_EXAMPLES} == REQUIRED_EXAMPLES


@pytest.mark.parametrize("slug", SLUGS)
def test_template_passes_the_shared_validator(db, slug):
    template = gallery.get_template(slug)
    missing = sorted({step["type"] for step in template.definition["steps"]} - set(step_types.names()))
    assert not missing, f"{slug}: step type(s) not registered yet: {', '.join(missing)}"
    try:
        # The rows a template names (its integration, its team) may not exist yet: `use` makes a draft showing them.
        cleaned = validate_definition(template.definition, tolerated=references.tokens(template.definition))
    except DefinitionError as exc:
        pytest.fail(f"{slug} is not a valid definition: {exc.errors}")
    assert cleaned["status"] == "draft"
    assert len(template.step_preview()) == len(cleaned["steps"]) >= 1


@pytest.mark.parametrize("slug", SLUGS)
def test_using_a_template_creates_a_draft_with_its_trigger_and_steps(manager, slug):
    template = gallery.get_template(slug)
    workflow = gallery.template_use(slug=slug, created_by=manager)
    assert workflow.status == "draft"
    assert workflow.name == template.name
    assert workflow.created_by == manager
    assert workflow.trigger_type == template.trigger_type
    assert list(workflow.steps.values_list("type", flat=True)) == [s["type"] for s in template.definition["steps"]]


def test_unknown_template_slug_is_not_found(db):
    with pytest.raises(gallery.TemplateNotFound):
        gallery.template_use(slug="no-such-template")
    assert not Workflow.objects.exists()


def test_step_preview_names_the_step_and_its_key_settings():
    preview = gallery.get_template("vip-auto-route").step_preview()
    assert preview[0] == "Condition: contact attribute vip is Yes"
    assert preview[-1] == "Route: team VIP Support, strategy Least busy"
