"""The media plane: a forwarding SFU on aiortc for the video tables (tafels) of a summit.

Encoded VP8/Opus is forwarded, never decoded or re-encoded. See ``docs/media.md``.
"""

from __future__ import annotations

from .errors import (
    AccessDenied,
    MediaError,
    MediaValueError,
    ProtocolError,
    UnknownParticipant,
    WorkerUnavailable,
)
from .layout import assign_slots
from .protocol import (
    VERSION,
    ClientMessage,
    WorkerRequest,
    parse_client_message,
    parse_server_message,
    parse_worker_request,
    server_message,
)
from .speaking import SpeakingMeter, TableSpeaking, gini, table_speaking
from .supervisor import MediaSupervisor
from .worker import IceServer, MediaConfig, MediaEvent, MediaWorker

__all__ = [
    "AccessDenied",
    "ClientMessage",
    "IceServer",
    "MediaConfig",
    "MediaError",
    "MediaEvent",
    "MediaSupervisor",
    "MediaValueError",
    "MediaWorker",
    "ProtocolError",
    "SpeakingMeter",
    "TableSpeaking",
    "UnknownParticipant",
    "VERSION",
    "WorkerRequest",
    "WorkerUnavailable",
    "assign_slots",
    "gini",
    "parse_client_message",
    "parse_server_message",
    "parse_worker_request",
    "server_message",
    "table_speaking",
]
