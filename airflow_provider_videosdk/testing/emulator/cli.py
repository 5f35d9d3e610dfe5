"""
``python -m airflow_provider_videosdk.testing.emulator``: run the emulator until interrupted;
``... calls --url URL``: print the calls a running emulator placed, through either API.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys

from airflow_provider_videosdk.testing.emulator.callees import PAGE_FORMATS, CallApiOptions, CalleeScript
from airflow_provider_videosdk.testing.emulator.client import EmulatorClient
from airflow_provider_videosdk.testing.emulator.control import TOKEN_ENV, TOKEN_HEADER
from airflow_provider_videosdk.testing.emulator.core import VideoSDKEmulator
from airflow_provider_videosdk.testing.emulator.placed import format_table

DESCRIPTION = "A local emulator of the VideoSDK REST endpoints this provider uses, over real HTTP on 127.0.0.1."


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(prog="python -m airflow_provider_videosdk.testing.emulator", description=DESCRIPTION)
    p.add_argument("--host", default="127.0.0.1", help="the address to bind; anything but loopback warns")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--api-key", default="emulator-api-key")
    p.add_argument("--api-secret", default="emulator-api-secret-0123456789abcdef")
    p.add_argument("--answer-after", type=float, default=None, help="every callee answers after N seconds")
    p.add_argument(
        "--answer", action="append", default=[], metavar="TO=SECONDS", help="this callee answers after SECONDS"
    )
    p.add_argument(
        "--trunk", action="append", default=[], metavar="ID=NUMBER[,NUMBER]", help="a SIP trunk and its numbers"
    )
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway certificate (path printed)")
    calls = p.add_argument_group("the newer call API (POST /v2/sip/call)")
    calls.add_argument(
        "--callee",
        action="append",
        default=[],
        metavar="TO=SCRIPT",
        help="script a callee: answer:N, reject:N, voicemail:N (answered after N s), never, fail",
    )
    calls.add_argument(
        "--list-lag", type=float, default=0.0, metavar="SECONDS", help="list a call only SECONDS after its POST"
    )
    calls.add_argument("--upper-case-statuses", action="store_true", help="report statuses in upper case")
    calls.add_argument("--unknown-status", metavar="STATUS", help="report this status instead of ringing")
    calls.add_argument("--call-id-key", default="id", metavar="KEY", help="the id's key in lists, e.g. callId")
    calls.add_argument("--page-format", choices=PAGE_FORMATS, default="pageInfo", help="how lists are paged")
    return p


def calls_parser() -> argparse.ArgumentParser:
    """The ``calls`` subcommand's options."""
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_videosdk.testing.emulator calls",
        description="Print the calls a running emulator placed (both APIs), oldest first.",
    )
    p.add_argument("--url", default="http://127.0.0.1:8765", help="the emulator's URL")
    p.add_argument("--token", default=None, help=f"its control token (printed at start); default ${TOKEN_ENV}")
    p.add_argument("--ca-file", default=None, help="its certificate, for an emulator started with --tls")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def print_calls(argv: list[str]) -> None:
    """The ``calls`` subcommand: ask a running emulator what it placed, and print it."""
    args = calls_parser().parse_args(argv)
    try:
        rows = EmulatorClient(args.url, args.ca_file, token=args.token).placed_calls()
    except (ValueError, OSError) as exc:
        sys.exit(f"could not read the calls of the emulator at {args.url}: {exc}")
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))


def main(argv: list[str] | None = None) -> None:
    """Run the emulator from the command line until interrupted (or, with ``calls``, print what it placed)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["calls"]:
        print_calls(argv[1:])
        return
    cli = parser()
    args = cli.parse_args(argv)
    try:
        callees = {to: CalleeScript.parse(script) for to, _, script in (c.partition("=") for c in args.callee)}
        options = CallApiOptions(
            list_lag=args.list_lag,
            upper_case_statuses=args.upper_case_statuses,
            unknown_status=args.unknown_status,
            call_id_key=args.call_id_key,
            page_format=args.page_format,
        )
    except ValueError as exc:
        cli.error(f"--callee or call API option: {exc}")
    answers = {k: float(v) for k, v in (a.split("=", 1) for a in args.answer)}
    trunks = {k: v.split(",") for k, v in (t.split("=", 1) for t in args.trunk)} or None
    emulator = VideoSDKEmulator(
        api_key=args.api_key,
        api_secret=args.api_secret,
        host=args.host,
        port=args.port,
        answer_after=args.answer_after,
        answers=answers,
        trunks=trunks,
        tls=args.tls,
        control_token=os.environ.get(TOKEN_ENV) or None,
    )
    for to, script in callees.items():
        emulator.set_callee(to, script.behaviour, script.after)
    emulator.set_call_api(**dataclasses.asdict(options))
    print(f"VideoSDK emulator listening on {emulator.url}", flush=True)
    print(f"Control token ({TOKEN_HEADER} of /_emulator/* requests): {emulator.control_token}", flush=True)
    if emulator.ca_file:
        print(f"CA certificate: {emulator.ca_file}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # so that the certificate is removed on SIGTERM too
    try:
        emulator._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
