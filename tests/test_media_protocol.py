"""Signalling protocol v1: valid messages pass, anything else is a ProtocolError naming a field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summit.media import (
    ProtocolError,
    parse_client_message,
    parse_server_message,
    parse_worker_request,
    server_message,
)
from summit.media.protocol import MAX_SDP_CHARS, encode, worker_request

SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


def test_valid_client_messages() -> None:
    msg = parse_client_message(json.dumps({"v": 1, "type": "publish", "sdp": SDP, "id": 3}))
    assert (msg.type, msg.sdp, msg.id) == ("publish", SDP, 3)
    assert parse_client_message(b'{"v":1,"type":"leave"}').type == "leave"
    assert parse_client_message({"v": 1, "type": "subscribe", "sdp": SDP}).sdp == SDP


@pytest.mark.parametrize(
    ("raw", "field", "text"),
    [
        ("not json", "", "not valid JSON"),
        ("[1]", "", "JSON object"),
        ('{"type":"publish","sdp":"v=0"}', "v", "missing"),
        ('{"v":2,"type":"publish","sdp":"v=0"}', "v", "unsupported protocol version 2"),
        ('{"v":true,"type":"leave"}', "v", "unsupported"),
        ('{"v":1}', "type", "missing"),
        ('{"v":1,"type":"dance"}', "type", "unknown type 'dance'"),
        ('{"v":1,"type":"publish"}', "sdp", "missing"),
        ('{"v":1,"type":"publish","sdp":42}', "sdp", "must be a string"),
        ('{"v":1,"type":"publish","sdp":"hello"}', "sdp", "not an SDP"),
        ('{"v":1,"type":"leave","table_id":"t2"}', "table_id", "unexpected field"),
        ('{"v":1,"type":"leave","id":[1]}', "id", "integer or a string"),
    ],
)
def test_client_errors_name_the_field(raw: str, field: str, text: str) -> None:
    with pytest.raises(ProtocolError, match=text) as info:
        parse_client_message(raw)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_oversized_sdp_is_refused() -> None:
    big = "v=0" + "x" * MAX_SDP_CHARS
    with pytest.raises(ProtocolError, match="longer"):
        parse_client_message({"v": 1, "type": "publish", "sdp": big})


def test_server_messages_are_validated_when_built() -> None:
    layout = server_message(
        "layout",
        table_id="t97",
        slots=[{"index": 0, "participant_id": "p1"}, {"index": 1, "participant_id": None}],
    )
    assert parse_server_message(encode(layout)) == layout
    assert server_message("answer", re=4, **{"for": "publish", "sdp": SDP})["re"] == 4
    with pytest.raises(ProtocolError, match="slots\\[0\\].index"):
        server_message("layout", table_id="t1", slots=[{"index": 1, "participant_id": "p"}])
    with pytest.raises(ProtocolError, match="reason"):
        server_message("reconnect", reason="because")
    with pytest.raises(ProtocolError, match="participant_id"):
        server_message("layout", table_id="t1", slots=[{"index": 0, "participant_id": "a b"}])


def test_worker_requests() -> None:
    req = parse_worker_request(
        encode(worker_request("publish", 7, participant_id="p1", table_id="t97", sdp=SDP))
    )
    assert (req.op, req.id, req.args["table_id"]) == ("publish", 7, "t97")
    with pytest.raises(ProtocolError, match="id"):
        parse_worker_request({"v": 1, "op": "stats", "id": -1})
    with pytest.raises(ProtocolError, match="participant_id"):
        parse_worker_request(
            {"v": 1, "op": "assign", "id": 1, "participant_id": "", "table_id": "t"}
        )
    with pytest.raises(ProtocolError, match="unknown op"):
        parse_worker_request({"v": 1, "op": "drop_table", "id": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(["v", "type", "sdp", "id", "op", "table_id", "participant_id", "x"])


@given(st.dictionaries(fields, json_values | st.just(1) | st.just(SDP), max_size=5))
def test_arbitrary_messages_are_accepted_or_refused_with_protocol_error(
    message: dict[str, Any],
) -> None:
    for parse in (parse_client_message, parse_worker_request, parse_server_message):
        try:
            parse(message)
        except ProtocolError as exc:
            assert (
                exc.field == ""
                or exc.field.split("[")[0].split(".")[0] in message
                or (exc.field in ("v", "type", "op", "sdp", "id", "participant_id", "table_id"))
            )


@given(st.sampled_from(["publish", "subscribe"]), st.one_of(st.none(), st.integers(0, 10**6)))
def test_valid_client_messages_roundtrip(kind: str, request_id: int | None) -> None:
    message: dict[str, Any] = {"v": 1, "type": kind, "sdp": SDP}
    if request_id is not None:
        message["id"] = request_id
    parsed = parse_client_message(encode(message))
    assert (parsed.type, parsed.sdp, parsed.id) == (kind, SDP, request_id)


def test_public_api_is_explicit_and_sorted() -> None:
    import summit.media as media

    assert media.__all__ == sorted(media.__all__)
    assert all(hasattr(media, name) for name in media.__all__)
