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
from .nodes import (
    DEAD_AFTER,
    NodeInfo,
    NodeRegistry,
    SeatClaim,
    node_call,
    node_key,
    sign_seat,
)
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
    "DEAD_AFTER",
    "IceServer",
    "MediaConfig",
    "MediaError",
    "MediaEvent",
    "MediaSupervisor",
    "MediaValueError",
    "MediaWorker",
    "NodeInfo",
    "NodeRegistry",
    "ProtocolError",
    "SeatClaim",
    "SpeakingMeter",
    "TableSpeaking",
    "UnknownParticipant",
    "VERSION",
    "WorkerRequest",
    "WorkerUnavailable",
    "assign_slots",
    "gini",
    "node_call",
    "node_key",
    "parse_client_message",
    "parse_server_message",
    "parse_worker_request",
    "server_message",
    "sign_seat",
    "table_speaking",
]
