"""The Azure Batch data plane: client, auth, models and errors. Never imports Textual."""

from __future__ import annotations

from batchtui.batch.auth import EntraIdAuth, SharedKeyAuth, batch_scope_for
from batchtui.batch.client import (
    DEFAULT_API_VERSION,
    BatchClient,
    ClientStats,
    RequestEvent,
    RetryPolicy,
)
from batchtui.batch.errors import (
    AuthError,
    BatchClientError,
    BatchServiceError,
    ConfigError,
    InsecureEndpointError,
    ModelError,
    TransportError,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "AuthError",
    "BatchClient",
    "BatchClientError",
    "BatchServiceError",
    "ClientStats",
    "ConfigError",
    "EntraIdAuth",
    "InsecureEndpointError",
    "ModelError",
    "RequestEvent",
    "RetryPolicy",
    "SharedKeyAuth",
    "TransportError",
    "batch_scope_for",
]
