"""The macro editor and canned responses speak the manager's and agent's language too: with `Accept-Language: de`
the macro editor (its inputs rows, the shared step cards and "useful data" partials), its error summary, the
conversation page's canned-response picker and the canned-response API errors come in German; field paths and
machine names stay as they are."""

from django.urls import reverse

from workflows.engine import canned
from workflows.models import CannedResponse, Macro

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
MACRO_ADD = reverse("admin:workflows_macro_add")


def test_macro_editor_is_german(manager_browser):
    response = manager_browser.get(MACRO_ADD, **GERMAN)

    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "de"
    for german in (
        "Eingaben – vor dem Anwenden abgefragt",
        "+ Eingabe hinzufügen",
        "Eingabeschlüssel",
        "Bestellnummer",
        "Schritte — was der Reihe nach passiert",
        "+ Schritt hinzufügen",
        "Nützliche Daten",
        "<h3>Kontakt</h3>",
        "inputs.key",
    ):
        assert german in page, german
    for english in (
        "Inputs — asked before applying",
        "+ Add input",
        "Remove input",
        "Order number",
        "Steps — what happens, in order",
        "+ Add step",
        "Useful data",
        "<h3>Contact</h3>",
    ):
        assert english not in page, english
    # The placeholder groups a macro offers are still only contact, conversation, message (and its inputs).
    assert "<h3>Ereignis</h3>" not in page and 'data-path="event.' not in page
    assert 'data-path="contact.' in page and 'data-leaf=".key"' in page


def test_macro_editor_error_summary_is_german(manager_browser):
    cards = {"steps[0].type": "webhook", "steps[0].config.url": "https://hooks.example.com/x"}

    response = manager_browser.post(MACRO_ADD, {"name": "Hook", "active": "on", **cards}, **GERMAN)

    page = response.content.decode()
    assert response.status_code == 200 and "Das Makro hat 1 Problem" in page
    assert "The macro has 1 problem" not in page and "steps[0].type" in page
    assert not Macro.objects.exists()


def test_canned_picker_is_german(agent_browser, conversation):
    canned.canned_response_create(name="Danke", body="Hallo {{ contact.name }}")

    page = agent_browser.get(
        reverse("admin:conversations_conversation_change", args=[conversation.pk]), **GERMAN
    ).content.decode()

    assert "<h2>Textbausteine</h2>" in page and ">Einfügen</button>" in page and "Antwort wählen…" in page
    assert "Canned responses" not in page and ">Insert</button>" not in page
    url = reverse("admin:workflows_cannedresponse_render", args=[conversation.pk])
    answer = agent_browser.post(url, {"canned": "nope"}, **GERMAN)
    assert answer.status_code == 400 and answer.json() == {"error": "Wählen Sie einen Textbaustein."}


def test_canned_api_errors_are_german_and_keyed_by_field(manager_client, agent_client):
    canned.canned_response_create(name="Thanks", body="Hello")

    duplicate = manager_client.post("/api/canned-responses/", {"name": "thanks", "body": "Hi"}, format="json", **GERMAN)
    long = manager_client.post(
        "/api/canned-responses/", {"name": "Long", "body": "x" * (canned.MAX_BODY + 1)}, format="json", **GERMAN
    )
    shared = agent_client.post("/api/canned-responses/", {"name": "Mine", "body": "Hi"}, format="json", **GERMAN)

    assert duplicate.status_code == 400 and "gibt es bereits" in str(duplicate.json())
    assert long.status_code == 400 and long.json()["body"] == [f"Höchstens {canned.MAX_BODY} Zeichen."]
    assert shared.status_code == 403 and "Nur Support-Manager legen gemeinsame Textbausteine an" in str(shared.json())
    assert CannedResponse.objects.count() == 1
