"""`transcribe`: turn the event's recording into text (docs/reference/steps.md). Only valid under the
`recording.uploaded` trigger.

The audio is converted and recognised outside any database transaction (it takes seconds; the step is not
`transactional`), then one service call stores the Transcript row and posts it as an internal note. The text is
saved to `vars.transcript` (or `vars.<save_as>`) for the steps after it. A recording that is not audio fails the
step with the reason; a cloud service that is down or rate-limiting is retried like any outbound call.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import EventType
from conversations.conf import helpdesk_setting
from conversations.models import Recording, Transcript
from workflows.integrations import speech
from workflows.outbound.client import OutboundError, idempotency_key
from workflows.outbound.ssrf import BlockedDestination
from workflows.steps.outbound import outcome_for_error
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

TRIGGER = EventType.RECORDING_UPLOADED
NO_RECORDING = "The event has no recording to transcribe (recording_id is missing or the recording was deleted)."


@step_types.register
class TranscribeStep(StepType):
    type = "transcribe"
    label = _("Transcribe recording")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "language": {"type": "string", "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
            "model": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
            "enhanced": {"type": "boolean"},
            "backend": {"enum": list(speech.BACKENDS)},
            "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        },
    }
    transactional = False
    uses_secrets = True  # the cloud backend's API key must never reach the run log

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        """Only a recording event carries audio; the chosen backend must know the language."""
        if info.trigger_type != TRIGGER:
            return [
                (
                    "",
                    gettext('A transcribe step needs the "%(needed)s" trigger, not "%(given)s".')
                    % {"needed": TRIGGER, "given": info.trigger_type or "(none)"},
                )
            ]
        try:
            backend = speech.get_backend(config.get("backend"))
        except speech.SpeechError as exc:  # a misconfigured HELPDESK_SPEECH_BACKEND
            return [("backend", str(exc))]
        problem = backend.check_language(_options(config).language)
        return [("language", problem)] if problem else []

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        recording = _recording(ctx)
        options = _options(config)
        return {
            "would": str(self.label),
            "recording_id": recording.pk if recording else None,
            "backend": config.get("backend") or helpdesk_setting("SPEECH_BACKEND"),
            "language": options.language,
            "model": options.model,
            "enhanced": options.enhanced,
            **({} if recording else {"error": NO_RECORDING}),
        }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        recording = _recording(ctx)
        if recording is None:
            return StepOutcome.failed(NO_RECORDING)
        earlier = _transcript_of_an_earlier_attempt(ctx, recording)
        if earlier is not None:  # the worker died after storing it: do not transcribe (and post the note) twice
            return _outcome(config, earlier, seconds=None)
        options = _options(config, key=_request_key(ctx))
        attempts = ctx.step_run.attempts if ctx.step_run is not None else 1
        try:
            backend = speech.get_backend(config.get("backend"))
            audio = speech.prepare_audio(
                _read(recording), filename=recording.file.name or "", content_type=recording.content_type
            )
            text = backend.transcribe(audio, options)
        except speech.AudioError as exc:
            return StepOutcome.failed(f"Recording {recording.pk} cannot be transcribed. {exc}")
        except speech.SpeechError as exc:
            return StepOutcome.failed(str(exc))
        except (OutboundError, BlockedDestination) as exc:
            return outcome_for_error(exc, attempts)
        with transaction.atomic():  # the transcript and the step's note of it commit together
            transcript = services.transcript_create(
                recording=recording, text=text, language=options.language, backend=backend.name, depth=ctx.depth
            )
            if ctx.step_run is not None and ctx.step_run.pk:
                ctx.step_run.output = {**(ctx.step_run.output or {}), "transcript_id": transcript.pk}
                ctx.step_run.save(update_fields=["output"])
        return _outcome(config, transcript, seconds=round(audio.seconds, 2))


def _outcome(config: dict[str, Any], transcript: Transcript, seconds: float | None) -> StepOutcome:
    return StepOutcome(
        output={
            "transcript_id": transcript.pk,
            "recording_id": transcript.recording_id,
            "backend": transcript.backend,
            "language": transcript.language,
            "seconds": seconds,
            "text": transcript.text,
        },
        variables={config.get("save_as") or "transcript": transcript.text},
    )


def _transcript_of_an_earlier_attempt(ctx: StepContext, recording: Recording) -> Transcript | None:
    transcript_id = (ctx.step_run.output or {}).get("transcript_id") if ctx.step_run is not None else None
    return Transcript.objects.filter(pk=transcript_id, recording=recording).first() if transcript_id else None


def _options(config: dict[str, Any], key: str | None = None) -> speech.TranscriptionOptions:
    return speech.TranscriptionOptions(
        language=config.get("language") or helpdesk_setting("SPEECH_LANGUAGE"),
        model=config.get("model") or "default",
        enhanced=bool(config.get("enhanced", False)),
        idempotency_key=key,
    )


def _recording(ctx: StepContext) -> Recording | None:
    """The recording the event is about (a dry run's sample event may name none)."""
    recording_id = (getattr(ctx.event, "payload", None) or {}).get("recording_id")
    if not isinstance(recording_id, int) or isinstance(recording_id, bool):
        return None
    return Recording.objects.select_related("conversation").filter(pk=recording_id).first()


def _read(recording: Recording) -> bytes:
    """The recording's bytes; a file missing from storage reads as an AudioError, not a crash."""
    try:
        with recording.file.open("rb") as handle:
            data: bytes = handle.read()
            return data
    except (OSError, ValueError) as exc:
        raise speech.AudioError(f"Its file cannot be read ({type(exc).__name__}).") from exc


def _request_key(ctx: StepContext) -> str:
    """Stable per run step, so a retried cloud request is recognisable as the same one."""
    return idempotency_key(
        ctx.run.pk if ctx.run is not None else "dry-run", ctx.step_run.position if ctx.step_run is not None else 0
    )
