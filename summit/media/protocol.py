"""The media signalling protocol, version 1 — pure validation, no I/O.

Three legs speak it (see ``docs/media.md``):

- browser → control plane (``parse_client_message``): ``publish``, ``subscribe``, ``leave``,
  ``ping``. The browser never names a participant or a table: the control plane knows both from
  the authenticated session.
- control plane → browser (``server_message``): ``answer``, ``layout``, ``visitor``,
  ``reconnect``, ``speaking``, ``error``, ``pong``.
- control plane → media worker (``parse_worker_request`` / ``worker_request``), one JSON object
  per line: ``{"v":1,"id":7,"op":"publish","participant_id":"p1","table_id":"t97","sdp":"v=0…"}``
  answered by ``{"v":1,"id":7,"ok":true,"result":…}`` or ``{"v":1,"id":7,"ok":false,
  "error":{"code":"access_denied","message":…}}``; workers push ``{"v":1,"event":{…},"to":[…]}``.

Every message is a JSON object with ``"v": 1`` and a ``type`` (or ``op``). Unknown fields are
refused so that typos fail loudly. Errors raise ``ProtocolError`` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ProtocolError

VERSION = 1
MAX_MESSAGE_CHARS = 256 * 1024
MAX_SDP_CHARS = 128 * 1024
MAX_SLOTS = 16
_ID_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")

Validator = Callable[[str, Any], None]


def _sdp(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ProtocolError(name, f"must be a string, got {type(value).__name__}")
    if len(value) > MAX_SDP_CHARS:
        raise ProtocolError(name, f"longer than {MAX_SDP_CHARS} characters")
    if not value.startswith("v=0"):
        raise ProtocolError(name, "is not an SDP description (must start with 'v=0')")


def _ident(name: str, value: Any) -> None:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ProtocolError(
            name, f"must be 1-128 characters of A-Z a-z 0-9 _ . : @ -, got {value!r}"
        )


def is_valid_id(value: object) -> bool:
    """Participant, table and round ids: 1-128 characters of ``A-Z a-z 0-9 _ . : @ -``."""
    return isinstance(value, str) and _ID_RE.match(value) is not None


def _optional_ident(name: str, value: Any) -> None:
    if value is not None:
        _ident(name, value)


def _text(limit: int) -> Validator:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, str) or len(value) > limit:
            raise ProtocolError(name, f"must be a string of at most {limit} characters")

    return check


def _choice(*options: str) -> Validator:
    def check(name: str, value: Any) -> None:
        if value not in options:
            raise ProtocolError(name, f"must be one of {', '.join(options)}; got {value!r}")

    return check


def _boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ProtocolError(name, f"must be true or false, got {value!r}")


def _request_id(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ProtocolError(name, "must be an integer or a string")
    if isinstance(value, str) and len(value) > 64:
        raise ProtocolError(name, "must be at most 64 characters")


def _number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ProtocolError(name, f"must be a number >= 0, got {value!r}")


def _slots(name: str, value: Any) -> None:
    if not isinstance(value, list) or len(value) > MAX_SLOTS:
        raise ProtocolError(name, f"must be a list of at most {MAX_SLOTS} slots")
    for i, slot in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(slot, dict) or set(slot) != {"index", "participant_id"}:
            raise ProtocolError(where, "must be {'index': int, 'participant_id': id or null}")
        if isinstance(slot["index"], bool) or slot["index"] != i:
            raise ProtocolError(f"{where}.index", f"must be {i}")
        _optional_ident(f"{where}.participant_id", slot["participant_id"])


def _mapping(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ProtocolError(name, "must be an object")


# type -> field -> (required, validator). "v", "type" and "id" are handled for every message.
_CLIENT: dict[str, dict[str, tuple[bool, Validator]]] = {
    "publish": {"sdp": (True, _sdp)},
    "subscribe": {"sdp": (True, _sdp)},
    "leave": {},
    "ping": {},
}

_SERVER: dict[str, dict[str, tuple[bool, Validator]]] = {
    "answer": {"for": (True, _choice("publish", "subscribe")), "sdp": (True, _sdp)},
    "layout": {"table_id": (True, _optional_ident), "slots": (True, _slots)},
    "visitor": {
        "table_id": (True, _ident),
        "moderator_id": (True, _ident),
        "present": (True, _boolean),
    },
    "reconnect": {"reason": (True, _choice("moved", "worker_restarted", "peer_failed"))},
    "speaking": {"table": (True, _mapping)},
    "error": {
        "code": (
            True,
            _choice("protocol", "access_denied", "unknown_participant", "unavailable", "internal"),
        ),
        "message": (True, _text(1000)),
        "field": (False, _text(200)),
    },
    "pong": {},
}

_WORKER: dict[str, dict[str, tuple[bool, Validator]]] = {
    "publish": {"participant_id": (True, _ident), "table_id": (True, _ident), "sdp": (True, _sdp)},
    "subscribe": {
        "participant_id": (True, _ident),
        "sdp": (True, _sdp),
        "table_id": (False, _optional_ident),
    },
    "assign": {"participant_id": (True, _ident), "table_id": (True, _ident)},
    "visit": {"moderator_id": (True, _ident), "table_id": (True, _optional_ident)},
    "leave": {"participant_id": (True, _ident)},
    "layout": {"participant_id": (True, _ident)},
    "speaking": {"table_id": (True, _ident), "min_seconds": (False, _number)},
    "begin_round": {"round_id": (True, _ident)},
    "stats": {},
    "ping": {},
}

CLIENT_TYPES = frozenset(_CLIENT)
SERVER_TYPES = frozenset(_SERVER)
WORKER_OPS = frozenset(_WORKER)


@dataclass(frozen=True)
class ClientMessage:
    """A validated browser → control plane message."""

    type: str
    id: int | str | None = None
    sdp: str | None = None


@dataclass(frozen=True)
class WorkerRequest:
    """A validated control plane → worker request."""

    op: str
    id: int
    args: dict[str, Any]


def _load(raw: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("", "message is not UTF-8") from exc
    if not isinstance(raw, str):
        raise ProtocolError("", f"message must be JSON text, got {type(raw).__name__}")
    if len(raw) > MAX_MESSAGE_CHARS:
        raise ProtocolError("", f"message longer than {MAX_MESSAGE_CHARS} characters")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProtocolError("", f"message is not valid JSON ({exc.msg} at {exc.pos})") from exc
    if not isinstance(value, dict):
        raise ProtocolError("", "message must be a JSON object")
    return value


def _check(
    message: dict[str, Any],
    schemas: dict[str, dict[str, tuple[bool, Validator]]],
    key: str,
    extra: frozenset[str],
) -> tuple[str, dict[str, tuple[bool, Validator]]]:
    if "v" not in message:
        raise ProtocolError("v", f"missing; this server speaks protocol version {VERSION}")
    if message["v"] != VERSION or isinstance(message["v"], bool):
        raise ProtocolError(
            "v", f"unsupported protocol version {message['v']!r}; this server speaks {VERSION}"
        )
    kind = message.get(key)
    if not isinstance(kind, str):
        raise ProtocolError(key, "missing or not a string")
    if kind not in schemas:
        raise ProtocolError(key, f"unknown {key} {kind!r}; expected one of {sorted(schemas)}")
    schema = schemas[kind]
    allowed = {"v", key} | set(schema) | extra
    for name in message:
        if name not in allowed:
            raise ProtocolError(name, f"unexpected field in a {kind!r} message")
    for name, (required, validate) in schema.items():
        if name not in message:
            if required:
                raise ProtocolError(name, f"missing from a {kind!r} message")
            continue
        validate(name, message[name])
    return kind, schema


def parse_client_message(raw: str | bytes | Mapping[str, Any]) -> ClientMessage:
    """Validate a browser → control plane message."""
    message = _load(raw)
    kind, _ = _check(message, _CLIENT, "type", frozenset({"id"}))
    if "id" in message:
        _request_id("id", message["id"])
    return ClientMessage(type=kind, id=message.get("id"), sdp=message.get("sdp"))


def server_message(type_: str, re: int | str | None = None, **fields: Any) -> dict[str, Any]:
    """Build a validated control plane → browser message (``re`` echoes the request ``id``)."""
    message: dict[str, Any] = {"v": VERSION, "type": type_, **fields}
    if re is not None:
        message["re"] = re
    parse_server_message(message)
    return message


def parse_server_message(raw: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """Validate a control plane → browser message (used by bots and tests)."""
    message = _load(raw)
    _check(message, _SERVER, "type", frozenset({"re"}))
    if "re" in message:
        _request_id("re", message["re"])
    return message


def parse_worker_request(raw: str | bytes | Mapping[str, Any]) -> WorkerRequest:
    """Validate a control plane → worker request."""
    message = _load(raw)
    op, _ = _check(message, _WORKER, "op", frozenset({"id"}))
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id < 0:
        raise ProtocolError("id", "must be a non-negative integer")
    args = {k: v for k, v in message.items() if k not in ("v", "op", "id")}
    return WorkerRequest(op=op, id=request_id, args=args)


def worker_request(op: str, request_id: int, **args: Any) -> dict[str, Any]:
    """Build a validated control plane → worker request."""
    message: dict[str, Any] = {"v": VERSION, "op": op, "id": request_id, **args}
    parse_worker_request(message)
    return message


def encode(message: Mapping[str, Any]) -> str:
    """Serialise a message as one compact JSON line (no newline inside)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
