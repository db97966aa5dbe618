"""The workflow pages speak the manager's language: with `Accept-Language: de` the workflow list, the editor (add and
change), a run's log, the dry-run report and the explanations of what each event did come in German, while machine
names (step and trigger `type`s, outcome codes) stay as they are in JSON and markup. Under the default language the
same pages stay English (the other workflow tests assert their English texts)."""

import json

import pytest
from django.urls import reverse

from conversations import services as conversation_services
from tests.support.runs import drain
from workflows import services
from workflows.models import WorkflowRun

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
# Step and trigger labels, button and heading texts the editor shows in English; none may be left on a German page.
ENGLISH_EDITOR = [
    "+ Add step",
    "Add a step",
    "Choose a step to add it…",
    "Steps — what happens, in order",
    "Trigger — when does it start?",
    "Raw JSON (for power users)",
    "Useful data",
    "Save and activate",
    ">Add tag<",
    ">Set priority<",
    ">Send email<",
    ">Change status<",
    ">Wait for an event<",
    ">New message<",
    ">Status changed<",
    ">SLA breached<",
    ">Survey answered<",
    "Move up",
    "Remove step",
    "If the condition is false",
    "Match all or any",
    "+ Condition",
]
GERMAN_EDITOR = [
    "+ Schritt hinzufügen",
    "Schritt hinzufügen",
    "Schritte — was der Reihe nach passiert",
    "Auslöser — wann startet er?",
    "Rohes JSON (für Fortgeschrittene)",
    "Nützliche Daten",
    ">Schlagwort hinzufügen<",
    ">Priorität setzen<",
    ">E-Mail senden<",
    ">Neue Nachricht<",
    ">SLA verletzt<",
    ">Umfrage beantwortet<",
]


@pytest.fixture
def tagging_workflow(db, manager):
    """Active: a customer message about a refund gets tagged, after a condition on the message."""
    return services.workflow_create(
        definition={
            "name": "Refund triage",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [
                {
                    "type": "condition",
                    "config": {"all": [{"field": "message.body", "op": "contains", "value": "refund"}]},
                    "on_false": "stop",
                },
                {"type": "add_tag", "config": {"tags": ["refund"]}},
                {"type": "set_priority", "config": {"priority": "high"}},
            ],
        },
        created_by=manager,
    )


def _page(browser, url, **extra) -> str:
    response = browser.get(url, **GERMAN, **extra)
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    return response.content.decode()


def _customer_says(conversation, body: str) -> None:
    conversation_services.message_create(conversation=conversation, body=body, sender_type="customer")
    drain()


def test_workflow_list_is_german(browser, tagging_workflow):
    page = _page(browser, reverse("admin:workflows_workflow_changelist"))
    for german in (
        "Workflows",
        "Ausführungen gesamt",
        "Erfolgsquote",
        "Reihenfolge",
        "Auslöser",
        "Neue Nachricht",
        "Ein / aus",
        "Ausgewählte Workflows aktivieren",
        "JSON importieren",
        "3 Schritte",
        "Aktiv",
    ):
        assert german in page, german
    for english in (
        "Total executions",
        "Success rate",
        ">New message<",
        "On / off",
        "Activate selected workflows",
        "Import JSON",
        "3 steps",
        "Drag a row by its handle",
    ):
        assert english not in page, english
    assert 'data-summary="workflows"' in page and 'title="message.created"' in page  # codes stay codes


def test_editor_add_page_is_german(browser):
    page = _page(browser, reverse("admin:workflows_workflow_add"))
    for german in GERMAN_EDITOR:
        assert german in page, german
    for english in ENGLISH_EDITOR:
        assert english not in page, english
    # Step types keep their machine names: the templates the editor script clones are keyed by them.
    assert 'data-step-template="add_tag"' in page and '<option value="message.created"' in page


