"""The `transcribe` step and its speech backends: offline pocketsphinx on real speech (a committed WAV, and one made
with espeak-ng at test time), the cloud backend against a local fake of a Google-Speech-style API (exact request
JSON, retries, errors), bad audio failing the step with a reason, and the definition checks."""

import base64
import datetime as dt
import shutil
import subprocess
import wave
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import clock, services
from conversations.models import Message, Transcript
from tests.infra.plugin import require_service
from tests.support.runs import definition_errors, drain, only_run
from workflows.engine.sweep import resume_due_runs
from workflows.integrations import speech

SAMPLE_WAV = Path(__file__).resolve().parents[2] / "data" / "printer_broken.wav"  # espeak-ng: "My printer is broken."
RECOGNIZE = "/v1/speech:recognize"


def sample_pcm() -> bytes:
    with wave.open(str(SAMPLE_WAV), "rb") as reader:
        return reader.readframes(reader.getnframes())


def spoken_wav(tmp_path: Path, text: str) -> bytes:
    """Speech synthesised now with espeak-ng, left at espeak's own 22 kHz so the step has to convert it."""
    tools = {name: shutil.which(name) for name in ("espeak-ng", "sox")}
    require_service(
        "espeak-ng and sox",
        all(tools.values()),
        f"missing: {', '.join(name for name, path in tools.items() if not path)}",
    )
    target = tmp_path / "spoken.wav"
    subprocess.run([tools["espeak-ng"], "-v", "en-us+f2", "-s", "130", "-w", str(target), text], check=True)
    return target.read_bytes()


@pytest.fixture
def phone_call(contact):
    return services.conversation_open(contact=contact, channel="phone", subject="Call from the front desk")


def attach(conversation, data: bytes, name: str = "call.wav", content_type: str = "audio/wav"):
    return services.recording_attach(
        conversation=conversation, file=SimpleUploadedFile(name, data, content_type=content_type)
    )


def transcribe_workflow(make_workflow, **config):
    return make_workflow("recording.uploaded", [{"type": "transcribe", "config": config}])


# Offline backend -----------------------------------------------------------------------------------------------


def test_embedded_backend_recognises_the_committed_recording():
    audio = speech.prepare_audio(SAMPLE_WAV.read_bytes(), filename="printer_broken.wav")
    text = speech.get_backend("pocketsphinx").transcribe(audio, speech.TranscriptionOptions())
    assert {"printer", "broken"} <= set(text.split())


def test_speech_made_at_test_time_is_converted_and_transcribed(phone_call, make_workflow, tmp_path):
    data = spoken_wav(tmp_path, "My printer is broken. Please send a technician today.")
    with wave.open(str(tmp_path / "spoken.wav"), "rb") as reader:
        assert reader.getframerate() != speech.SAMPLE_RATE  # really exercises the conversion
    workflow = transcribe_workflow(make_workflow)
    recording = attach(phone_call, data)
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    transcript = Transcript.objects.get(recording=recording)
    assert {"printer", "broken", "technician"} <= set(transcript.text.split())
    assert transcript.backend == "pocketsphinx" and transcript.language == "en-US"
    assert run.variables["transcript"] == transcript.text


def test_a_recording_longer_than_the_segment_limit_is_transcribed_in_full(settings):
    settings.HELPDESK_SPEECH_SEGMENT_SECONDS = 1  # so this 5-second clip is split at its pause
    pause = b"\x00\x00" * speech.SAMPLE_RATE  # one second of silence
    audio = speech.Audio(pcm=sample_pcm() + pause + sample_pcm())
    text = speech.get_backend("pocketsphinx").transcribe(audio, speech.TranscriptionOptions())
    assert text.split().count("broken") == 2


def test_embedded_backend_refuses_a_language_it_has_no_model_for():
    with pytest.raises(speech.SpeechError, match="English only"):
        speech.get_backend("pocketsphinx").transcribe(
            speech.Audio(pcm=sample_pcm()), speech.TranscriptionOptions(language="de-DE")
        )


# Bad audio -----------------------------------------------------------------------------------------------------


def test_a_recording_that_is_not_audio_fails_the_step_with_the_reason(phone_call, make_workflow):
    workflow = transcribe_workflow(make_workflow)
    recording = attach(phone_call, b"RIFF? no, just a text file pretending to be audio", name="call.wav")
    drain()
    run = only_run(workflow)
    step = run.steps.get(position=0)
    assert run.status == "failed" and step.status == "failed"
    assert step.error.startswith(f"Recording {recording.pk} cannot be transcribed.")
    assert ("Not an audio file" in step.error) or ("install sox" in step.error)
    assert "Traceback" not in step.error and not Transcript.objects.exists()


