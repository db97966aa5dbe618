"""`recording.uploaded` end to end: an agent uploads a call recording over the REST API, the event starts the
workflow, the `transcribe` step turns the audio into a Transcript and an internal note offline, and the next steps
read the text from `vars.transcript` to tag the conversation. Also the trigger's `channels` filter."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import services
from conversations.models import Event, Message, Transcript
from tests.support.runs import drain
from workflows.models import WorkflowRun

SAMPLE_WAV = Path(__file__).resolve().parents[1] / "data" / "printer_broken.wav"  # "My printer is broken."


@pytest.fixture
def phone_call(contact):
    return services.conversation_open(contact=contact, channel="phone", subject="Call from the front desk")


def upload(client, conversation, name="call.wav", content_type="audio/wav"):
    file = SimpleUploadedFile(name, SAMPLE_WAV.read_bytes(), content_type=content_type)
    return client.post(f"/api/conversations/{conversation.pk}/recordings/", {"file": file}, format="multipart")


def tag_workflow(make_workflow, channels=None):
    return make_workflow(
        "recording.uploaded",
        [{"type": "add_tag", "config": {"tags": ["recorded"]}}],
        trigger_config={"channels": channels} if channels else None,
    )


def test_uploaded_recording_is_transcribed_and_the_transcript_drives_the_next_steps(
    agent_client, phone_call, make_workflow
):
    workflow = make_workflow(
        "recording.uploaded",
        [
            {"type": "transcribe", "config": {"language": "en-US"}},
            {
                "type": "condition",
                "config": {"all": [{"field": "vars.transcript", "op": "contains", "value": "printer"}]},
                "on_false": "stop",
            },
            {"type": "add_tag", "config": {"tags": ["printer-issue"]}},
        ],
        trigger_config={"channels": ["phone"]},
    )
    response = upload(agent_client, phone_call)
    assert response.status_code == 201, response.content
    recording_id = response.json()["id"]
    drain()

    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "succeeded", run.error
    assert run.event.type == "recording.uploaded" and run.event.payload["recording_id"] == recording_id
    transcript = Transcript.objects.get(recording_id=recording_id)
    assert {"printer", "broken"} <= set(transcript.text.split())
    assert run.variables["transcript"] == transcript.text
    note = Message.objects.get(conversation=phone_call, internal=True)
    assert note.sender_type == "system" and transcript.text in note.body
    step = run.steps.get(position=0)
    assert step.output["transcript_id"] == transcript.pk and step.output["backend"] == "pocketsphinx"
    assert agent_client.get(f"/api/conversations/{phone_call.pk}/").json()["tags"] == ["printer-issue"]


def test_the_transcript_note_is_recorded_as_caused_by_the_workflow(agent_client, phone_call, make_workflow):
    workflow = make_workflow("recording.uploaded", [{"type": "transcribe", "config": {}}])
    upload(agent_client, phone_call)
    drain()
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
    assert Transcript.objects.count() == 1
    note_event = Event.objects.get(type="message.created", conversation=phone_call)
    assert note_event.depth == 1  # caused by the workflow, so loop limits see it


def test_channels_filter_picks_the_conversations_it_names(agent_client, contact, phone_call, make_workflow):
    workflow = tag_workflow(make_workflow, channels=["phone"])
    chat = services.conversation_open(contact=contact, channel="live_chat", subject="Voice note in chat")
    assert upload(agent_client, chat).status_code == 201
    assert upload(agent_client, phone_call).status_code == 201
    drain()
    runs = WorkflowRun.objects.filter(workflow=workflow)
    assert [run.conversation_id for run in runs] == [phone_call.pk]
    assert runs.get().status == "succeeded"


def test_without_a_filter_every_upload_starts_one_run(agent_client, phone_call, make_workflow):
    workflow = tag_workflow(make_workflow)
    upload(agent_client, phone_call)
    upload(agent_client, phone_call, name="second.wav")
    drain()
    assert WorkflowRun.objects.filter(workflow=workflow, status="succeeded").count() == 2


def test_a_file_that_is_not_audio_is_refused_at_upload_and_starts_nothing(agent_client, phone_call, make_workflow):
    workflow = tag_workflow(make_workflow)
    response = upload(agent_client, phone_call, name="notes.txt", content_type="text/plain")
    assert response.status_code == 400 and "file" in response.json()
    drain()
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()
    assert not Event.objects.filter(type="recording.uploaded").exists()