def test_editor_change_page_is_german_with_translated_field_labels(browser, tagging_workflow):
    page = _page(browser, reverse("admin:workflows_workflow_change", args=[tagging_workflow.pk]))
    for german in GERMAN_EDITOR + [
        "Wenn die Bedingung falsch ist",
        "Zutreffen müssen",
        "Absendertypen",
        "Priorität",
        "Hoch",
        "Nach oben",
        "Schritt entfernen",
        "+ Bedingung",
        "JSON exportieren",
        "Versionen",
        "Testen (Probelauf)",
    ]:
        assert german in page, german
    for english in ENGLISH_EDITOR + ["Sender types", ">Export JSON<", ">Versions<", "Try on history"]:
        assert english not in page, english
    assert 'name="steps[1].config.tags"' in page and 'value="refund"' in page  # the data is left alone


def test_editor_error_after_a_bad_save_is_german(browser, tagging_workflow):
    url = reverse("admin:workflows_workflow_change", args=[tagging_workflow.pk])
    definition = services.workflow_definition(tagging_workflow)
    definition["steps"][2]["config"]["priority"] = "sky-high"
    response = browser.post(url, {"raw_mode": "1", "definition": json.dumps(definition), "_save": "1"}, **GERMAN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Der Workflow hat 1 Problem" in page
    assert "The workflow has 1 problem" not in page


def test_run_log_is_german(browser, tagging_workflow, conversation):
    _customer_says(conversation, "I want a refund")
    run = WorkflowRun.objects.get(workflow=tagging_workflow)
    assert run.status == "succeeded"
    page = _page(browser, reverse("admin:workflows_workflowrun_change", args=[run.pk]))
    for german in (
        "Schritte",
        "Bedingungen prüfen",
        "wahr → nächster Schritt",
        "Schlagwort hinzufügen",
        "Priorität setzen",
        "erfolgreich",
        "Eingabe (ausgefüllt, Geheimnisse maskiert)",
        "Ausgabe",
        "Workflow-Lauf",
        "Läufe",
        "Probelauf",
        "Workflow, Version 1",
    ):
        assert german in page, german
    for english in (
        "Check the conditions",
        "true → next step",
        "Add tag refund",
        "Input (rendered, secrets masked)",
        ">Output<",
        "workflow, version 1",
        ">Test (dry run)<",
    ):
        assert english not in page, english
    assert 'data-status="succeeded"' in page  # the status code itself stays


def test_run_list_is_german(browser, tagging_workflow, conversation):
    _customer_says(conversation, "refund please")
    page = _page(browser, reverse("admin:workflows_workflowrun_changelist"))
    for german in ("Workflow-Läufe", "Dauer", "Ab dem fehlgeschlagenen Schritt wiederholen", "erfolgreich"):
        assert german in page, german
    for english in ("Duration", "Retry from the failed step", ">succeeded<"):
        assert english not in page, english


def test_dry_run_report_is_german(browser, tagging_workflow, conversation):
    response = browser.post(
        reverse("admin:workflows_workflow_test"),
        {"workflow": tagging_workflow.pk, "conversation": conversation.pk, "message_body": "Where is my refund?"},
        **GERMAN,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert [row["status"] for row in response.context["rows"]] == ["would_run", "would_run", "would_run"]
    for german in (
        "Ergebnis",
        "würde den Workflow starten",
        "Würde ausführen: Schlagwort hinzufügen refund",
        "wäre erfolgreich",
        "würde laufen",
        "Ausgefüllte Anfrage / Eingabe",
        "Würde tun",
        "1. Konversation suchen",
        "Beispielnachricht:",
    ):
        assert german in page, german
    for english in (
        "would start the workflow",
        "Would add tag",
        "would succeed",
        ">would run<",
        "Rendered request / input",
        "1. Find a conversation",
        "Sample message:",
    ):
        assert english not in page, english


def test_dry_run_form_error_is_german(browser, tagging_workflow):
    response = browser.post(reverse("admin:workflows_workflow_test"), {"workflow": tagging_workflow.pk}, **GERMAN)
    page = response.content.decode()
    assert "Wählen Sie eine Konversation oder schreiben Sie eine Beispielnachricht zum Testen." in page
    assert "Pick a conversation or write a sample message" not in page


def test_explain_api_reasons_are_german_and_outcomes_stay_codes(manager_client, tagging_workflow, conversation):
    _customer_says(conversation, "Just saying hello")
    events = manager_client.get(f"/api/conversations/{conversation.pk}/events/").json()["results"]
    message_event = next(event for event in events if event["type"] == "message.created")
    response = manager_client.get(f"/api/events/{message_event['id']}/explain/", **GERMAN)
    assert response.status_code == 200
    [entry] = response.json()["workflows"]
    assert entry["outcome"] == "stopped_at_condition"
    assert entry["reason"].startswith(f"Lauf #{entry['run']} hielt bei Schritt 1 an (Bedingung): ")
    assert "(gesehen: " in entry["reason"] and "saw" not in entry["reason"]
    english = manager_client.get(f"/api/events/{message_event['id']}/explain/").json()["workflows"][0]
    assert english["reason"].startswith(f"run #{entry['run']} stopped at step 1 (condition): ")


def test_automation_panel_on_the_conversation_page_is_german(browser, tagging_workflow, conversation):
    _customer_says(conversation, "A refund, please")
    page = _page(browser, reverse("admin:conversations_conversation_change", args=[conversation.pk]))
    assert "<h2>Makros</h2>" in page and "Noch keine Makros." in page  # the macro panel beside it
    panel = page[page.index('id="automation-panel"') :]
    for german in ("Automatisierung — was jedes Ereignis bewirkt hat", "Gestartet", "der Auslöser traf zu"):
        assert german in panel, german
    for english in ("what each event did", ">Started<", "the trigger matched"):
        assert english not in panel, english
    assert 'data-outcome="started"' in panel


def test_pages_stay_english_without_accept_language(browser, tagging_workflow):
    page = browser.get(reverse("admin:workflows_workflow_change", args=[tagging_workflow.pk])).content.decode()
    assert "+ Add step" in page and ">Add tag<" in page and "Sender types" in page
    assert "Schritt hinzufügen" not in page


def test_api_definition_errors_are_german_and_keyed_as_before(manager_client):
    body = {
        "name": "",
        "status": "draft",
        "trigger": {"type": "message.created", "config": {}},
        "steps": [
            {"type": "set_priority", "config": {"priority": "sky-high"}},
            {"type": "condition", "config": {"all": [{"field": "message.body", "op": "bogus", "value": 1}]}},
            {"type": "wait", "config": {}},
        ],
    }
    response = manager_client.post("/api/workflows/", body, format="json", **GERMAN)
    assert response.status_code == 400
    errors = response.json()
    assert errors["name"] == ["Ein Workflow braucht einen Namen."]
    assert errors["steps[0].config.priority"][0].startswith('"sky-high" ist keiner der Werte ')
    assert errors["steps[1].config.all[0].op"][0].startswith("Unbekannter Operator „bogus“.")
    assert errors["steps[2].config.minutes"] == ["Geben Sie Minuten, Stunden oder Tage an."]
    english = manager_client.post("/api/workflows/", body, format="json").json()
    assert english["name"] == ["A workflow needs a name."]
    assert "is not one of" in english["steps[0].config.priority"][0]


def test_erase_confirmation_page_is_german(browser, contact):
    url = reverse("admin:conversations_contact_changelist")
    assert "Personenbezogene Daten der ausgewählten Kontakte löschen…" in _page(browser, url)
    response = browser.post(url, {"action": "erase_personal_data", "_selected_action": [contact.pk]}, **GERMAN)
    page = response.content.decode()
    for german in (
        "Personenbezogene Daten löschen",
        "Dies entfernt endgültig alles Persönliche",
        "0 Konversationen",
        "Ja, endgültig löschen",
        'cancel-link">Nein, ',
    ):
        assert german in page, german
    for english in ("This removes, for good", "Yes, erase for good", "No, take me back"):
        assert english not in page, english
    contact.refresh_from_db()
    assert contact.name  # only shown, not erased: the confirmation was not given


def test_versions_page_is_german(browser, tagging_workflow):
    page = _page(browser, reverse("admin:workflows_workflow_versions", args=[tagging_workflow.pk]))
    for german in ("Jedes Speichern erzeugt eine neue Version", "Gespeichert", "Status damals", "(aktuell)"):
        assert german in page, german
    assert "Every save makes a new version" not in page and "Status then" not in page
