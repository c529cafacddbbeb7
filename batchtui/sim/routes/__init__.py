"""The Batch operations the simulator serves, one module per resource.

To add operations: write a module here with handlers ``(sim, request, **path_params) ->
Response`` and a ``register(router)`` that adds them, and list its ``register`` below.
Nothing in the plumbing (asgi, auth, routing, app) changes.
"""

from __future__ import annotations

from batchtui.sim.routes import files, job_actions, jobs, node_actions, pools, tasks
from batchtui.sim.routing import Router

REGISTRARS = (
    jobs.register,
    tasks.register,
    files.register,
    job_actions.register,
    pools.register,
    node_actions.register,
)


def build_router() -> Router:
    router = Router()
    for register in REGISTRARS:
        register(router)
    return router
