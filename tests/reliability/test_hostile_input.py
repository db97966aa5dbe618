"""Hostile input cannot poison storage (issue 11, findings 3 and 8): lone surrogates, NUL bytes, JSON nested 900 or
1,000 deep, a 4.7 MB body of 100k steps and 5 MB of zeros sent as `audio/wav` are each a 400 naming the field (or an
admin form error), and nothing is stored. A contact stored with a lone surrogate before the fix is repaired by the
migration's function and renders again. Each test prints its figures (run with `-s` to see them)."""

import json
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from conversations.models import Contact, Conversation, Event, Message, Recording
from workflows.models import Workflow

SAMPLE_WAV = Path(__file__).resolve().parents[1] / "data" / "printer_broken.wav"
LONE_SURROGATES = ["\\ud83d", "\\ud800", "\\udc00", "a\\ud83db", "\\ude00\\ud83d"]  # as JSON escapes in a raw body
WORKFLOW = {
    "name": "Greeter",
    "trigger": {"type": "manual", "config": {}},
    "steps": [{"type": "auto_reply", "config": {"text": "Hello"}}],
}


def post_raw(client, method: str, url: str, raw: str):
    """Send a JSON body as typed: a test client would refuse to encode a lone surrogate itself."""
    return client.generic(method, url, raw, content_type="application/json")


def stored_rows() -> tuple[int, ...]:
    return (
        Contact.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        Event.objects.count(),
        Workflow.objects.count(),
        Recording.objects.count(),
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def replay(client, cases: list[tuple[str, str, str, str]]) -> dict[str, int]:
    """Send each (method, url, raw body, field) and check: 400 naming the field, nothing stored. Returns counts."""
    counts = {"sent": 0, "400": 0}
    for method, url, raw, field in cases:
        before = stored_rows()
        response = post_raw(client, method, url, raw)
        counts["sent"] += 1
        assert response.status_code == 400, (raw[:80], response.status_code, response.content[:300])
        assert field in response.json(), (raw[:80], response.json())
        assert stored_rows() == before, raw[:80]
        counts["400"] += 1
    return counts


def test_lone_surrogates_are_400_naming_the_field_and_nothing_is_stored(manager_client, contact, conversation):
    contact_url, messages_url = f"/api/contacts/{contact.pk}/", f"/api/conversations/{conversation.pk}/messages/"
    cases = []
    for text in LONE_SURROGATES:
        cases += [
            ("POST", "/api/contacts/", f'{{"name": "Grace", "attributes": {{"note": "{text}"}}}}', "attributes"),
            ("POST", "/api/contacts/", f'{{"name": "Grace", "attributes": {{"{text}": 1}}}}', "attributes"),
            ("PATCH", contact_url, f'{{"attributes": {{"deep": [{{"x": "{text}"}}]}}}}', "attributes"),
            ("PATCH", contact_url, f'{{"name": "{text}"}}', "name"),
            ("POST", messages_url, f'{{"body": "{text}", "sender_type": "customer"}}', "body"),
            ("POST", "/api/workflows/", json.dumps({**WORKFLOW, "name": "@"}).replace("@", text), "name"),
            ("POST", "/api/workflows/", json.dumps(WORKFLOW).replace("Hello", text), "steps"),
        ]
    counts = replay(manager_client, cases)
    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "plan": "enterprise"}
    print(f"\nlone surrogates: {counts['sent']} bodies sent, {counts['400']} answered 400, 0 rows stored")


def test_a_complete_surrogate_pair_is_an_emoji_and_is_kept(manager_client, contact):
    response = post_raw(
        manager_client, "PATCH", f"/api/contacts/{contact.pk}/", '{"attributes": {"mood": "\\ud83d\\ude00"}}'
    )
    assert response.status_code == 200, response.content
    assert response.json()["attributes"]["mood"] == "😀"


def test_contact_pages_keep_working_after_a_refused_surrogate(manager_client, manager_browser, contact):
    refused = post_raw(manager_client, "PATCH", f"/api/contacts/{contact.pk}/", '{"attributes": {"note": "\\ud83d"}}')
    assert refused.status_code == 400
    for url in (f"/api/contacts/{contact.pk}/", "/api/contacts/", "/api/contacts/?search=Ada"):
        assert manager_client.get(url).status_code == 200, url
    assert manager_browser.get(f"/admin/conversations/contact/{contact.pk}/change/").status_code == 200


