"""Languages: Accept-Language picks admin's and the API's language, a person's preference wins in admin, and a
contact carries the language it is answered in."""

from __future__ import annotations

from django.test import Client

from conversations import preferences
from tests.support.people import client_for


def test_api_errors_follow_accept_language(db):
    answer = Client().get("/api/conversations/", HTTP_ACCEPT_LANGUAGE="de")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Anmeldedaten fehlen."
    assert (
        Client().get("/api/conversations/", HTTP_ACCEPT_LANGUAGE="fr").json()["detail"]
        == "Informations d'authentification non fournies."
    )


def test_admin_speaks_the_browsers_language_and_the_persons_choice_wins(manager):
    browser = Client()
    browser.force_login(manager)
    assert "Abmelden" in browser.get("/admin/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    preferences.preference_save(user=manager, time_zone="", language="fr")
    page = browser.get("/admin/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Déconnexion" in page and 'lang="fr"' in page


def test_an_unknown_language_preference_is_refused(manager):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not one of the languages offered"):
        preferences.preference_save(user=manager, time_zone="", language="xx")


def test_a_contact_has_a_language(manager):
    api = client_for(manager)
    created = api.post(
        "/api/contacts/", {"name": "Jonas", "email": "jonas@example.de", "language": "DE"}, format="json"
    )
    assert created.status_code == 201 and created.json()["language"] == "de"
    bad = api.patch(f"/api/contacts/{created.json()['id']}/", {"language": "German!"}, format="json")
    assert bad.status_code == 400 and "language" in bad.json()


def test_the_survey_page_speaks_the_contacts_language(db):
    from conversations import services

    contact = services.contact_create(name="Jonas", email="jonas@example.de", language="de")
    conversation = services.conversation_open(contact=contact, channel="email", subject="Drucker")
    survey = services.survey_create(conversation=conversation, question="Wie zufrieden waren Sie?")
    page = Client().get(f"/survey/{survey.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="de"' in page and "Wie war unser Service?" in page and "Senden" in page
    answered = Client().post(f"/survey/{survey.token}/", {"score": "5"}).content.decode()
    assert "Danke für Ihr Feedback! Sie haben uns mit 5 von 5 bewertet." in answered


def test_the_survey_page_follows_the_browser_when_the_contact_has_no_language(conversation):
    from conversations import services

    survey = services.survey_create(conversation=conversation, question="How did we do?")
    page = Client().get(f"/survey/{survey.token}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Comment avons-nous été ?" in page and "Très satisfait" in page
