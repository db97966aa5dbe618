"""What an uploaded recording must look like to be taken as audio: the signature its first bytes carry.

The declared content type is the client's claim; the first bytes are the file's. An upload whose bytes match none of
the containers the speech backends can read (5 MB of zeros sent as `audio/wav`, a text file renamed `.wav`) is
refused at the API edge instead of being stored and failing later in a `transcribe` step.
"""

from __future__ import annotations

from collections.abc import Callable

HEADER_BYTES = 16


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _mpeg_frame(head: bytes) -> bool:
    """An MP3 or ADTS AAC frame starts with eleven (MP3) or twelve (AAC) set sync bits."""
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


# Container name -> test on the first HEADER_BYTES bytes.
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "WAV": _riff(b"WAVE"),
    "AIFF": lambda head: head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"),
    "MP3 (ID3)": lambda head: head[:3] == b"ID3",
    "MP3/AAC frame": _mpeg_frame,
    "Ogg": lambda head: head[:4] == b"OggS",
    "FLAC": lambda head: head[:4] == b"fLaC",
    "MP4/M4A/3GP": lambda head: head[4:8] == b"ftyp",
    "WebM/Matroska": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    "AMR": lambda head: head[:5] == b"#!AMR",
}


def audio_container(head: bytes) -> str | None:
    """The audio container whose signature `head` (the file's first bytes) carries, or None."""
    return next((name for name, matches in SIGNATURES.items() if matches(head)), None)


def audio_problem(head: bytes) -> str | None:
    """Why these first bytes are not a recording we can keep, or None when they are."""
    if audio_container(head) is not None:
        return None
    return f"The file is not audio: its bytes match none of {', '.join(SIGNATURES)}."
