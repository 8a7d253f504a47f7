"""The media plane: a forwarding SFU on aiortc for the video tables (tafels) of a summit.

Encoded VP8/Opus is forwarded, never decoded or re-encoded. See ``docs/media.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import IceServer, MediaConfig, MediaEvent
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

if TYPE_CHECKING:
    from .worker import MediaWorker


def __getattr__(name: str) -> Any:
    """``MediaWorker`` is loaded on first use: it brings aiortc and PyAV, which the app, the CLI
    and the supervisor do not need until a worker runs in this process."""
    if name == "MediaWorker":
        from .worker import MediaWorker

        return MediaWorker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