def test_an_empty_recording_fails_the_step(phone_call, make_workflow):
    workflow = transcribe_workflow(make_workflow)
    attach(phone_call, b"", name="call.wav")
    drain()
    step = only_run(workflow).steps.get(position=0)
    assert step.status == "failed" and "The recording is empty." in step.error


def test_a_recording_whose_file_is_gone_fails_the_step(phone_call, make_workflow):
    workflow = transcribe_workflow(make_workflow)
    recording = attach(phone_call, SAMPLE_WAV.read_bytes())
    recording.file.storage.delete(recording.file.name)
    drain()
    step = only_run(workflow).steps.get(position=0)
    assert step.status == "failed" and "Its file cannot be read" in step.error


# Cloud backend -------------------------------------------------------------------------------------------------


@pytest.fixture
def cloud(settings, httpserver, allow_loopback):
    """The cloud backend pointed at a local fake of the speech API."""
    settings.HELPDESK_SPEECH_CLOUD_URL = httpserver.url_for("/")
    settings.HELPDESK_SPEECH_CLOUD_API_KEY = "speech-api-key-1"
    return httpserver


def test_cloud_backend_sends_a_google_style_recognize_request(phone_call, make_workflow, cloud):
    expected = {
        "config": {
            "encoding": "LINEAR16",
            "sampleRateHertz": 16000,
            "audioChannelCount": 1,
            "languageCode": "en-GB",
            "model": "phone_call",
            "useEnhanced": True,
        },
        "audio": {"content": base64.b64encode(sample_pcm()).decode("ascii")},
    }
    cloud.expect_oneshot_request(
        RECOGNIZE, method="POST", json=expected, headers={"X-Goog-Api-Key": "speech-api-key-1"}
    ).respond_with_json(
        {
            "results": [
                {"alternatives": [{"transcript": "my printer is broken", "confidence": 0.93}]},
                {"alternatives": [{"transcript": " please call me back"}]},
            ]
        }
    )
    workflow = transcribe_workflow(
        make_workflow, backend="cloud", language="en-GB", model="phone_call", enhanced=True, save_as="call_text"
    )
    recording = attach(phone_call, SAMPLE_WAV.read_bytes())
    drain()
    cloud.check_assertions()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    transcript = Transcript.objects.get(recording=recording)
    assert (transcript.text, transcript.backend, transcript.language) == (
        "my printer is broken please call me back",
        "cloud",
        "en-GB",
    )
    assert run.variables["call_text"] == transcript.text
    request, _ = cloud.log[0]
    assert request.headers["Idempotency-Key"]


def test_cloud_backend_retries_a_503_with_the_same_idempotency_key(phone_call, make_workflow, cloud):
    cloud.expect_oneshot_request(RECOGNIZE).respond_with_data("overloaded", status=503)
    cloud.expect_oneshot_request(RECOGNIZE).respond_with_json({"results": []})
    workflow = transcribe_workflow(make_workflow, backend="cloud")
    attach(phone_call, SAMPLE_WAV.read_bytes())
    drain()
    run = only_run(workflow)
    assert run.status == "waiting" and "HTTP 503" in run.steps.get(position=0).error
    with clock.travel(dt.timedelta(hours=1)):
        resume_due_runs(clock.now())
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    keys = {request.headers["Idempotency-Key"] for request, _ in cloud.log}
    assert len(cloud.log) == 2 and len(keys) == 1
    assert Transcript.objects.get().text == ""  # no speech recognised is a transcript too
    assert Message.objects.filter(internal=True, body__contains="(no speech recognised)").exists()


def test_cloud_backend_rejection_fails_the_step_with_status_and_body(phone_call, make_workflow, cloud):
    cloud.expect_oneshot_request(RECOGNIZE).respond_with_json(
        {"error": {"code": 400, "message": "Invalid recognition 'config': bad language code."}}, status=400
    )
    workflow = transcribe_workflow(make_workflow, backend="cloud", language="xx-XX")
    attach(phone_call, SAMPLE_WAV.read_bytes())
    drain()
    step = only_run(workflow).steps.get(position=0)
    assert step.status == "failed" and "HTTP 400" in step.error and "bad language code" in step.error
    assert step.output["status_code"] == 400 and not Transcript.objects.exists()


def test_cloud_backend_to_a_private_address_is_refused_without_allowlist(
    phone_call, make_workflow, settings, no_sockets
):
    settings.HELPDESK_SPEECH_CLOUD_URL = "http://10.0.0.8:8080"
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    workflow = transcribe_workflow(make_workflow, backend="cloud")
    attach(phone_call, SAMPLE_WAV.read_bytes())
    drain()
    step = only_run(workflow).steps.get(position=0)
    assert step.status == "failed" and step.error.startswith("Blocked destination")


