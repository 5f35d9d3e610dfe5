"""The call-status chain example and the status sensor run through ``airflow dags test`` against the emulator."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from tests.helpers import REPO, assert_acted_at_first_sight, assert_kept_interval, user_visible

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags

PRIMARY, SECONDARY = "+14155550101", "+14155550102"
RINGING = "+14155550180"  # tests/dags/call_status_dags.py's RINGS
CHAIN = "example_videosdk_call_status_chain"
POKE_INTERVAL = 2  # the example's


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A DAG folder holding only the call-status chain example, exactly as shipped."""
    folder = tmp_path / "example_dags"
    folder.mkdir()
    shutil.copy(REPO / "example_dags" / f"{CHAIN}.py", folder / f"{CHAIN}.py")
    return folder


def states(result) -> dict[str, tuple[str | None, int]]:
    return {task: state for (task, _), state in result.states().items()}


def final_at(call: dict) -> tuple[str, float]:
    """The call's last timelog status and when it was reached (Unix time)."""
    from airflow_provider_videosdk._http.call_api import parse_when

    last = call["timelog"][-1]
    return last["status"], parse_when(last["timestamp"])


@pytest.mark.matrix
def test_the_chain_stops_at_the_primary_when_the_primary_answers(
    videosdk_emulator: VideoSDKEmulator, run_dag, examples: Path
) -> None:
    videosdk_emulator.set_callee(PRIMARY, "answer", after=2)
    videosdk_emulator.set_callee(SECONDARY, "answer", after=1)  # would answer too, but must never be phoned

    result = run_dag(CHAIN, folder=examples)

    assert result.returncode == 0, result.output[-3000:]
    assert [c["to"] for c in videosdk_emulator.sip_calls] == [PRIMARY]
    assert {t: s for t, (s, _) in states(result).items()} == {
        "create_room": "success",
        "call_primary": "success",
        "wait_primary": "success",
        "call_secondary": "skipped",
        "wait_secondary": "skipped",
    }
    (call,) = videosdk_emulator.sip_calls
    assert call["body"]["ringingTimeout"] == 30
    assert f"Call {call['id']} was answered (status 'answered')" in result.output
    assert videosdk_emulator.call_ends == []
    assert PRIMARY not in user_visible(result.output)


@pytest.mark.matrix
@pytest.mark.parametrize(
    ("script", "conf", "status"),
    [
        (("reject", 2), {}, "rejected"),
        (("never", None), {"ringing_timeout": 4}, "not-answered"),
        (("fail", None), {}, "failed"),
    ],
    ids=["rejects", "rings-out", "fails"],
)
def test_an_unanswered_primary_fails_at_once_and_the_secondary_is_phoned_within_a_poke(
    videosdk_emulator: VideoSDKEmulator, run_dag, examples: Path, script: tuple, conf: dict, status: str
) -> None:
    videosdk_emulator.set_callee(PRIMARY, script[0], after=script[1])
    videosdk_emulator.set_callee(SECONDARY, "answer", after=1)

    result = run_dag(CHAIN, folder=examples, conf=conf)

    calls = videosdk_emulator.sip_calls
    assert [c["to"] for c in calls] == [PRIMARY, SECONDARY], result.output[-3000:]
    assert {t: s for t, s in states(result).items()} == {
        "create_room": ("success", 1),
        "call_primary": ("success", 1),
        "wait_primary": ("failed", 1),  # failed at once, not retried despite retries=1
        "call_secondary": ("success", 1),
        "wait_secondary": ("success", 1),
    }
    assert f"Call {calls[0]['id']} was not answered: its status is '{status}'" in result.output
    final, at = final_at(calls[0])
    assert final == status
    # By the emulator's clock: the sensor read the call's status at its interval and acted on the final
    # status at the first read that saw it. Its reads are the call's GETs before the secondary's POST but
    # the last, which is call_secondary's skip_if_answered look; the first is the poke before deferring,
    # the others the trigger's (when the trigger starts after the poke is Airflow's, not bounded here).
    placing = videosdk_emulator.requests.index(videosdk_emulator.requests_to("/v2/sip/call", "POST")[1])
    path = f"/v2/sip/call/{calls[0]['id']}"
    reads = [r.at for r in videosdk_emulator.requests[:placing] if (r.method, r.path) == ("GET", path)][:-1]
    assert reads, "the sensor never read the call"
    assert_kept_interval(reads[1:], POKE_INTERVAL)
    assert_acted_at_first_sight(reads, at)
    # The secondary is then phoned as soon as Airflow runs the next task, well within the sensor's
    # timeout (90 s): the sensor's resume and the next task's start are Airflow's own time.
    assert 0 <= calls[1]["placedAt"] - at < 30
    assert videosdk_emulator.call_ends == []  # nothing was left ringing


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_a_sensor_that_times_out_on_a_ringing_call_hangs_it_up(
    videosdk_emulator: VideoSDKEmulator, run_dag, mode: str
) -> None:
    videosdk_emulator.set_callee("+14155550180", "never")

    result = run_dag(f"videosdk_call_status_timeout_{mode}")

    assert states(result)["wait"] == ("failed", 1), result.output[-3000:]
    (call,) = videosdk_emulator.sip_calls
    (end,) = videosdk_emulator.call_ends
    assert (end["callId"], end["statusBefore"]) == (call["id"], "ringing")
    assert call["status"] == "ended" and call["endedAt"] is not None
    assert "answered" not in [t["status"] for t in call["timelog"]]
    assert end["at"] - call["placedAt"] >= 3
    assert f"Hung up call {call['id']}: it was not answered in time (its status is now 'ended')" in result.output
    assert f"Call {call['id']} was not answered within 3s (last status: 'ringing'); it was hung up" in result.output


def test_a_sensor_killed_while_the_call_rings_hangs_it_up(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    videosdk_emulator.set_callee(RINGING, "never")

    result = run_dag("videosdk_call_status_killed")

    assert states(result)["wait"] == ("failed", 1), result.output[-3000:]
    (call,) = videosdk_emulator.sip_calls  # one call, never placed again
    (end,) = videosdk_emulator.call_ends
    assert (end["callId"], end["statusBefore"]) == (call["id"], "ringing")
    assert call["status"] == "ended" and call["endedAt"] is not None
    assert end["at"] - call["placedAt"] >= 3  # hung up when the execution_timeout killed the sensor
    assert f"The task was killed: hanging up call {call['id']}" in result.output
    assert f"Hung up call {call['id']}: the task was killed (its status is now 'ended')" in result.output


def test_a_kill_after_the_answer_leaves_the_call_up(videosdk_emulator: VideoSDKEmulator) -> None:
    import logging

    from airflow_provider_videosdk.calls import SipCall
    from airflow_provider_videosdk.hang_up import hang_up_on_kill
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

    videosdk_emulator.set_callee(RINGING, "answer", after=0)
    hook = VideoSDKHook()
    placed = hook.place_call(SipCall(to=RINGING, meeting_id="status-room", gateway_id="trunk_demo"))
    hook.close()

    hang_up_on_kill("videosdk_default", str(placed["id"]), created_after=None, log=logging.getLogger("test"))

    assert videosdk_emulator.call_ends == []  # an answered call is never hung up
    (call,) = videosdk_emulator.sip_calls
    assert "answered" in [t["status"] for t in call["timelog"]]
