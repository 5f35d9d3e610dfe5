"""The hook's API over the async transport, for the triggerer: the same requests and answers, awaited."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_videosdk._http import call_api
from airflow_provider_videosdk._http.outbound_api import ParticipantLookup, outbound_call_request
from airflow_provider_videosdk._http.policy import Exchange, within
from airflow_provider_videosdk._http.rooms import create_room_request
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.validation import clean_id

if TYPE_CHECKING:
    from airflow_provider_videosdk._http.async_transport import AsyncTransport
    from airflow_provider_videosdk._http.config import VideoSDKConfig
    from airflow_provider_videosdk._http.policy import ApiRequest, SendWatch
    from airflow_provider_videosdk.calls import OutboundCall, SipCall


class Credentials(Protocol):
    """What the async client takes from :class:`~airflow_provider_videosdk.hooks.videosdk.VideoSDKHook`."""

    @property
    def log(self) -> Any:
        """The hook's logger."""

    @property
    def config(self) -> VideoSDKConfig:
        """The connection's settings."""

    async def aconfig(self) -> VideoSDKConfig:
        """The connection's settings, read without blocking an event loop."""

    def get_token(self) -> str:
        """A valid token."""

    def default_headers(self) -> dict[str, str]:
        """Headers of every request but ``Authorization``."""

    def check_destination(self, to: str) -> None:
        """Refuse ``to`` unless the connection's allow-list lets it be called."""


class AsyncVideoSDKClient:
    """
    The hook's API over the async transport: one connection pool per ``async with``, closed on exit
    and on cancellation. The policy, errors and answers are the sync hook's.
    """

    def __init__(self, hook: Credentials) -> None:
        self.hook = hook
        self._transport: AsyncTransport | None = None

    async def __aenter__(self) -> AsyncVideoSDKClient:
        from airflow_provider_videosdk._http.async_transport import AsyncTransport

        await self.hook.aconfig()
        self._transport = AsyncTransport(self.hook.default_headers())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

    async def send(
        self, request: ApiRequest, *, watch: SendWatch | None = None, budget: float | None = None
    ) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.send`; a cancellation propagates (the triggerer only reads)."""
        hook, cfg = self.hook, within(self.hook.config, budget)
        if self._transport is None:
            raise RuntimeError("use the client inside 'async with hook.async_client() as client'")
        exchange = Exchange(request, cfg, hook.log, watch=watch)
        while True:
            timeout, progress = exchange.begin()
            try:
                response = await self._transport.send(
                    request, cfg.base_url + request.path, hook.get_token(), timeout, progress
                )
            except Exception as exc:
                step = exchange.failed(progress, exc)
            except BaseException as exc:
                exchange.interrupted(progress, exc, outcome_unknown=True)
                raise
            else:
                step = exchange.answered(response)
            if step.answer is not None:
                return step.answer
            await asyncio.sleep(step.retry_in)

    async def outbound_call(self, call: OutboundCall, *, watch: SendWatch | None = None) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.outbound_call`."""
        self.hook.check_destination(call.to)
        return await self.send(outbound_call_request(call), watch=watch)

    async def create_room(self, custom_room_id: Any = None) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.create_room`."""
        return await self.send(create_room_request(custom_room_id))

    async def place_call(self, call: SipCall, *, watch: SendWatch | None = None) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.place_call`, reconciling the same way."""
        self.hook.check_destination(call.to)
        placement = call_api.Placement(call)
        try:
            return placement.answered(await self.send(placement.request, watch=watch))
        except VideoSDKOutcomeUnknownError as exc:
            if not placement.reconcilable(exc):
                raise
            placement.looking_up(exc, self.hook.config, self.hook.log)
            found = await self.find_placed_call(placement.call, placement.began)
            return placement.settle(exc, found, self.hook.config, self.hook.log)

    async def find_placed_call(
        self, call: SipCall, began: float, *, window: float | None = None
    ) -> dict[str, Any] | None:
        """Async :meth:`VideoSDKHook.find_placed_call`."""
        reconciliation = call_api.Reconciliation(call, began, self.hook.config, self.hook.log, window)
        while (look_up := reconciliation.next_request()) is not None:
            request, budget = look_up
            try:
                reconciliation.feed(await self.send(request, budget=budget))
            except VideoSDKError as exc:
                reconciliation.failed(exc)
            if reconciliation.found is not None:
                return reconciliation.found
            await asyncio.sleep(reconciliation.pause())
        return None

    async def get_call(self, call_id: Any, *, budget: float | None = None) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.get_call`."""
        request = call_api.get_call_request(call_id)
        return call_api.call_from_answer(await self.send(request, budget=budget), request.where)

    async def list_calls(
        self, room_id: Any = None, *, search: Any = None, since: float | None = None, budget: float | None = None
    ) -> list[dict[str, Any]]:
        """Async :meth:`VideoSDKHook.list_calls`."""
        listing = call_api.CallListing(room_id, search=search, since=since)
        while not listing.feed(await self.send(listing.request(), budget=budget)):
            pass
        return listing.calls

    async def find_call(
        self, meeting_id: Any, participant_id: Any, *, since: float | None = None, budget: float | None = None
    ) -> dict[str, Any] | None:
        """Async :meth:`VideoSDKHook.find_call`."""
        participant_id = clean_id("participant_id", participant_id)
        start = None if since is None else since - self.hook.config.clock_skew
        calls = await self.list_calls(meeting_id, since=start, budget=budget)
        return call_api.match_call(calls, participant_id, room_id=meeting_id)

    async def end_call(self, call_id: Any, *, budget: float | None = None) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.end_call`."""
        request = call_api.end_call_request(call_id)
        return call_api.call_from_answer(await self.send(request, budget=budget), request.where)

    async def find_participant(
        self, meeting_id: Any, participant_id: Any, *, joined_after: float | None = None
    ) -> dict[str, Any] | None:
        """Async :meth:`VideoSDKHook.find_participant`."""
        lookup = ParticipantLookup(meeting_id, participant_id, joined_after, self.hook.config.clock_skew)
        while not lookup.feed(await self.send(lookup.request())):
            pass
        return lookup.found