@pytest.mark.parametrize("depth", [65, 900, 1_000, 50_000])
def test_deeply_nested_json_is_400_and_nothing_is_stored(manager_client, contact, depth):
    cases = [
        ("POST", "/api/contacts/", f'{{"name": "Grace", "attributes": {{"a": {nested(depth)}}}}}', "attributes"),
        ("PATCH", f"/api/contacts/{contact.pk}/", f'{{"attributes": {{"a": {nested(depth)}}}}}', "attributes"),
        ("POST", "/api/workflows/", json.dumps(WORKFLOW).replace('"Hello"', nested(depth)), "steps"),
    ]
    raw_detail = depth >= 1_000  # past the decoder's own limit the parse error has no field to name
    for method, url, raw, field in cases:
        before = stored_rows()
        response = post_raw(manager_client, method, url, raw)
        assert response.status_code == 400, (depth, url, response.content[:300])
        assert (field in response.json()) or (raw_detail and "detail" in response.json()), response.json()
        assert stored_rows() == before
    print(f"\nJSON nested {depth} deep: {len(cases)} bodies, all 400, 0 rows stored")


def test_nesting_up_to_the_limit_is_accepted(manager_client, contact):
    response = post_raw(
        manager_client, "PATCH", f"/api/contacts/{contact.pk}/", f'{{"attributes": {{"a": {nested(60)}}}}}'
    )
    assert response.status_code == 200, response.content


def test_nul_in_a_workflow_name_or_step_text_is_400(manager_client):
    cases = [
        ("POST", "/api/workflows/", json.dumps({**WORKFLOW, "name": "Greet\x00er"}), "name"),
        ("POST", "/api/workflows/", json.dumps(WORKFLOW).replace("Hello", "Hel\\u0000lo"), "steps"),
        ("POST", "/api/workflows/import/", json.dumps({"workflow": {**WORKFLOW, "name": "a\x00"}}), "workflow"),
    ]
    counts = replay(manager_client, cases)
    assert counts == {"sent": len(cases), "400": len(cases)} and not Workflow.objects.exists()
    print(f"\nNUL bytes: {counts['sent']} workflow bodies sent, {counts['400']} answered 400, 0 workflows stored")


def test_a_body_of_100k_steps_is_refused_naming_steps(manager_client):
    steps = [{"type": "auto_reply", "config": {"text": "Hi"}}] * 100_000
    raw = json.dumps({**WORKFLOW, "steps": steps})
    started = time.process_time()
    response = post_raw(manager_client, "POST", "/api/workflows/", raw)
    cpu = time.process_time() - started
    assert response.status_code == 400, response.content[:300]
    assert "steps" in response.json()
    assert not Workflow.objects.exists()
    print(f"\n100k steps: {len(raw) / 1e6:.1f} MB body refused with 400 in {cpu:.2f} s of CPU")


def test_one_step_over_the_limit_is_refused_before_the_steps_are_validated(manager_client):
    steps = [{"type": "no_such_type", "config": {"bad": True}}] * 51
    response = post_raw(manager_client, "POST", "/api/workflows/", json.dumps({**WORKFLOW, "steps": steps}))
    assert response.status_code == 400
    assert response.json() == {"steps": ["A workflow has at most 50 steps."]}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("call.wav", bytes(5 * 1024 * 1024), "audio/wav"),
        ("call.mp3", b"just some text, not audio at all", "audio/mpeg"),
        ("call.wav", b"", "audio/wav"),
        ("call.bin", bytes(1024), "application/octet-stream"),
    ],
)
def test_bytes_that_are_not_audio_are_refused(agent_client, conversation, media_root, name, data, content_type):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/recordings/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert not Recording.objects.exists()
    assert not any(media_root.rglob("*.*"))
    print(f"\n{len(data):,} bytes as {content_type}: 400")


def test_a_real_wav_recording_is_accepted(agent_client, conversation, media_root):
    upload = SimpleUploadedFile("call.wav", SAMPLE_WAV.read_bytes(), content_type="audio/wav")
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/recordings/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert Recording.objects.get().size_bytes == SAMPLE_WAV.stat().st_size


CONTACT_FORM = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+14155550123", "segment": "enterprise"}


