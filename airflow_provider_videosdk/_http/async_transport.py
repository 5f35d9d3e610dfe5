"""
The async transport, for the triggerer: one ``httpx.AsyncClient`` per use, no thread per request.

``httpx`` because it is the async HTTP client every supported Airflow ships (``aiohttp`` is not
installed with Airflow 3.3), and because its ``trace`` extension reports when the request's
headers start to leave, which is exactly the phase boundary the policy needs.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_videosdk._http.body import BodyDecoder
from airflow_provider_videosdk._http.environment import ca_bundle, is_loopback
from airflow_provider_videosdk._http.policy import Progress, RawResponse

if TYPE_CHECKING:
    from airflow_provider_videosdk._http.policy import ApiRequest


def shared_ssl_context() -> ssl.SSLContext:
    """
    One TLS context per process (per CA setting), shared by every client.

    Loading the CA bundle costs ~27 ms of CPU, on the event loop: paid per client, a triggerer
    starting a thousand waits would stall for half a minute.
    """
    return _ssl_context(ca_bundle())


@functools.lru_cache(maxsize=4)
def _ssl_context(bundle: str | None) -> ssl.SSLContext:
    """The sync transport's trust: the bundle named (a file or a directory, as requests takes it), else certifi's."""
    if bundle is None:
        return httpx.create_ssl_context(verify=True, trust_env=False)  # certifi's bundle
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


class AsyncTransport:
    """
    Sends requests over one kept-alive connection pool; proxies (but for loopback hosts) and the CA
    bundle come from the environment, read as the sync transport reads them (:mod:`.environment`).
    """

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers
        #: One client for loopback hosts (no environment proxy: True), one for the rest, made when first used.
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def _client_for(self, url: str) -> httpx.AsyncClient:
        direct = is_loopback(url)
        if direct not in self._clients:
            # No client-wide timeout: each request gets a wall-clock deadline of its own in send().
            self._clients[direct] = httpx.AsyncClient(
                headers=self._headers,
                timeout=None,
                follow_redirects=False,
                trust_env=not direct,
                verify=shared_ssl_context(),
            )
        return self._clients[direct]

    async def send(self, request: ApiRequest, url: str, token: str, timeout: float, progress: Progress) -> RawResponse:
        """
        Send ``request`` and read its whole answer within ``timeout`` seconds of wall-clock time.

        Raises whatever the network raised (``TimeoutError`` at the deadline); ``progress`` says
        whether the request had started to leave.
        """

        async def trace(event: str, info: dict[str, Any]) -> None:
            # A proxy's CONNECT goes out with the same trace: it is not our request.
            if event.endswith(".send_request_headers.started") and info["request"].method != b"CONNECT":
                progress.mark_sent()  # may raise (the caller's record failed): then nothing is sent

        async def exchange() -> RawResponse:
            async with self._client_for(url).stream(
                request.method,
                url,
                json=request.json,
                params=dict(request.params) if request.params else None,
                headers={"Authorization": token},
                extensions={"trace": trace},
            ) as response:
                # Raw bytes, decoded here: httpx's own decoder inflates a whole chunk at once, past any cap.
                decoder = BodyDecoder(response.headers.get("content-encoding"))
                async for chunk in response.aiter_raw():
                    decoder.feed(chunk)
                headers = {k.lower(): v for k, v in response.headers.items()}
                return RawResponse(response.status_code, headers, decoder.body())

        if hasattr(asyncio, "timeout"):  # Python 3.11+: no extra task per request
            async with asyncio.timeout(timeout):
                return await exchange()
        return await asyncio.wait_for(exchange(), timeout)

    async def aclose(self) -> None:
        """Close the pool's connections."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
