"""Plain standard-library HTTP against the emulator, with a valid token: what the emulator tests send."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any, Protocol

import jwt


class Target(Protocol):
    """What a request needs of the emulator: a :class:`VideoSDKEmulator`, or a :class:`Remote` one."""

    api_key: str
    api_secret: str
    ca_file: str | None

    @property
    def port(self) -> int: ...


@dataclass
class Remote:
    """An emulator running in another process."""

    port: int
    api_key: str = "emulator-api-key"
    api_secret: str = "emulator-api-secret-0123456789abcdef"
    ca_file: str | None = None


def token(emu: Target) -> str:
    """A token the emulator accepts, valid for ten minutes."""
    now = int(time.time())
    claims = {"apikey": emu.api_key, "permissions": ["allow_join"], "version": 2, "roles": ["crawler"]}
    return jwt.encode({**claims, "iat": now, "exp": now + 600}, emu.api_secret, algorithm="HS256")


def connect(emu: Target, timeout: float = 5) -> http.client.HTTPConnection:
    """A new connection to the emulator, over TLS when it serves HTTPS."""
    if emu.ca_file:
        context = ssl.create_default_context(cafile=emu.ca_file)
        return http.client.HTTPSConnection("127.0.0.1", emu.port, timeout=timeout, context=context)
    return http.client.HTTPConnection("127.0.0.1", emu.port, timeout=timeout)


def send(conn: http.client.HTTPConnection, emu: Target, method: str, path: str, body: Any = None) -> None:
    """Send one authorized JSON request on ``conn``."""
    headers = {"Authorization": token(emu), "Content-Type": "application/json"}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)


def api(emu: Target, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One authorized request on a fresh connection: (status, decoded JSON answer)."""
    conn = connect(emu)
    try:
        send(conn, emu, method, path, body)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()
