"""Speech to text for the `transcribe` step: audio preparation and the backends behind one small interface.

Every backend gets the same input, 16 kHz mono 16-bit PCM (`prepare_audio` turns an uploaded file into it: a WAV
already in that shape is read with the standard library, anything else goes through `sox`), and returns text.

- `pocketsphinx` (the default): offline, in process, with the US English model shipped in the pocketsphinx wheel.
- `cloud`: a Google-Speech-style REST API (`POST {HELPDESK_SPEECH_CLOUD_URL}/v1/speech:recognize`), sent through
  the one outbound client, so the SSRF guard, timeouts and the step's Idempotency-Key apply and failures come back
  as `OutboundError` for the step to retry or fail.

A recording that is not audio raises `AudioError`; a backend that cannot serve the request raises `SpeechError`.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any, ClassVar, Protocol

from django.core.exceptions import ImproperlyConfigured

from conversations import extras
from conversations.conf import helpdesk_setting
from workflows.outbound.client import OutboundRequest, send

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2  # bytes: 16-bit signed little-endian
CONVERT_TIMEOUT_SECONDS = 300
# File types sox is told about when the file name has no usable extension.
SUFFIX_BY_CONTENT_TYPE = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/aiff": "aiff",
    "audio/x-aiff": "aiff",
    "audio/basic": "au",
}


class SpeechError(Exception):
    """Transcription cannot be done as asked (unknown backend, unsupported language, misconfiguration)."""


class AudioError(SpeechError):
    """The recording is not audio this system can read."""


@dataclass(frozen=True)
class Audio:
    """Speech ready for a backend: 16 kHz mono 16-bit little-endian PCM, no header."""

    pcm: bytes

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (SAMPLE_WIDTH * SAMPLE_RATE)


@dataclass(frozen=True)
class TranscriptionOptions:
    """What the step asks for; a backend uses what it understands (`model` and `enhanced` are cloud options)."""

    language: str = "en-US"
    model: str = "default"
    enhanced: bool = False
    idempotency_key: str | None = None


class SpeechBackend(Protocol):
    """A speech-to-text engine: `name` is what Transcript.backend records."""

    name: str

    def check_language(self, language: str) -> str | None:
        """Why this backend cannot transcribe `language`, or None when it can."""

    def transcribe(self, audio: Audio, options: TranscriptionOptions) -> str:
        """The words spoken in `audio` ("" when no speech is recognised)."""


# Audio -------------------------------------------------------------------------------------------------------


def prepare_audio(data: bytes, *, filename: str = "", content_type: str = "") -> Audio:
    """Turn an uploaded recording into 16 kHz mono 16-bit PCM; raise AudioError for anything that is not audio."""
    if not data:
        raise AudioError("The recording is empty.")
    pcm = _pcm_from_plain_wav(data)
    if pcm is None:
        pcm = _pcm_with_sox(data, _suffix(filename, content_type))
    if not pcm:
        raise AudioError("The recording has no audio samples.")
    return Audio(pcm=pcm)


def _pcm_from_plain_wav(data: bytes) -> bytes | None:
    """The samples of a WAV that is already 16 kHz mono 16-bit PCM (no conversion needed), else None."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            shape = (reader.getnchannels(), reader.getsampwidth(), reader.getframerate(), reader.getcomptype())
            if shape != (1, SAMPLE_WIDTH, SAMPLE_RATE, "NONE"):
                return None
            return reader.readframes(reader.getnframes())
    except (wave.Error, EOFError):
        return None


def _suffix(filename: str, content_type: str) -> str:
    """The file type sox should read: the name's extension, else one derived from the content type."""
    extension = PurePath(filename).suffix.lstrip(".").lower()
    if re.fullmatch(r"[a-z0-9]{1,5}", extension):
        return extension
    return SUFFIX_BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower(), "")