# Definition checks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", ["message.created", "conversation.created", "manual", "schedule"])
def test_transcribe_is_refused_under_any_other_trigger(trigger):
    errors = definition_errors(
        {"type": "add_tag", "config": {"tags": ["x"]}}, {"type": "transcribe", "config": {}}, trigger=trigger
    )
    assert "recording.uploaded" in " ".join(errors["steps[1].config"])


def test_transcribe_is_refused_over_the_api_with_the_step_named(manager_client):
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Transcribe chats",
            "trigger": {"type": "message.created", "config": {}},
            "steps": [{"type": "transcribe", "config": {"language": "en-US"}}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "steps[0].config" in str(response.json())


def test_transcribe_under_recording_uploaded_is_valid():
    assert (
        definition_errors(
            {"type": "transcribe", "config": {"language": "en-US", "model": "phone_call", "enhanced": True}},
            trigger="recording.uploaded",
        )
        == {}
    )


def test_a_language_the_embedded_backend_lacks_is_refused_unless_the_cloud_is_chosen():
    german = {"type": "transcribe", "config": {"language": "de-DE"}}
    errors = definition_errors(german, trigger="recording.uploaded")
    assert "English only" in " ".join(errors["steps[0].config.language"])
    cloud = {"type": "transcribe", "config": {"language": "de-DE", "backend": "cloud"}}
    assert definition_errors(cloud, trigger="recording.uploaded") == {}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"language": "english please"}, "steps[0].config.language"),
        ({"model": "phone call; drop"}, "steps[0].config.model"),
        ({"enhanced": "yes"}, "steps[0].config.enhanced"),
        ({"backend": "whisper"}, "steps[0].config.backend"),
        ({"speaker": 2}, "steps[0].config"),
    ],
)
def test_bad_transcribe_config_is_refused_by_key(config, key):
    errors = definition_errors({"type": "transcribe", "config": config}, trigger="recording.uploaded")
    assert key in errors


def test_dry_run_describes_the_transcription_without_doing_it(manager_client, phone_call, make_workflow):
    workflow = transcribe_workflow(make_workflow, model="phone_call")
    recording = attach(phone_call, SAMPLE_WAV.read_bytes())
    response = manager_client.post(
        f"/api/workflows/{workflow.pk}/test/",
        {"conversation": phone_call.pk, "event": {"payload": {"recording_id": recording.pk}}},
        format="json",
    )
    assert response.status_code == 200, response.content
    step = response.json()["steps"][0]
    assert step["status"] == "would_run"
    assert step["output"] == {
        "would": "Transcribe recording",
        "recording_id": recording.pk,
        "backend": "pocketsphinx",
        "language": "en-US",
        "model": "phone_call",
        "enhanced": False,
    }
    assert not Transcript.objects.exists() and not Message.objects.filter(internal=True).exists()


def test_a_resumed_step_reuses_the_transcript_an_earlier_attempt_stored(db, monkeypatch):
    """A worker that died after storing the transcript (before recording the step's result) must not make a second
    transcript and note when the run resumes: the stored transcript id is on the step."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from conversations import services as conversation_services
    from conversations.models import Event, Transcript
    from workflows.integrations import speech
    from workflows.steps import step_types
    from workflows.steps.registry import StepContext

    contact = conversation_services.contact_create(name="Caller", phone="+14155550100")
    conversation = conversation_services.conversation_open(contact=contact, channel="phone", subject="Call")
    recording = conversation_services.recording_attach(
        conversation=conversation, file=SimpleUploadedFile("call.wav", b"RIFF....", content_type="audio/wav")
    )
    earlier = conversation_services.transcript_create(
        recording=recording, text="my printer is broken", language="en-US", backend="pocketsphinx"
    )

    class StepRunStandIn:
        pk, attempts, output = 7, 2, {"transcript_id": earlier.pk}

    def no_second_transcription(name):
        raise AssertionError("transcribed again")

    monkeypatch.setattr(speech, "get_backend", no_second_transcription)
    event = Event.objects.get(type="recording.uploaded", conversation=conversation)
    ctx = StepContext(data={}, event=event, conversation=conversation, step_run=StepRunStandIn())
    outcome = step_types.get("transcribe").execute({}, ctx)
    assert outcome.status == "succeeded"
    assert outcome.output["transcript_id"] == earlier.pk
    assert outcome.variables == {"transcript": "my printer is broken"}
    assert Transcript.objects.filter(recording=recording).count() == 1
