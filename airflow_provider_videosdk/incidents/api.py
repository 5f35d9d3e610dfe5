"""
Airflow's own public REST API, as the incident notifier uses it: create the escalation's run, read a DAG.

Airflow 3: ``POST /auth/token`` (username and password) for a JWT, then ``/api/v2``. Airflow 2.11:
``/api/v1`` with basic auth (``[api] auth_backends`` must include ``basic_auth``). The address and
credentials are an ``airflow_api`` connection (:class:`AirflowApiHook`). Natively async (``httpx``),
each request under a wall-clock deadline; the sync callers run it with ``asyncio.run``.

Creating a run with a given run id is idempotent: a second POST of the same run id gets 409, so a
POST whose answer was lost is simply sent again. Each creation carries a token of its own in the
run's conf (:data:`OPENER_KEY`): a 409 after a resend reads the run back, and the token tells
whether the lost POST created it (this failure opened the incident) or another one did (it joined).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS, BaseHook

CONN_TYPE = "airflow_api"
DEFAULT_CONN_ID = "airflow_api_default"
DEFAULT_TIMEOUT = 10.0  # seconds for one request, connect to last byte
ATTEMPTS = 3  # tries of a request that reached no answer (connection refused, 5xx, timeout)
RETRY_WAIT = 0.5
OPENER_KEY = "opened_by"  # in the run's conf: the token of the POST that created it


def opened_by(run: Any, token: str) -> bool:
    """True when ``run`` (the API's dagRun object) was created by the POST that carried ``token``."""
    conf = run.get("conf") if isinstance(run, dict) else None
    return isinstance(conf, dict) and conf.get(OPENER_KEY) == token


class AirflowApiError(Exception):
    """Airflow's API answered with an error or could not be reached; ``status`` is None when unreachable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ApiSettings:
    """Where Airflow's API is and how to log in (the password is kept out of ``repr``)."""

    base_url: str
    username: str
    password: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    v2: bool = AIRFLOW_V_3_0_PLUS  # the API of the Airflow the callback runs in

    @classmethod
    def from_connection(cls, conn: Any) -> ApiSettings:
        """From an ``airflow_api`` connection: host (with scheme and port), login, password, extra ``timeout``."""
        host = (conn.host or "").rstrip("/")
        if not host:
            raise AirflowApiError(
                f"connection {conn.conn_id}: host must be Airflow's address, e.g. http://airflow:8080"
            )
        if "://" not in host:
            host = f"{conn.schema or 'http'}://{host}"
        if conn.port and host.count(":") < 2:
            host = f"{host}:{conn.port}"
        extra = conn.extra_dejson or {}
        return cls(host, conn.login or "", conn.password or "", float(extra.get("timeout", DEFAULT_TIMEOUT)))

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/{'v2' if self.v2 else 'v1'}"


class AirflowApi:
    """One session with Airflow's API: ``async with AirflowApi(settings) as api: await api.create_run(...)``."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None
        self._token: str | None = None
        self.tries = 0  # how many times the last request was sent

    async def __aenter__(self) -> AirflowApi:
        auth = None if self.settings.v2 else httpx.BasicAuth(self.settings.username, self.settings.password)
        self._client = httpx.AsyncClient(auth=auth, timeout=None, follow_redirects=False, trust_env=True)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send(self, method: str, url: str, body: Any = None, *, auth: bool = True) -> httpx.Response:
        """One request under a wall-clock deadline; resent (idempotent here) while no answer came or 5xx."""
        if self._client is None:
            raise RuntimeError("use AirflowApi inside 'async with'")
        headers = {"Authorization": f"Bearer {await self._login()}"} if auth and self.settings.v2 else {}
        why = ""
        for attempt in range(1, ATTEMPTS + 1):
            self.tries = attempt
            try:
                response = await asyncio.wait_for(
                    self._client.request(method, url, json=body, headers=headers), self.settings.timeout
                )
            except (httpx.HTTPError, OSError, asyncio.TimeoutError) as exc:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.status_code < 500:
                    return response
                why = f"{response.status_code} {_message(response)}"
            if attempt < ATTEMPTS:
                await asyncio.sleep(RETRY_WAIT * attempt)
        raise AirflowApiError(f"{method} {url} failed {ATTEMPTS} times; last: {why}")

    async def _login(self) -> str:
        if self._token is None:
            url = f"{self.settings.base_url}/auth/token"
            body = {"username": self.settings.username, "password": self.settings.password}
            response = await self._send("POST", url, body, auth=False)
            if response.status_code not in (200, 201):
                raise AirflowApiError(f"POST /auth/token answered {response.status_code}", response.status_code)
            self._token = str(response.json()["access_token"])
        return self._token

    async def create_run(self, dag_id: str, run_id: str, conf: dict[str, Any]) -> bool:
        """
        Create the run: True when this call created it, False when a run with that id existed already
        (409). A 409 that answers a resend (the first POST's answer was lost, or it was a 5xx) may be
        this call's own run: the run is read back and its conf's token decides.
        """
        token = secrets.token_hex(8)
        body: dict[str, Any] = {"dag_run_id": run_id, "conf": {**conf, OPENER_KEY: token}}
        if self.settings.v2:
            body["logical_date"] = None
        runs = f"{self.settings.api}/dags/{quote(dag_id, safe='')}/dagRuns"
        response = await self._send("POST", runs, body)
        if response.status_code == 409:
            if self.tries == 1:
                return False
            existing = await self._send("GET", f"{runs}/{quote(run_id, safe='')}")
            if existing.status_code != 200:
                raise AirflowApiError(
                    f"GET dagRun {run_id} of {dag_id} answered {existing.status_code}: {_message(existing)}",
                    existing.status_code,
                )
            return opened_by(existing.json(), token)
        if response.status_code not in (200, 201):
            raise AirflowApiError(
                f"POST dagRuns of {dag_id} answered {response.status_code}: {_message(response)}", response.status_code
            )
        return True

    async def dag(self, dag_id: str) -> dict[str, Any]:
        """The DAG as the API shows it (``is_paused``, ...)."""
        response = await self._send("GET", f"{self.settings.api}/dags/{quote(dag_id, safe='')}")
        if response.status_code != 200:
            raise AirflowApiError(f"GET dag {dag_id} answered {response.status_code}: {_message(response)}")
        return dict(response.json())


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body))[:300] if isinstance(body, dict) else str(body)[:200]


class AirflowApiHook(BaseHook):
    """
    The ``airflow_api`` connection: the address of Airflow's API server and a user allowed to trigger
    the escalation DAG. ``test_connection`` logs in and reads the DAG list.
    """

    conn_name_attr = "airflow_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Airflow REST API"

    def __init__(self, airflow_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.airflow_conn_id = airflow_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Airflow 2.11's form: relabel the fields used, hide the others."""
        from airflow_provider_videosdk.incidents.conn import UI_FIELD_BEHAVIOUR

        return UI_FIELD_BEHAVIOUR

    def settings(self) -> ApiSettings:
        """The connection read once."""
        return ApiSettings.from_connection(self.get_connection(self.airflow_conn_id))

    def test_connection(self) -> tuple[bool, str]:
        """Log in and list one DAG."""

        async def probe(settings: ApiSettings) -> None:
            async with AirflowApi(settings) as api:
                response = await api._send("GET", f"{settings.api}/dags?limit=1")
                if response.status_code != 200:
                    raise AirflowApiError(f"GET dags answered {response.status_code}: {_message(response)}")

        try:
            asyncio.run(probe(self.settings()))
        except (AirflowApiError, KeyError, ValueError) as exc:
            return False, str(exc)
        return True, "Logged in to Airflow's API and listed DAGs"
