"""Who may call: a bearer token the account issued, or a Shared Key signature made with its key."""

from __future__ import annotations

from batchtui.sim import sharedkey
from batchtui.sim.asgi import BatchHTTPError, Request
from batchtui.sim.config import SimConfig


def authenticate(request: Request, config: SimConfig, wall_now: float) -> None:
    """Return if the request may proceed; raise the service's 401/403 otherwise."""
    auth = request.headers.get("authorization", "").strip()
    if not auth:
        raise BatchHTTPError(
            401,
            "AuthenticationFailed",
            [("AuthenticationErrorDetail", "The request does not carry an Authorization header.")],
        )
    scheme = auth.split(" ", 1)[0]
    if scheme.lower() == "bearer":
        token = auth[len(scheme) :].strip()
        if token and token in config.tokens:
            return
        raise BatchHTTPError(
            401,
            "AuthenticationFailed",
            [
                (
                    "AuthenticationErrorDetail",
                    "The access token is invalid or was not issued for this account.",
                )
            ],
        )
    try:
        sharedkey.verify(
            auth,
            method=request.method,
            raw_path=request.raw_path,
            query=request.query_string,
            headers=request.headers,
            body_length=len(request.body),
            account=config.account,
            key_b64=config.key,
            wall_now=wall_now,
        )
    except sharedkey.SharedKeyRejected as exc:
        raise BatchHTTPError(403, "AuthenticationFailed") from exc
