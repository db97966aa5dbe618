"""Every admin page and API error of the listed apps speaks the pseudo-locale: no English word is left outside
⟦pseudo⟧ spans once user data (strings stored in the database) and identifiers are taken out.

Covering an app = listing it in COVERED_APPS. Its admin pages are found by walking the URL resolver under
/admin/<app>/, object pages get the first row's id; its API errors are the 400s of an empty POST to every list
route it serves plus 401/404. A new string that does not pass through gettext (and is not in a shipped catalog)
fails here.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

from conversations.roles import MANAGERS_GROUP
from tests.i18n.pseudo import (
    PSEUDO_LANGUAGE,
    build_catalog,
    database_strings,
    english_words,
    phrases_pattern,
    pseudo,
    remove_pseudo,
    visible_text,
)
from tests.support.people import client_for, make_user

# App label -> the admin URL prefixes its pages live under ("" = admin's own index pages, the helpdesk project).
COVERED_APPS = {
    "helpdesk": ["/admin/", "/admin/api-access/"],
    "conversations": ["/admin/conversations/"],
    "sla": ["/admin/sla/"],
    "reports": ["/admin/reports/"],
    "inboxes": ["/admin/conversations/inbox/"],  # the channels room edits conversations' Inbox
    "workflows": ["/admin/workflows/"],
}
# Apps whose pages are not covered yet (their names and model names count as user data on the covered pages).
NOT_YET_COVERED: dict[str, list[str]] = {}

API_PREFIXES = {
    "conversations": [
        "/api/conversations/",
        "/api/contacts/",
        "/api/teams/",
        "/api/tickets/",
        "/api/conversation-fields/",
        "/api/views/",
        "/api/notifications/",
        "/api/agents/",
    ],
    "sla": ["/api/sla-policies/", "/api/business-hours/"],
    "reports": ["/api/reports/"],
    "inboxes": ["/api/inboxes/"],
    "workflows": [
        "/api/workflows/",
        "/api/workflow-runs/",
        "/api/integrations/",
        "/api/custom-actions/",
        "/api/workflow-templates/",
        "/api/endpoints/",
        "/api/workflow-replays/",
        "/api/macros/",
        "/api/canned-responses/",
    ],
}

_CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


@pytest.fixture
def pseudo_locale(settings, tmp_path):
    """Activate-able pseudo-language "xx" (Accept-Language: xx), its catalogs built from every shipped msgid."""
    build_catalog(tmp_path)
    settings.LOCALE_PATHS = [str(tmp_path), *settings.LOCALE_PATHS]
    settings.LANGUAGES = [*settings.LANGUAGES, (PSEUDO_LANGUAGE, "Pseudo")]
    return PSEUDO_LANGUAGE


@pytest.fixture
def seeded(roles, conversation, team):
    """A little of everything the admin lists: people, a team, a conversation with messages, SLA, an inbox."""
    from conversations import services
    from sla.policies import business_hours_save, sla_policy_save

    boss = make_user("boss", MANAGERS_GROUP)
    boss.is_superuser = True
    boss.save()
    services.message_create(conversation=conversation, body="Hallo", sender_type="customer")
    hours = business_hours_save(
        name="Berlin office", timezone="Europe/Berlin", intervals=[{"weekday": 0, "start": "09:00", "end": "17:00"}]
    )
    sla_policy_save(name="Gold", targets={"first_response": 60}, calendar=hours)
    # A row of every kind the admin edits, so change forms render too (ids are filled from the first row).
    from conversations.services.fields import conversation_field_create
    from inboxes.services import inbox_create

    conversation_field_create(key="order_id", label="Bestellnummer")
    services.survey_create(conversation=conversation, question="Wie war es?")
    inbox_create(name="Hilfe", channel="email", address="hilfe@example.de")
    # The workflows pages: a workflow, a macro with an input (the macro editor's step cards and input rows), a canned
    # response, an integration with a custom action.
    from workflows import services as workflow_services
    from workflows.engine.canned import canned_response_create
    from workflows.engine.macros import macro_create
    from workflows.integrations.custom_actions import custom_action_save
    from workflows.integrations.services import integration_save

    workflow_services.workflow_create(
        definition={
            "name": "Erstattung",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "add_tag", "config": {"tags": ["erstattung"]}}],
        },
        created_by=boss,
    )
    macro_create(
        name="Rückerstattung",
        created_by=boss,
        inputs=[{"key": "bestellung", "label": "Bestellnummer", "type": "text"}],
        steps=[{"type": "add_tag", "config": {"tags": ["erstattung"]}}],
    )
    canned_response_create(name="Begrüßung", body="Hallo {{ contact.name }}", created_by=boss)
    crm = integration_save(name="Kundendatenbank", base_url="https://crm.example.de")
    custom_action_save(integration=crm, name="Kunde suchen", path="/kunden")
    # A run (a manual workflow started by hand), a scheduled event and a disabled endpoint, so their pages list rows.
    from conversations import clock
    from workflows.models import Endpoint, ScheduledEvent

    by_hand = workflow_services.workflow_create(
        definition={
            "name": "Von Hand",
            "status": "active",
            "trigger": {"type": "manual", "config": {}},
            "steps": [{"type": "add_tag", "config": {"tags": ["hand"]}}],
        },
        created_by=boss,
    )
    workflow_services.workflow_run_manual(workflow=by_hand, conversation=conversation, actor=boss)
    now = clock.now()
    ScheduledEvent.objects.create(conversation=conversation, name="erinnerung", fire_at=now)
    Endpoint.objects.create(
        key="k" * 64,
        kind="webhook",
        url="https://hooks.example.de/eingang",
        attempts=3,
        failures=3,
        consecutive_failures=3,
        last_error="Verbindung abgelehnt",
        failing_since=now,
        last_failure_at=now,
        disabled_at=now,
    )
    return boss


def _config_values(steps: list[dict]) -> list[str]:
    """The example values of gallery steps as their one-line previews show them (a card previews top-level steps)."""
    from workflows.gallery.catalog import _is_plain, _short
    from workflows.steps.wording import field_words

    found = []
    for step in steps:
        config = step.get("config", {})
        leaves = [leaf for group in ("all", "any") for leaf in config.get(group, []) if "field" in leaf]
        found += [field_words(leaf["field"]) for leaf in leaves] + [_short(leaf.get("value", "")) for leaf in leaves]
        found += [_short(value) for value in config.values() if _is_plain(value)]
    return [text for text in found if text]


def gallery_examples() -> list[str]:
    """The example contents of the workflow gallery's templates (tags, team and channel names, message texts, the
    fields their conditions read): copied into the manager's own workflow when a template is used, they are the
    manager's data to edit, not interface text (the templates' names, descriptions and categories are translated)."""
    from workflows.gallery.catalog import all_templates

    return [text for template in all_templates() for text in _config_values(template.definition["steps"])]


def untranslated_by_us() -> list[str]:
    """Text that is not ours to translate: user data (every string in the database, the gallery's example workflow
    contents), names from libraries (time zones, countries of the `holidays` package) and the names of the apps not
    covered yet."""
    from django.apps import apps

    from conversations.preferences import time_zone_names
    from sla.admin import country_choices, subdivision_choices

    phrases = database_strings() + gallery_examples()
    phrases += [name.replace("_", " ") for name in time_zone_names()] + [name for name in time_zone_names()]
    phrases += [str(label) for _code, label in country_choices()]
    phrases += [str(label) for _country, group in subdivision_choices()[1:] for _code, label in group]
    with translation.override("en"):
        for label in NOT_YET_COVERED:
            config = apps.get_app_config(label)
            phrases.append(str(config.verbose_name))
            for model in config.get_models():
                phrases += [str(model._meta.verbose_name), str(model._meta.verbose_name_plural)]
                phrases += [
                    str(model._meta.verbose_name_plural).capitalize(),
                    str(model._meta.verbose_name).capitalize(),
                ]
    return phrases


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def leak_lines(text: str, words: list[str]) -> list[str]:
    """The visible lines holding the leaked words, to say where to look."""
    found = [line.strip() for line in text.splitlines() if any(re.search(rf"\b{w}\b", line) for w in words)]
    return found[:12]


def _first_pk(route: str) -> str | None:
    from django.apps import apps

    parts = route.split("/")
    try:
        model = apps.get_model(parts[1], parts[2])
    except (LookupError, IndexError, ValueError):
        return None
    row = model._base_manager.order_by("pk").values_list("pk", flat=True).first()
    return None if row is None else str(row)


def admin_pages(prefixes: list[str]) -> list[str]:
    """Every admin URL under the prefixes, with ids filled in (routes with other arguments are left out)."""
    pages = set()
    for route in _walk(get_resolver().url_patterns):
        route = "/" + route.lstrip("^").replace("\\Z", "").replace("$", "")
        if "autocomplete" in route or "jsi18n" in route or "(?P" in route or "^" in route:
            continue
        if not any(route == prefix or (prefix != "/admin/" and route.startswith(prefix)) for prefix in prefixes):
            continue
        names = _CONVERTER.findall(route)
        if names:
            pk = _first_pk("/" + route.removeprefix("/admin/"))
            if len(names) != 1 or names[0][1] not in {"object_id", "pk"} or pk is None:
                continue
            route = _CONVERTER.sub(pk, route)
        pages.add(route)
    return sorted(pages)


def _app_index_pages(app: str) -> list[str]:
    return [] if app == "helpdesk" else [f"/admin/{app}/"]


@pytest.mark.parametrize("app", sorted(COVERED_APPS))
def test_admin_pages_speak_the_pseudo_locale(app, pseudo_locale, seeded):
    browser = Client()
    browser.force_login(seeded)
    pages = sorted(set(admin_pages(COVERED_APPS[app]) + _app_index_pages(app)))
    user_data = phrases_pattern(untranslated_by_us())
    rendered, leaks = 0, {}
    for url in pages:
        answer = browser.get(url, HTTP_ACCEPT_LANGUAGE=pseudo_locale)
        if answer.status_code != 200 or "html" not in answer.get("Content-Type", ""):
            continue
        rendered += 1
        text = visible_text(answer.content.decode())
        words = english_words(text, user_data)
        if words:
            leaks[url] = (words, leak_lines(remove_pseudo(text), words))
    assert rendered >= 1, f"no {app} admin page rendered"
    assert not leaks, "English left in the pseudo-locale:\n" + "\n".join(
        f"{url}: {words}\n    " + "\n    ".join(lines) for url, (words, lines) in leaks.items()
    )


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("app", sorted(API_PREFIXES))
def test_api_errors_speak_the_pseudo_locale(app, pseudo_locale, seeded):
    api = client_for(seeded)
    user_data = phrases_pattern(untranslated_by_us())
    leaks = {}
    for url in API_PREFIXES[app]:
        answers = [
            api.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE=pseudo_locale),
            api.get(url + "999999/", HTTP_ACCEPT_LANGUAGE=pseudo_locale),
            Client().get(url, HTTP_ACCEPT_LANGUAGE=pseudo_locale),
        ]
        for answer in answers:
            if answer.status_code < 400 or answer.status_code == 405:
                continue
            words = english_words("\n".join(_strings(answer.json())), user_data)
            if words:
                leaks[f"{answer.request['REQUEST_METHOD']} {url} {answer.status_code}"] = words
    assert not leaks, "English left in API errors:\n" + "\n".join(f"{u}: {w}" for u, w in leaks.items())


def test_pseudo_keeps_placeholders_and_markup():
    assert pseudo("Hello %(name)s, <b>{count}</b> new") == "⟦Ĥéĺĺö %(name)s, <b>{count}</b> ñéŵ⟧"
    assert english_words("⟦Ĥéĺĺö⟧ Reply to ada@example.com", []) == ["Reply", "to"]
    assert english_words("Event 1447fb50-6757-4308-affa-d88265459f82", []) == ["Event"]  # a UUID is no word
