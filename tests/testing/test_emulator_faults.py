"""The emulator's network faults, checked with plain standard-library clients (not the provider's hook)."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import selectors
import socket
import ssl
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.testing import RefusingProxy, VideoSDKEmulator, closed_port
from tests.testing.wire import connect, send, token

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.emulator

CALL = {"to": "+14155550100", "displayName": "Incident", "meetingId": "room-1", "trunkId": "trunk_demo"}
DAY = 86400


@pytest.fixture
def emulator() -> Iterator[VideoSDKEmulator]:
    with VideoSDKEmulator() as emu:
        yield emu


@pytest.fixture
def tls_emulator() -> Iterator[VideoSDKEmulator]:
    with VideoSDKEmulator(tls=True) as emu:
        yield emu


def place_call(emu: VideoSDKEmulator, **call: Any) -> http.client.HTTPResponse:
    conn = connect(emu)
    send(conn, emu, "POST", "/v2/sip/outbound-call", {**CALL, **call})
    return conn.getresponse()


def sessions(emu: VideoSDKEmulator, query: str) -> tuple[int, dict[str, Any]]:
    conn = connect(emu)
    send(conn, emu, "GET", "/v2/sessions?" + query)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def connection_threads() -> int:
    return sum(t.name == "videosdk-emulator-connection" for t in threading.enumerate())


# -- truncate, trickle, redirect ----------------------------------------------------------------


def test_truncate_sends_fewer_body_bytes_than_content_length_after_placing_the_call(emulator: VideoSDKEmulator) -> None:
    emulator.add_fault(truncate=5, process=True, path="/v2/sip/outbound-call")
    resp = place_call(emulator)
    assert resp.status == 200
    length = int(resp.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as info:
        resp.read()
    assert len(info.value.partial) == 5 < length
    assert info.value.expected == length - 5
    assert len(emulator.calls) == 1
    assert [r.status for r in emulator.requests_to("/v2/sip/outbound-call")] == [200]
    assert place_call(emulator).status == 200, "the fault applies once"


def test_trickle_sends_headers_at_once_then_one_byte_per_interval(emulator: VideoSDKEmulator) -> None:
    emulator.add_fault(raw="abc", trickle=0.2, process=True, path="/v2/rooms")
    conn = connect(emulator)
    send(conn, emulator, "POST", "/v2/rooms", {})
    resp = conn.getresponse()
    started = time.monotonic()
    arrivals = []
    for _ in range(3):
        assert len(resp.read(1)) == 1
        arrivals.append(time.monotonic() - started)
    assert resp.read() == b""
    assert arrivals[0] >= 0.15, "the headers came before the body"
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(arrivals)), arrivals
    assert arrivals[-1] < 2
    assert len(emulator.rooms) == 1, "the room was really created"


def test_trickle_stops_when_the_client_hangs_up(emulator: VideoSDKEmulator) -> None:
    emulator.add_fault(raw="x" * 1000, trickle=0.05)  # would take 50 s
    conn = connect(emulator)
    send(conn, emulator, "GET", "/v2/sessions")
    resp = conn.getresponse()
    assert resp.read(1) == b"x"
    assert connection_threads() == 1
    conn.close()
    deadline = time.monotonic() + 3
    while connection_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connection_threads() == 0


@pytest.mark.parametrize("status", [None, 301, 303, 307])
def test_redirect_answers_with_status_and_location_after_placing_the_call(
    emulator: VideoSDKEmulator, status: int | None
) -> None:
    emulator.client().add_fault(
        redirect="https://elsewhere.example.com/v2/sip/outbound-call", status=status, process=True
    )
    resp = place_call(emulator)
    assert resp.status == (status or 302)
    assert resp.headers["Location"] == "https://elsewhere.example.com/v2/sip/outbound-call"
    assert len(emulator.calls) == 1


def test_bad_faults_are_refused(emulator: VideoSDKEmulator) -> None:
    with pytest.raises(ValueError, match="redirect needs a status"):
        emulator.add_fault(redirect="https://example.com/", status=500)
    with pytest.raises(ValueError, match="tls=True"):
        emulator.add_fault(tls="fail_handshake")
    with pytest.raises(ValueError, match="tls must be one of"):
        emulator.add_fault(tls="explode")
    with pytest.raises(OSError, match="400"):
        emulator.client().add_fault(trickle=0)


# -- TLS --------------------------------------------------------------------------------------------


def test_tls_listener_is_trusted_through_ca_file_only(tls_emulator: VideoSDKEmulator) -> None:
    assert tls_emulator.url == f"https://127.0.0.1:{tls_emulator.port}"
    assert tls_emulator.ca_file is not None
    for host in ("127.0.0.1", "localhost"):
        context = ssl.create_default_context(cafile=tls_emulator.ca_file)
        context.verify_flags |= ssl.VERIFY_X509_STRICT  # as newer Pythons do by default
        conn = http.client.HTTPSConnection(host, tls_emulator.port, timeout=5, context=context)
        send(conn, tls_emulator, "GET", "/v2/sessions?roomId=room-1")
        assert conn.getresponse().status == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        http.client.HTTPSConnection("127.0.0.1", tls_emulator.port, timeout=5).request("GET", "/")
    assert tls_emulator.client().calls() == []


def test_tls_certificate_is_removed_on_stop() -> None:
    emu = VideoSDKEmulator(tls=True).start()
    assert emu.ca_file is not None and os.path.exists(emu.ca_file)
    emu.stop()
    assert not os.path.exists(os.path.dirname(emu.ca_file))


def test_tls_fail_handshake_fails_before_anything_is_sent(tls_emulator: VideoSDKEmulator) -> None:
    tls_emulator.add_fault(tls="fail_handshake", process=True)
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        place_call(tls_emulator)
    assert tls_emulator.requests == [] and tls_emulator.calls == []
    assert place_call(tls_emulator).status == 200, "the fault hit one connection only"


def test_tls_stall_handshake_times_out_the_client(tls_emulator: VideoSDKEmulator) -> None:
    tls_emulator.add_fault(tls="stall_handshake")
    conn = connect(tls_emulator, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        send(conn, tls_emulator, "POST", "/v2/sip/outbound-call", CALL)
    assert 0.25 < time.monotonic() - started < 10  # the client's 0.3 s, not the emulator's 60 s stall
    assert tls_emulator.requests == [] and tls_emulator.calls == []
    assert place_call(tls_emulator).status == 200


def test_tls_corrupt_after_request_fails_reading_the_answer_of_a_placed_call(tls_emulator: VideoSDKEmulator) -> None:
    tls_emulator.add_fault(tls="corrupt_after_request", process=True)
    conn = connect(tls_emulator)
    send(conn, tls_emulator, "POST", "/v2/sip/outbound-call", CALL)  # the request leaves in full
    with pytest.raises(ssl.SSLError):
        conn.getresponse()
    assert len(tls_emulator.calls) == 1
    assert [r.status for r in tls_emulator.requests] == [None]


def test_tls_faults_are_taken_per_connection_not_per_request(tls_emulator: VideoSDKEmulator) -> None:
    conn = connect(tls_emulator)
    send(conn, tls_emulator, "GET", "/v2/sessions")
    conn.getresponse().read()
    tls_emulator.add_fault(tls="corrupt_after_request")
    send(conn, tls_emulator, "GET", "/v2/sessions")  # same, already open connection: unaffected
    assert conn.getresponse().status == 200
    with pytest.raises(ssl.SSLError):
        place_call(tls_emulator)  # a new connection takes it
    assert tls_emulator.calls == [], "without process=True nothing is carried out"


# -- proxies and closed ports ----------------------------------------------------------------------


def test_refusing_proxy_answers_403_to_connect(tls_emulator: VideoSDKEmulator) -> None:
    with RefusingProxy() as proxy:
        assert proxy.url.startswith("http://127.0.0.1:")
        context = ssl.create_default_context(cafile=tls_emulator.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5, context=context)
        conn.set_tunnel("127.0.0.1", tls_emulator.port)
        with pytest.raises(OSError, match="Tunnel connection failed: 403"):
            send(conn, tls_emulator, "POST", "/v2/sip/outbound-call", CALL)
        plain = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
        plain.request("POST", f"{tls_emulator.url}/v2/rooms", body=b"{}")
        resp = plain.getresponse()
        assert (resp.status, resp.headers["Connection"]) == (403, "close")
        assert proxy.connections == 2
        # http.client sends its CONNECT as HTTP/1.0 before Python 3.13 and as HTTP/1.1 since.
        connect, post = proxy.requests
        assert re.fullmatch(rf"CONNECT 127\.0\.0\.1:{tls_emulator.port} HTTP/1\.[01]", connect)
        assert post == f"POST {tls_emulator.url}/v2/rooms HTTP/1.1"
    assert tls_emulator.connections == 0 and tls_emulator.calls == []


def test_closed_port_refuses_connections() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", closed_port()), timeout=2)


# -- sessions with history -----------------------------------------------------------------------


def test_old_sessions_are_listed_after_todays_with_their_participants(emulator: VideoSDKEmulator) -> None:
    week_ago = time.time() - 7 * DAY
    seeded = emulator.client().add_session("room-1", [("p-1", week_ago + 60)], start=week_ago, end=week_ago + 3600)
    emulator.add_session("room-other", [("p-1", week_ago)])
    emulator.set_answer(CALL["to"], 0)
    assert place_call(emulator, participantId="p-1").status == 200

    status, answer = sessions(emulator, "roomId=room-1")
    assert status == 200 and answer["pageInfo"]["total"] == 2
    today, old = answer["data"]
    assert old == seeded
    assert (old["roomId"], old["status"]) == ("room-1", "completed")
    assert datetime.fromisoformat(old["start"]) == datetime.fromtimestamp(week_ago, timezone.utc)
    [participant] = old["participants"]
    assert participant["participantId"] == "p-1"
    assert datetime.fromisoformat(participant["timelog"][0]["start"]).timestamp() == pytest.approx(week_ago + 60)
    assert datetime.fromisoformat(participant["timelog"][0]["end"]).timestamp() == pytest.approx(week_ago + 3600)

    assert today["end"] is None
    [joined] = today["participants"]
    assert joined["participantId"] == "p-1" and joined["timelog"][0]["end"] is None
    joined_at = datetime.fromisoformat(joined["timelog"][0]["start"])
    assert joined_at.utcoffset() is not None and joined_at.utcoffset().total_seconds() == 0
    assert abs(joined_at.timestamp() - time.time()) < 10


def test_sessions_paginate_newest_first(emulator: VideoSDKEmulator) -> None:
    base = time.time() - 100 * DAY
    for day in range(45):
        emulator.add_session("room-1", [(f"p-{day}", base + day * DAY)], end=base + day * DAY + 600)
    seen = []
    for page in range(1, 24):
        status, answer = sessions(emulator, f"roomId=room-1&page={page}&perPage=2")
        assert status == 200
        assert answer["pageInfo"] == {"currentPage": page, "perPage": 2, "lastPage": 23, "total": 45}
        seen += [s["participants"][0]["participantId"] for s in answer["data"]]
    assert seen == [f"p-{day}" for day in reversed(range(45))]
    assert sessions(emulator, "roomId=room-1&page=24&perPage=2")[1]["data"] == []
    assert len(sessions(emulator, "roomId=room-1")[1]["data"]) == 20, "20 per page by default"
    assert sessions(emulator, "roomId=room-1&page=0")[0] == 400
    assert sessions(emulator, "roomId=room-1&perPage=many")[0] == 400


# -- many connections ------------------------------------------------------------------------------


def test_a_thousand_concurrent_keep_alive_connections_with_slow_answers(emulator: VideoSDKEmulator) -> None:
    emulator.add_fault(delay=0.3, process=True, path="/v2/sessions", times=10**9)
    request = f"GET /v2/sessions?roomId=room-1 HTTP/1.1\r\nHost: x\r\nAuthorization: {token(emulator)}\r\n\r\n"
    started = time.monotonic()
    socks: list[socket.socket] = []
    try:
        for _ in range(1000):  # with a short listen backlog, dropped SYNs are retried after 1 s, 3 s, ...
            socks.append(socket.create_connection(("127.0.0.1", emulator.port), timeout=10))
            assert time.monotonic() - started < 5, f"only {len(socks)} connections after 5 s"
        selector = selectors.DefaultSelector()
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ, bytearray())
        for _ in range(2):  # the second round reuses every connection
            for sock in socks:
                selector.get_key(sock).data.clear()
                sock.sendall(request.encode())
            answered = 0
            while answered < len(socks) and time.monotonic() - started < 60:
                for key, _ in selector.select(timeout=1):
                    key.data.extend(key.fileobj.recv(65536))  # type: ignore[union-attr]
                    head, _, body = bytes(key.data).partition(b"\r\n\r\n")
                    if body and len(body) == int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]):
                        assert head.startswith(b"HTTP/1.1 200 ")
                        answered += 1
            assert answered == 1000
        assert emulator.connections == 1000
        assert time.monotonic() - started < 30  # ~2 s unloaded; one answer at a time would take 600 s
    finally:
        for sock in socks:
            sock.close()


# -- life cycle and the control client ---------------------------------------------------------------


def test_control_client_keeps_its_connection_so_tls_faults_hit_the_next_client(
    tls_emulator: VideoSDKEmulator,
) -> None:
    client = tls_emulator.client()
    client.add_fault(tls="fail_handshake", process=True)
    assert client.calls() == [], "the control client's own connection is not hit"
    with pytest.raises(ssl.SSLError):
        place_call(tls_emulator)
    assert client.calls() == []
    client.close()


def test_stop_hangs_up_on_open_connections_and_the_client_reconnects() -> None:
    with VideoSDKEmulator() as first:
        port = first.port
        client = first.client()
        assert client.calls() == []
        conn = connect(first)
        send(conn, first, "GET", "/v2/sessions")
        assert conn.getresponse().read()
        assert connection_threads() == 2, "both kept alive"
    deadline = time.monotonic() + 3
    while connection_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connection_threads() == 0
    with VideoSDKEmulator(port=port, control_token=first.control_token) as second:
        assert client.requests() == [], "it talks to the new emulator"
        assert second.connections == 1