@pytest.mark.parametrize(
    "attributes",
    [
        '{"note": "\\ud83d"}',
        '{"\\udc00": 1}',
        '{"note": "a\\u0000b"}',
        '{"a": ' + nested(900) + "}",
        '{"a": ' + nested(5_000) + "}",
    ],
)
def test_admin_contact_form_refuses_unstorable_attributes(manager_browser, contact, attributes):
    url = f"/admin/conversations/contact/{contact.pk}/change/"
    response = manager_browser.post(url, {**CONTACT_FORM, "attributes": attributes})
    assert response.status_code == 200, response.status_code
    assert response.context["adminform"].form.errors["attributes"]
    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "plan": "enterprise"}


def test_admin_workflow_editor_and_import_refuse_nul_and_surrogates(manager_browser):
    add_url, import_url = "/admin/workflows/workflow/add/", "/admin/workflows/workflow/import/"
    form = {
        "name": "Greet\x00er",
        "status": "draft",
        "trigger.type": "manual",
        "steps[0].type": "auto_reply",
        "steps[0].config.text": "Hello",
    }
    posts = [
        (add_url, form),
        (add_url, {**form, "name": "Greeter", "steps[0].config.text": "Hel\x00lo"}),
        (add_url, {"raw_mode": "1", "definition": json.dumps(WORKFLOW).replace("Greeter", "\\ud800")}),
        (add_url, {"raw_mode": "1", "definition": json.dumps(WORKFLOW).replace('"Hello"', nested(5_000))}),
        (import_url, {"text": json.dumps(WORKFLOW).replace("Hello", "\\ud83d")}),
        (import_url, {"text": json.dumps(WORKFLOW).replace("Greeter", "G\\u0000")}),
    ]
    for url, data in posts:
        response = manager_browser.post(url, data)
        assert response.status_code == 200, (url, response.status_code)
        page = response.content.decode()
        assert "NUL" in page or "surrogate" in page or "deep" in page, page[:2000]
    assert not Workflow.objects.exists()
    print(f"\nadmin: {len(posts)} hostile workflow forms, all shown back with an error, 0 workflows stored")


def test_a_contact_stored_with_a_lone_surrogate_is_repaired_and_renders_again(manager_client, manager_browser, contact):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's jsonb refuses a lone surrogate, so no such row can exist there")
    from conversations.safetext import repair_stored_surrogates  # the function the 0002 migration runs

    Contact.objects.filter(pk=contact.pk).update(attributes={"note": "half \ud83d an emoji", "ok": "😀"})
    repaired = repair_stored_surrogates(Contact, ["attributes"], connection)
    assert repaired == 1
    response = manager_client.get(f"/api/contacts/{contact.pk}/")
    assert response.status_code == 200
    assert response.json()["attributes"] == {"note": "half \ufffd an emoji", "ok": "😀"}
    assert manager_client.get("/api/contacts/?search=Ada").status_code == 200
    assert manager_browser.get(f"/admin/conversations/contact/{contact.pk}/change/").status_code == 200
    assert manager_browser.get("/admin/conversations/contact/").status_code == 200


@pytest.mark.parametrize("value", ["half \ud83d", "nul\x00", json.loads(nested(900))])
def test_the_services_refuse_what_the_edges_refuse(contact, value):
    """A workflow step writes through the services with data from elsewhere (an HTTP response): same rule."""
    from django.core.exceptions import ValidationError

    from conversations import services

    with pytest.raises(ValidationError) as refused:
        services.contact_update(contact=contact, attributes_patch={"from_crm": value})
    assert "attributes" in refused.value.message_dict
    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "plan": "enterprise"}


def test_a_body_over_the_upload_limit_is_refused_before_it_is_decoded(manager_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
    raw = json.dumps({"name": "Grace", "attributes": {"a": "x" * 1_000_000}})
    response = post_raw(manager_client, "POST", "/api/contacts/", raw)
    assert response.status_code == 400
    assert response.json() == {"detail": "The body is larger than 1000000 bytes."}
    assert not Contact.objects.filter(name="Grace").exists()


def test_the_parser_itself_stops_reading_at_the_upload_limit(settings):
    """When DRF reads the raw stream (nothing read the body before), the parser is what enforces the limit."""
    import io

    from django.core.exceptions import RequestDataTooBig

    from conversations.api.parsers import SafeJSONParser

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    stream = io.BytesIO(json.dumps({"a": "x" * 5_000}).encode())
    with pytest.raises(RequestDataTooBig):
        SafeJSONParser().parse(stream, "application/json", {})
    assert stream.tell() == 1_001
    assert SafeJSONParser().parse(io.BytesIO(b'{"a": 1}'), "application/json", {}) == {"a": 1}
