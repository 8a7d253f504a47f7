"""A media worker's settings and events: plain data, light to import (no aiortc), so the app,
the CLI and the supervisor can name them without loading the media stack."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import MediaValueError
from .protocol import is_valid_id


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server handed to every peer connection (e.g. coturn on 443/TLS)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class MediaConfig:
    """Settings of a media worker; JSON-serialisable so a supervisor can pass them on."""

    ice_servers: tuple[IceServer, ...] = ()
    host_addresses: tuple[str, ...] | None = None
    """Only offer these addresses as ICE host candidates (tests: ``("127.0.0.1",)``)."""
    keyframe_interval: float = 0.5
    inline_frames: bool = True
    """Forward frames straight from aiortc's jitter buffer; ``False`` reads them from the remote
    track through the passthrough decoder thread (one thread hop per frame, ~2x the cost)."""
    video_queue: int = 8
    audio_queue: int = 25
    audio_silence_level: int | None = 90
    """Stop forwarding a microphone quieter than this RFC 6464 level (-dBov; 90 = -90 dBov)
    after ``audio_silence_hangover`` seconds; ``None`` forwards every audio packet."""
    audio_silence_hangover: float = 1.0
    speaking_threshold: int = 50
    speaking_hangover: float = 0.3
    silent_after_seconds: float = 5.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MediaConfig:
        values = dict(data)
        values["ice_servers"] = tuple(
            IceServer(
                urls=tuple(s["urls"]), username=s.get("username"), credential=s.get("credential")
            )
            for s in values.get("ice_servers", ())
        )
        if values.get("host_addresses") is not None:
            values["host_addresses"] = tuple(values["host_addresses"])
        return cls(**values)


@dataclass(frozen=True)
class MediaEvent:
    """A protocol message (``protocol.server_message``) for the participants in ``to``."""

    to: tuple[str, ...]
    message: dict[str, Any]


def _check_id(name: str, value: object) -> str:
    if not is_valid_id(value):
        raise MediaValueError(
            f"{name}: must be 1-128 characters of A-Z a-z 0-9 _ . : @ -, got {value!r}"
        )
    assert isinstance(value, str)
    return value