def _pcm_with_sox(data: bytes, suffix: str) -> bytes:
    """Convert any format sox reads (WAV of other shapes, FLAC, Ogg, MP3 with its plugin...) to the PCM we need."""
    sox = shutil.which("sox")
    if sox is None:
        raise AudioError("Only 16 kHz mono 16-bit WAV can be read without sox; install sox to convert other audio.")
    with tempfile.NamedTemporaryFile(suffix=f".{suffix}" if suffix else "") as source:
        source.write(data)
        source.flush()
        command = [
            sox,
            "-V1",
            source.name,
            "-t",
            "raw",
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-L",
            "-",
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=CONVERT_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AudioError(f"Converting the recording took more than {CONVERT_TIMEOUT_SECONDS}s.") from exc
    if done.returncode != 0:
        raise AudioError(f"Not an audio file that can be read ({_sox_reason(done, source.name)}).")
    return done.stdout


def _sox_reason(done: subprocess.CompletedProcess, path: str) -> str:
    """sox's last complaint without its prefixes and our temporary file's name, e.g. "WAVE: RIFF header not found"."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return f"sox exited with {done.returncode}"
    reason = re.sub(r"^sox FAIL \w+: ", "", lines[-1])
    reason = re.sub(r"^can't open input file `[^']*': ", "", reason)
    return reason.replace(path, "the recording")


# Backends ----------------------------------------------------------------------------------------------------


class PocketsphinxBackend:
    """Offline recognition with pocketsphinx's bundled US English model (no network, no account).

    Short recordings decode as one utterance, which recognises best; longer ones are split at pauses by
    pocketsphinx's voice activity detector so memory and latency stay bounded.
    """

    name: ClassVar[str] = "pocketsphinx"
    _lock = threading.Lock()  # one decoder per process, and a decoder is not thread-safe

    def check_language(self, language: str) -> str | None:
        if language.lower() == "en" or language.lower().startswith("en-"):
            return None
        return (
            f'The embedded speech backend (pocketsphinx) knows English only, not "{language}"; '
            "use the cloud backend for other languages."
        )

    def transcribe(self, audio: Audio, options: TranscriptionOptions) -> str:
        problem = self.check_language(options.language)
        if problem:
            raise SpeechError(problem)
        with self._lock:
            decoder = _decoder()
            if audio.seconds <= helpdesk_setting("SPEECH_SEGMENT_SECONDS"):
                return _decode(decoder, audio.pcm)
            return " ".join(filter(None, (_decode(decoder, segment) for segment in _speech_segments(audio.pcm))))


def _pocketsphinx() -> Any:
    """The pocketsphinx module (the [speech] extra); without it the step fails naming the install line."""
    try:
        return extras.require("speech")
    except ImproperlyConfigured as exc:
        raise SpeechError(str(exc)) from exc


@lru_cache(maxsize=1)
def _decoder() -> Any:
    """The pocketsphinx decoder, loaded once per process (loading the model takes about a second)."""
    return _pocketsphinx().Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")


def _decode(decoder: Any, pcm: bytes) -> str:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr.strip() if hypothesis is not None else ""


def _speech_segments(pcm: bytes) -> list[bytes]:
    return [segment.pcm for segment in _pocketsphinx().Segmenter(sample_rate=SAMPLE_RATE).segment(io.BytesIO(pcm))]


class CloudBackend:
    """A Google-Speech-style REST API (v1 `speech:recognize`) at HELPDESK_SPEECH_CLOUD_URL.

    Synchronous recognition: Google's own service accepts up to about one minute of audio this way.
    """

    name: ClassVar[str] = "cloud"

    def check_language(self, language: str) -> str | None:
        return None  # the service decides; an unknown code comes back as its 400 error

    def request(self, audio: Audio, options: TranscriptionOptions) -> OutboundRequest:
        """The recognize call: raw LINEAR16 audio, base64 in the body, the API key (if any) as a header."""
        base_url = helpdesk_setting("SPEECH_CLOUD_URL")
        if not base_url:
            raise SpeechError("The cloud speech backend needs HELPDESK_SPEECH_CLOUD_URL.")
        headers = (
            {"X-Goog-Api-Key": helpdesk_setting("SPEECH_CLOUD_API_KEY")}
            if helpdesk_setting("SPEECH_CLOUD_API_KEY")
            else {}
        )
        body = {
            "config": {
                "encoding": "LINEAR16",
                "sampleRateHertz": SAMPLE_RATE,
                "audioChannelCount": 1,
                "languageCode": options.language,
                "model": options.model,
                "useEnhanced": options.enhanced,
            },
            "audio": {"content": base64.b64encode(audio.pcm).decode("ascii")},
        }
        return OutboundRequest(
            method="POST",
            url=f"{base_url.rstrip('/')}/v1/speech:recognize",
            headers=headers,
            json_body=body,
            timeout=helpdesk_setting("SPEECH_TIMEOUT_SECONDS"),
        )

    def transcribe(self, audio: Audio, options: TranscriptionOptions) -> str:
        response = send(self.request(audio, options), key=options.idempotency_key)
        return transcript_from_response(response.json(), response.excerpt)


def transcript_from_response(body: Any, excerpt: str = "") -> str:
    """The best alternative of every result, joined ("" when the service heard no speech)."""
    if not isinstance(body, dict):
        raise SpeechError(f"The speech service did not answer with a JSON object: {excerpt[:200]!r}")
    parts = []
    for result in body.get("results") or []:
        alternatives = result.get("alternatives") if isinstance(result, dict) else None
        if alternatives and isinstance(alternatives[0], dict):
            parts.append(str(alternatives[0].get("transcript", "")).strip())
    return " ".join(part for part in parts if part)


BACKENDS: dict[str, SpeechBackend] = {backend.name: backend for backend in (PocketsphinxBackend(), CloudBackend())}


def get_backend(name: str | None = None) -> SpeechBackend:
    """The backend called `name`, or the configured default (HELPDESK_SPEECH_BACKEND)."""
    name = name or helpdesk_setting("SPEECH_BACKEND")
    try:
        return BACKENDS[name]
    except KeyError:
        raise SpeechError(f'Unknown speech backend "{name}"; use one of: {", ".join(BACKENDS)}.') from None
