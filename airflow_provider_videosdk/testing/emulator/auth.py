"""The token checks VideoSDK documents for its REST API."""

from __future__ import annotations

import jwt

from airflow_provider_videosdk.testing.emulator.state import Reply

MAX_TOKEN_LIFETIME = 86400


def check_auth(headers: dict[str, str], api_key: str, api_secret: str) -> None:
    """Raise a 401 :class:`Reply` unless ``Authorization`` holds a raw, valid JWT for ``api_key``."""
    token = headers.get("authorization")
    if not token:
        raise Reply(401, {"statusCode": 401, "message": "Token is required"})
    if " " in token:
        raise Reply(401, {"statusCode": 401, "message": "Token must be sent without any prefix such as 'Bearer '"})
    try:
        claims = jwt.decode(token, api_secret, algorithms=["HS256"], options={"require": ["exp", "iat", "apikey"]})
    except jwt.PyJWTError:
        raise Reply(401, {"statusCode": 401, "message": "Token is invalid or expired"}) from None
    perms = claims.get("permissions")
    problems = []
    if claims.get("apikey") != api_key:
        problems.append("apikey does not match")
    if claims.get("version") != 2:
        problems.append("version must be 2")
    if "crawler" not in (claims.get("roles") or []):
        problems.append("roles must include crawler for the REST API")
    if not isinstance(perms, list) or not perms or not set(perms) <= {"allow_join", "ask_join", "allow_mod"}:
        problems.append("permissions must be a list of allow_join, ask_join, allow_mod")
    if (
        not all(isinstance(claims.get(c), int) for c in ("iat", "exp"))
        or claims["exp"] - claims["iat"] > MAX_TOKEN_LIFETIME
    ):
        problems.append("iat/exp must be epoch seconds, lifetime at most 24 h")
    if problems:
        raise Reply(401, {"statusCode": 401, "message": "Invalid token: " + "; ".join(problems)})
