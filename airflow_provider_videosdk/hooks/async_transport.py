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
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_videosdk.hooks.body import BodyDecoder
from airflow_provider_videosdk.hooks.policy import Progress, RawResponse

if TYPE_CHECKING:
    import ssl

    from airflow_provider_videosdk.hooks.policy import ApiRequest


def shared_ssl_context() -> ssl.SSLContext:
    """
    One TLS context per process (per CA setting), shared by every client.

    Loading the CA bundle costs ~27 ms of CPU, on the event loop: paid per client, a triggerer
    starting a thousand waits would stall for half a minute.
    """
    return _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True, trust_env=True)  # reads SSL_CERT_FILE / SSL_CERT_DIR


class AsyncTransport:
    """Sends requests over one kept-alive connection pool; proxies and CA bundles come from the environment."""

    def __init__(self, headers: dict[str, str]) -> None:
        # No client-wide timeout: each request gets a wall-clock deadline of its own in send().
        self.client = httpx.AsyncClient(
            headers=headers, timeout=None, follow_redirects=False, trust_env=True, verify=shared_ssl_context()
        )

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
            async with self.client.stream(
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
        await self.client.aclose()
