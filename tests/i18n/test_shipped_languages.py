"""The shipped languages (de, fr, es): complete catalogs for every app listed, nothing new for makemessages to find,
admin and API errors in the asked language, and localised pages that keep ISO values in date inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zoneinfo
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

from conversations import services
from tests.infra.plugin import require_service
from tests.support.people import client_for

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("de", "fr", "es")
# App (or the project package) -> where its catalog lives.
CATALOGS = {
    "conversations": ROOT / "conversations",
    "sla": ROOT / "sla",
    "reports": ROOT / "reports",
    "inboxes": ROOT / "inboxes",
    "helpdesk": ROOT / "helpdesk",
    "workflows": ROOT / "workflows",
}


@pytest.mark.parametrize("app", sorted(CATALOGS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_compiled(app, language):
    folder = CATALOGS[app] / "locale" / language / "LC_MESSAGES"
    catalog = polib.pofile(str(folder / "django.po"))
    assert not catalog.metadata_is_fuzzy
    assert [entry.msgid for entry in catalog if "fuzzy" in entry.flags] == []
    assert [entry.msgid for entry in catalog.untranslated_entries()] == []
    compiled = {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural
        for entry in polib.mofile(str(folder / "django.mo"))
    }
    assert compiled == {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural for entry in catalog if not entry.obsolete
    }, "run compilemessages"


def _extract(app: str, workdir: Path) -> set[tuple[str, str]]:
    """The msgids makemessages finds today in the app's code (a copy, so the repository is not touched)."""
    if app == "helpdesk":  # the project: its package and the root templates, into helpdesk/locale
        shutil.copytree(ROOT / "helpdesk", workdir / "helpdesk", ignore=shutil.ignore_patterns("locale"))
        shutil.copytree(ROOT / "templates", workdir / "templates")
    else:
        shutil.copytree(CATALOGS[app], workdir, ignore=shutil.ignore_patterns("locale"), dirs_exist_ok=True)
    (workdir / "locale").mkdir()
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    django_admin = str(Path(sys.executable).parent / "django-admin")  # not `-m django`: cwd would shadow the stdlib
    done = subprocess.run(
        [django_admin, "makemessages", "-l", "de"], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    catalog = polib.pofile(str(workdir / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    return {(entry.msgctxt or "", entry.msgid) for entry in catalog}


@pytest.mark.parametrize("app", sorted(CATALOGS))
def test_makemessages_finds_no_new_string(app, tmp_path, settings):
    require_service("gettext", bool(shutil.which("xgettext")), "xgettext (apt install gettext)")
    found = _extract(app, tmp_path)
    shipped = {
        (entry.msgctxt or "", entry.msgid)
        for entry in polib.pofile(str(CATALOGS[app] / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    }
    assert found - shipped == set(), "new strings: run makemessages -l de -l fr -l es and translate them"


def test_admin_speaks_german_and_french(manager, conversation):
    browser = Client()
    browser.force_login(manager)
    page = browser.get("/admin/conversations/conversation/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Konversationen" in page and "Nicht zugewiesen" in page and "Bearbeiter" in page
    page = browser.get(
        f"/admin/conversations/conversation/{conversation.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Répondre" in page and "Ajouter une note interne" in page


def test_api_field_errors_follow_accept_language(manager):
    api = client_for(manager)
    german = api.post("/api/contacts/", {"name": "Jonas", "phone": "12"}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert german.status_code == 400
    assert german.json()["phone"] == [
        "Geben Sie die Nummer in internationaler E.164-Form ein, beginnend mit + und der Ländervorwahl."
    ]
    spanish = api.post("/api/conversations/", {"channel": "pigeon"}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.json() == {
        "contact": ["Este campo es requerido."],
        "channel": ['"pigeon" no es una elección válida.'],
    }
    french = api.patch("/api/contacts/999999/", {}, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.status_code == 404 and french.json()["detail"] != "Not found."


@pytest.mark.parametrize("language", ("en", *LANGUAGES))
def test_report_date_inputs_keep_their_value_in_every_language(manager, language):
    browser = Client()
    browser.force_login(manager)
    page = browser.get(
        "/admin/reports/conversationreport/?since=2026-11-02&until=2026-11-30&group_by=day",
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    assert 'type="date"' in page
    assert 'value="2026-11-02"' in page and 'value="2026-11-30"' in page


def test_event_sentences_and_dates_are_localised(manager, conversation):
    from conversations.models import Event

    services.conversation_change_status(conversation=conversation, status="pending")
    event = Event.objects.filter(type="conversation.status_changed").get()
    browser = Client()
    browser.force_login(manager)
    page = f"/admin/conversations/event/{event.pk}/change/"
    german = browser.get(page, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    french = browser.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    day = event.occurred_at.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    assert f"{day:%d.%m.%Y %H:%M}" in german and f"{day:%d/%m/%Y %H:%M}" in french
    assert "Status geändert von Neu auf Wartend" in german
    assert "Statut changé de Nouvelle à En attente" in french


@pytest.mark.parametrize("language", LANGUAGES)
def test_javascript_catalog_is_complete_and_served(language, db):
    folder = CATALOGS["conversations"] / "locale" / language / "LC_MESSAGES"
    catalog = polib.pofile(str(folder / "djangojs.po"))
    assert catalog.untranslated_entries() == [] and not [entry for entry in catalog if "fuzzy" in entry.flags]
    served = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for entry in catalog:
        assert json.dumps(entry.msgstr)[1:-1] in served


def test_the_condition_builder_loads_the_javascript_catalog_first(manager):
    browser = Client()
    browser.force_login(manager)
    page = browser.get("/admin/sla/slapolicy/add/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert page.index('src="/jsi18n/"') < page.index("conversations/condition_builder.js")


@pytest.mark.parametrize("language", LANGUAGES)
def test_closed_date_inputs_keep_their_value_in_every_language(manager, language):
    from sla.policies import business_hours_save

    hours = business_hours_save(
        name="Berlin",
        timezone="Europe/Berlin",
        extra_holidays=["2026-12-24"],
        intervals=[{"weekday": 0, "start": "09:00", "end": "17:00"}],
    )
    browser = Client()
    browser.force_login(manager)
    page = browser.get(f"/admin/sla/businesshours/{hours.pk}/change/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'type="date" name="extra_holidays__date" value="2026-12-24"' in page
