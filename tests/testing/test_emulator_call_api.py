"""The emulator's newer call API (``/v2/sip/call``), over real HTTP with standard-library clients."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError

import pytest

from airflow_provider_videosdk.testing import EmulatorClient, VideoSDKEmulator
from tests.testing.wire import Remote, Target, api, connect, send

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.emulator

TO = "+14155550100"
CALL = {"sipCallTo": TO, "destinationRoomId": "room-1", "gatewayId": "trunk_demo"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@pytest.fixture
def emu() -> Iterator[VideoSDKEmulator]:
    with VideoSDKEmulator(trunks={"trunk_demo": ["+15550100001", "+15550100002"], "gw_2": ["+15550100009"]}) as e:
        yield e


def place(emu: Target, **fields: Any) -> dict[str, Any]:
    status, answer = api(emu, "POST", "/v2/sip/call", {**CALL, **fields})
    assert status == 200, answer
    return answer["data"]


def get(emu: Target, call_id: str) -> dict[str, Any]:
    status, answer = api(emu, "GET", f"/v2/sip/call/{call_id}")
    assert status == 200, answer
    return answer["data"]


def listed(emu: Target, query: str = "") -> Any:
    status, answer = api(emu, "GET", "/v2/sip/call" + (f"?{query}" if query else ""))
    assert status == 200, answer
    return answer


def statuses(call: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in call["timelog"]]


def seconds_between(call: dict[str, Any], first: str, then: str) -> float:
    at = {e["status"]: datetime.fromisoformat(e["timestamp"]).timestamp() for e in call["timelog"]}
    return at[then] - at[first]


def participants(emu: VideoSDKEmulator, room: str) -> list[dict[str, Any]]:
    status, answer = api(emu, "GET", f"/v2/sessions?roomId={room}")
    assert status == 200
    return [p for session in answer["data"] for p in session["participants"]]


# -- placing and the call object ------------------------------------------------------------------


def test_place_answers_with_the_call_object(emu: VideoSDKEmulator) -> None:
    call = place(emu, metadata={"incident": "INC-1"}, participant={"id": "oncall-1", "name": "On-call"})
    assert re.fullmatch(r"call_[0-9a-f]+", call["id"])
    assert call["status"] == "initiated"
    assert statuses(call) == ["initiated"]
    assert ISO_UTC.fullmatch(call["timelog"][0]["timestamp"])
    assert ISO_UTC.fullmatch(call["start"]) and ISO_UTC.fullmatch(call["createdAt"])
    assert call["end"] is None
    assert (call["roomId"], call["to"], call["from"], call["gatewayId"]) == ("room-1", TO, "+15550100001", "trunk_demo")
    assert call["participant"] == {"id": "oncall-1", "name": "On-call"}
    assert call["metadata"] == {"incident": "INC-1"}
    assert call["type"] == "outbound"
    assert get(emu, call["id"]) == call
    [seen] = emu.sip_calls
    assert seen["id"] == call["id"]
    assert seen["body"] == {**CALL, "metadata": {"incident": "INC-1"}, "participant": call["participant"]}
    assert seen["placedAt"] == pytest.approx(datetime.fromisoformat(call["createdAt"]).timestamp())
    assert emu.calls == [], "the seed API's calls are kept apart"


def test_participant_id_is_generated_and_caller_number_checked(emu: VideoSDKEmulator) -> None:
    call = place(emu, sipCallFrom="+15550100002")
    assert call["from"] == "+15550100002"
    assert call["participant"]["id"] and call["participant"]["name"]
    assert place(emu)["participant"]["id"] != call["participant"]["id"]
    status, answer = api(emu, "POST", "/v2/sip/call", {**CALL, "sipCallFrom": "+15550100009"})
    assert status == 400 and "sipCallFrom" in answer["message"]


def test_routing_rule_routes_through_the_first_gateway(emu: VideoSDKEmulator) -> None:
    body = {k: v for k, v in CALL.items() if k != "gatewayId"}
    status, answer = api(emu, "POST", "/v2/sip/call", {**body, "routingRuleId": "rule_1"})
    assert status == 200, answer
    assert (answer["data"]["gatewayId"], answer["data"]["ruleId"]) == ("trunk_demo", "rule_1")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sipCallTo": None}, "sipCallTo"),
        ({"destinationRoomId": ""}, "destinationRoomId"),
        ({"gatewayId": None}, "gatewayId"),
        ({"sipCallTo": "4155550100"}, "sipCallTo"),
        ({"ringingTimeout": "30"}, "ringingTimeout"),
        ({"maxCallDuration": 0}, "maxCallDuration"),
        ({"participant": {"id": 5}}, "participant"),
        ({"metadata": ["a"]}, "metadata"),
        ({"includeHeaders": "SOME"}, "includeHeaders"),
        ({"mediaEncryption": True}, "mediaEncryption"),
        ({"recordAudio": "yes"}, "recordAudio"),
        ({"callTo": TO}, "callTo"),
    ],
)
def test_body_errors_name_the_field(emu: VideoSDKEmulator, change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**CALL, **change}.items() if v is not None}
    status, answer = api(emu, "POST", "/v2/sip/call", body)
    assert status == 400
    assert field in answer["message"]
    assert emu.sip_calls == []


def test_every_sdk_field_is_accepted(emu: VideoSDKEmulator) -> None:
    extras = {
        "sipCallFrom": "+15550100001",
        "participant": {"id": "p1", "name": "P"},
        "metadata": {},
        "ringingTimeout": 20,
        "maxCallDuration": 600,
        "waitUntilAnswered": False,
        "recordAudio": True,
        "dtmf": False,
        "hidePhoneNumber": True,
        "headers": {"X-Incident": "1"},
        "includeHeaders": "SIP_X_HEADERS",
        "mediaEncryption": "enable",
    }
    assert place(emu, **extras)["status"] == "initiated"


def test_unknown_gateway_and_unknown_call_are_404(emu: VideoSDKEmulator) -> None:
    status, answer = api(emu, "POST", "/v2/sip/call", {**CALL, "gatewayId": "gw_nope"})
    assert status == 404 and "gw_nope" in answer["message"]
    status, answer = api(emu, "GET", "/v2/sip/call/call_nope")
    assert (status, answer["message"]) == (404, "Call not found")


def test_auth_is_required(emu: VideoSDKEmulator) -> None:
    for method, path in [("POST", "/v2/sip/call"), ("GET", "/v2/sip/call"), ("POST", "/v2/sip/call/end")]:
        conn = connect(emu)
        conn.request(method, path, body=json.dumps(CALL), headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 401
    assert emu.sip_calls == [] and emu.call_ends == []


# -- callee scripts: status over time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "after", "final", "timelog"),
    [
        ("answer", 1.6, "answered", ["initiated", "ringing", "answered"]),
        ("reject", 1.6, "rejected", ["initiated", "ringing", "rejected"]),
        ("voicemail", 1.6, "answered", ["initiated", "ringing", "answered"]),
        ("never", None, "not-answered", ["initiated", "ringing", "not-answered"]),
    ],
)
def test_callee_script_reaches_its_status_on_time(
    emu: VideoSDKEmulator, behaviour: str, after: float | None, final: str, timelog: list[str]
) -> None:
    emu.set_callee(TO, behaviour, after)
    # Ringing from 0.3 s to 1.6 s: the read at 0.45 s has over a second of slack for a loaded machine.
    call = place(emu, ringingTimeout=1.6 if after is None else 30)  # "never" rings until the timeout
    time.sleep(0.45)
    assert get(emu, call["id"])["status"] == "ringing"
    time.sleep(1.3)
    call = get(emu, call["id"])
    assert statuses(call) == timelog
    assert call["status"] == final
    assert seconds_between(call, "initiated", "ringing") == pytest.approx(0.3, abs=0.01)
    assert seconds_between(call, "initiated", final) == pytest.approx(1.6, abs=0.01)
    assert (call["end"] is None) == (final == "answered")
    [seen] = emu.sip_calls
    assert seen["voicemail"] is (behaviour == "voicemail")
    assert "voicemail" not in call
    joined = [p["participantId"] for p in participants(emu, "room-1")]
    assert joined == ([call["participant"]["id"]] if final == "answered" else [])


def test_a_call_that_rings_past_its_timeout_is_not_answered(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "answer", 2.0)
    call = place(emu, ringingTimeout=0.5)
    time.sleep(0.6)
    assert statuses(get(emu, call["id"])) == ["initiated", "ringing", "not-answered"]


def test_fail_fails_right_after_initiated(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "fail")
    call = place(emu)
    time.sleep(0.2)
    call = get(emu, call["id"])
    assert statuses(call) == ["initiated", "failed"]
    assert call["end"] is not None


def test_answered_call_ends_after_max_call_duration_and_leaves_the_session(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "answer", 0.3)
    call = place(emu, maxCallDuration=1.5)  # answered from 0.3 s to 1.8 s
    time.sleep(0.4)
    assert get(emu, call["id"])["status"] == "answered"
    assert participants(emu, "room-1")[0]["timelog"][0]["end"] is None
    time.sleep(1.5)
    call = get(emu, call["id"])
    assert statuses(call) == ["initiated", "ringing", "answered", "ended"]
    assert call["end"] is not None
    assert seconds_between(call, "answered", "ended") == pytest.approx(1.5, abs=0.01)
    [joined] = participants(emu, "room-1")
    assert joined["participantId"] == call["participant"]["id"] and joined["timelog"][0]["end"] is not None


def test_unscripted_callees_follow_answer_after_or_never_answer() -> None:
    with VideoSDKEmulator(answers={TO: 0.3}) as emu:
        call = place(emu)
        time.sleep(0.4)
        assert get(emu, call["id"])["status"] == "answered"
        other = place(emu, sipCallTo="+14155550199", ringingTimeout=0.5)
        time.sleep(0.6)
        assert statuses(get(emu, other["id"])) == ["initiated", "ringing", "not-answered"]
    with VideoSDKEmulator(answer_after=0.3) as emu:
        call = place(emu, sipCallTo="sip:oncall@example.com")
        time.sleep(0.4)
        assert get(emu, call["id"])["status"] == "answered"


def test_bad_callee_scripts_are_refused(emu: VideoSDKEmulator) -> None:
    for behaviour, after in [("sing", None), ("answer", None), ("never", 1.0), ("reject", -1.0)]:
        with pytest.raises(ValueError):
            emu.set_callee(TO, behaviour, after)


# -- ending calls --------------------------------------------------------------------------------


def end(emu: VideoSDKEmulator, call_id: Any) -> tuple[int, Any]:
    return api(emu, "POST", "/v2/sip/call/end", {"callId": call_id})


def test_end_a_ringing_call(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "answer", 2.0)  # ringing from 0.3 s to 2 s
    call = place(emu)
    time.sleep(0.4)
    status, answer = end(emu, call["id"])
    assert status == 200
    assert statuses(answer["data"]) == ["initiated", "ringing", "ended"]
    assert answer["data"]["end"] is not None
    time.sleep(0.4)
    assert statuses(get(emu, call["id"])) == ["initiated", "ringing", "ended"], "the callee never got to answer"
    assert participants(emu, "room-1") == []
    [ask] = emu.call_ends
    assert (ask["callId"], ask["statusBefore"]) == (call["id"], "ringing")


def test_end_an_answered_call(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "answer", 0.3)
    call = place(emu)
    time.sleep(0.4)
    status, answer = end(emu, call["id"])
    assert status == 200
    assert statuses(answer["data"]) == ["initiated", "ringing", "answered", "ended"]
    assert participants(emu, "room-1")[0]["timelog"][0]["end"] is not None


def test_ending_a_final_call_answers_200_unchanged(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "fail")
    call = place(emu)
    time.sleep(0.2)
    before = get(emu, call["id"])
    status, answer = end(emu, call["id"])
    assert (status, answer["data"]) == (200, before)
    assert emu.call_ends[0]["statusBefore"] == "failed"


def test_bad_end_requests_are_recorded_too(emu: VideoSDKEmulator) -> None:
    assert end(emu, "call_nope") == (404, {"statusCode": 404, "message": "Call not found"})
    status, answer = end(emu, None)
    assert status == 400 and "callId" in answer["message"]
    status, answer = api(emu, "POST", "/v2/sip/call/end", {"callId": "x", "reason": "done"})
    assert status == 400 and "reason" in answer["message"]
    assert [e["callId"] for e in emu.call_ends] == ["call_nope", None, "x"]


# -- lists -----------------------------------------------------------------------------------------


def test_list_filters(emu: VideoSDKEmulator) -> None:
    first = place(emu, destinationRoomId="room-a")
    time.sleep(0.02)
    second = place(emu, destinationRoomId="room-b", sipCallTo="+14155550111")
    time.sleep(0.02)
    third = place(emu, destinationRoomId="room-b", gatewayId="gw_2", sipCallTo="sip:desk@example.com")
    ids = {c["id"]: name for c, name in [(first, "first"), (second, "second"), (third, "third")]}

    def names(query: str) -> list[str]:
        return [ids[c["id"]] for c in listed(emu, query)["data"]]

    assert names("") == ["third", "second", "first"], "newest first"
    assert names("roomId=room-b") == ["third", "second"]
    assert names(f"id={first['id']}") == ["first"]
    assert names("gatewayId=gw_2") == ["third"]
    assert names("type=outbound") == ["third", "second", "first"]
    assert names("type=inbound") == []
    assert names("search=0111") == ["second"]  # to
    assert names("search=0100009") == ["third"]  # from: gw_2's number
    assert names("search=ROOM-A") == ["first"]  # roomId
    created = round(datetime.fromisoformat(second["createdAt"]).timestamp() * 1000)
    assert names(f"startDate={created}") == ["third", "second"]
    assert names(f"endDate={created}") == ["second", "first"]
    assert names(f"startDate={created}&endDate={created}&roomId=room-b") == ["second"]
    status, answer = api(emu, "GET", "/v2/sip/call?startDate=yesterday")
    assert status == 400 and "startDate" in answer["message"]


@pytest.mark.parametrize("page_format", ["pageInfo", "pagination", "bare"])
def test_pagination_over_several_pages(emu: VideoSDKEmulator, page_format: str) -> None:
    placed = [place(emu)["id"] for _ in range(5)]
    emu.set_call_api(page_format=page_format)
    pages = [listed(emu, f"perPage=2&page={page}") for page in (1, 2, 3, 4)]
    data = [page if page_format == "bare" else page["data"] for page in pages]
    assert [len(d) for d in data] == [2, 2, 1, 0]
    assert [c["id"] for d in data for c in d] == placed[::-1]
    if page_format == "pageInfo":
        assert pages[1]["pageInfo"] == {"currentPage": 2, "perPage": 2, "lastPage": 3, "total": 5}
    elif page_format == "pagination":
        assert pages[1]["pagination"] == {"page": 2, "perPage": 2, "totalPages": 3, "total": 5}
    assert len(listed(emu)["data" if page_format != "bare" else slice(None)]) == 5, "perPage defaults to 20"


def test_calls_placed_within_one_millisecond_list_newest_first(emu: VideoSDKEmulator) -> None:
    """The emulator keeps whole milliseconds; calls sharing one still list in the order they were placed."""
    for _ in range(25):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: place(emu), range(8)))
        stamps = [c["placedAt"] for c in emu.sip_calls]
        if len(set(stamps)) < len(stamps):
            break
    else:
        pytest.fail("200 calls, 8 at a time, never shared a millisecond")
    in_placing_order = [c["id"] for c in emu.sip_calls]
    newest_first = [c["id"] for c in listed(emu, f"perPage={len(stamps)}")["data"]]
    assert newest_first == in_placing_order[::-1]


def test_list_lag_hides_a_new_call_from_lists_only(emu: VideoSDKEmulator) -> None:
    emu.set_call_api(list_lag=2)
    call = place(emu)
    assert listed(emu)["data"] == []
    assert get(emu, call["id"])["id"] == call["id"], "fetching by id is not delayed"
    time.sleep(2.05)
    assert [c["id"] for c in listed(emu)["data"]] == [call["id"]]


def test_upper_case_and_unknown_statuses(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "answer", 1.6)  # "ringing" (reported as queued) from 0.3 s to 1.6 s
    emu.set_call_api(upper_case_statuses=True, unknown_status="queued")
    call = place(emu)
    assert call["status"] == "INITIATED"
    time.sleep(0.4)
    assert get(emu, call["id"])["status"] == "QUEUED"
    time.sleep(1.3)
    call = get(emu, call["id"])
    assert statuses(call) == ["INITIATED", "QUEUED", "ANSWERED"]
    assert listed(emu)["data"][0]["status"] == "ANSWERED"
    assert statuses(emu.sip_calls[0]) == ["initiated", "ringing", "answered"], "the emulator's own view is true"


def test_call_id_key_renames_the_id_in_lists_only(emu: VideoSDKEmulator) -> None:
    emu.set_call_api(call_id_key="callId")
    call = place(emu)
    [item] = listed(emu)["data"]
    assert item["callId"] == call["id"] and "id" not in item
    assert get(emu, call["id"])["id"] == call["id"]


def test_bad_call_api_options_are_refused(emu: VideoSDKEmulator) -> None:
    bad = [{"page_format": "xml"}, {"list_lag": -1}, {"upper_case_statuses": "yes"}, {"clock_offset": "5"}, {"nope": 1}]
    for options in bad:
        with pytest.raises((ValueError, TypeError)):
            emu.set_call_api(**options)


# -- faults on the new endpoints -------------------------------------------------------------------


def test_processed_502_on_the_placing_post_places_exactly_one_call(emu: VideoSDKEmulator) -> None:
    emu.add_fault(path="/v2/sip/call", exact=True, method="POST", process=True, status=502, times=2)
    status, _ = api(emu, "POST", "/v2/sip/call", CALL)
    assert status == 502
    [call] = emu.sip_calls
    assert end(emu, call["id"])[0] == 200, "an exact fault leaves /v2/sip/call/end alone"
    assert listed(emu)["data"][0]["id"] == call["id"], "and the GETs"
    assert api(emu, "POST", "/v2/sip/call", CALL)[0] == 502
    assert len(emu.sip_calls) == 2
    assert api(emu, "POST", "/v2/sip/call", CALL)[0] == 200


def test_a_path_prefix_fault_hits_every_call_endpoint(emu: VideoSDKEmulator) -> None:
    call = place(emu)
    emu.add_fault(path="/v2/sip/call", status=503, times=3)
    assert api(emu, "GET", f"/v2/sip/call/{call['id']}")[0] == 503
    assert api(emu, "GET", "/v2/sip/call")[0] == 503
    assert end(emu, call["id"])[0] == 503
    assert emu.call_ends == [], "not processed"
    with pytest.raises(ValueError, match="exact needs a path"):
        emu.add_fault(exact=True, status=500)


def test_drop_truncate_and_retry_after_on_the_call_endpoints(emu: VideoSDKEmulator) -> None:
    call = place(emu)
    emu.add_fault(path=f"/v2/sip/call/{call['id']}", drop=True)
    conn = connect(emu)
    send(conn, emu, "GET", f"/v2/sip/call/{call['id']}")
    with pytest.raises(http.client.RemoteDisconnected):
        conn.getresponse()
    emu.add_fault(path="/v2/sip/call", exact=True, method="POST", process=True, truncate=10)
    conn = connect(emu)
    send(conn, emu, "POST", "/v2/sip/call", CALL)
    with pytest.raises(http.client.IncompleteRead):
        conn.getresponse().read()
    assert len(emu.sip_calls) == 2
    emu.add_fault(path="/v2/sip/call", method="GET", status=429, retry_after="2")
    conn = connect(emu)
    send(conn, emu, "GET", "/v2/sip/call")
    resp = conn.getresponse()
    assert (resp.status, resp.headers["Retry-After"]) == (429, "2")


# -- control API, reset, CLI -----------------------------------------------------------------------


def test_control_api_scripts_configures_observes_and_resets(emu: VideoSDKEmulator) -> None:
    client = emu.client()
    client.set_callee(TO, "reject", 0.3)
    client.set_call_api(call_id_key="callId", page_format="bare")
    client.add_fault(path="/v2/sip/call", exact=True, method="POST", process=True, status=502)
    assert api(emu, "POST", "/v2/sip/call", CALL)[0] == 502
    [call] = client.sip_calls()
    time.sleep(0.35)
    assert [c["callId"] for c in listed(emu)] == [call["id"]]
    assert end(emu, call["id"])[1]["data"]["status"] == "rejected"
    assert [e["statusBefore"] for e in client.call_ends()] == ["rejected"]
    assert client.sip_calls()[0]["status"] == "rejected"
    for bad in [{"to": TO, "behaviour": "sing"}, {"behaviour": "never"}]:
        with pytest.raises(HTTPError) as info:
            client._call("POST", "/_emulator/callees", bad)
        assert info.value.code == 400
    with pytest.raises(HTTPError):
        client.set_call_api(page_format="xml")
    client.set_callee(TO, None)
    client.reset()
    assert client.sip_calls() == [] and client.call_ends() == []
    call = place(emu, ringingTimeout=0.3)
    assert listed(emu)["data"][0]["id"] == call["id"], "options are back to their defaults"
    time.sleep(0.35)
    assert get(emu, call["id"])["status"] == "not-answered", "the callee's script is gone"
    client.close()


def test_cli_scripts_callees_and_sets_lookup_faults() -> None:
    argv = [sys.executable, "-m", "airflow_provider_videosdk.testing.emulator", "--port", "0"]
    options = ["--callee", f"{TO}=reject:0.3", "--callee", "+14155550199=fail", "--upper-case-statuses"]
    proc = subprocess.Popen([*argv, *options, "--page-format", "pagination"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        control_token = proc.stdout.readline().split()[-1]
        probe = Remote(port=int(url.rsplit(":", 1)[1]))
        call = place(probe)
        place(probe, sipCallTo="+14155550199")
        time.sleep(0.35)
        answer = listed(probe)
        assert [c["status"] for c in answer["data"]] == ["FAILED", "REJECTED"]
        assert answer["pagination"]["total"] == 2
        assert EmulatorClient(url, token=control_token).sip_calls()[0]["id"] == call["id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run([*argv, "--callee", f"{TO}=answer"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "answer needs after=SECONDS" in bad.stderr


def test_a_callee_who_picks_up_as_the_hang_up_arrives(emu: VideoSDKEmulator) -> None:
    emu.set_callee(TO, "pickup_on_hangup")
    call = place(emu)
    time.sleep(0.4)
    assert get(emu, call["id"])["status"] == "ringing"  # rings like "never" until hung up

    status, answer = api(emu, "POST", "/v2/sip/call/end", {"callId": call["id"]})

    assert status == 200
    assert statuses(answer["data"]) == ["initiated", "ringing", "answered", "ended"]
    assert emu.call_ends[0]["statusBefore"] == "ringing"
    assert statuses(get(emu, call["id"]))[-2:] == ["answered", "ended"]


def test_a_list_that_ignores_the_room_filter(emu: VideoSDKEmulator) -> None:
    place(emu)
    place(emu, destinationRoomId="room-2")
    assert len(listed(emu, "roomId=room-1")["data"]) == 1
    emu.set_call_api(ignore_room_filter=True)
    assert {c["roomId"] for c in listed(emu, "roomId=room-1")["data"]} == {"room-1", "room-2"}


def test_a_fault_can_let_the_first_requests_through(emu: VideoSDKEmulator) -> None:
    emu.add_fault(path="/v2/sip/call", method="POST", exact=True, status=502, skip=1)
    assert api(emu, "POST", "/v2/sip/call", CALL)[0] == 200
    assert api(emu, "POST", "/v2/sip/call", CALL)[0] == 502
    assert api(emu, "POST", "/v2/sip/call", CALL)[0] == 200
    assert len(emu.sip_calls) == 2
