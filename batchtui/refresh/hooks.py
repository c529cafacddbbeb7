"""``--on-event CMD``: run the operator's command once per alert, the event as JSON on stdin.

The command is the operator's own (like a git hook) and runs through ``/bin/sh -c``. A hook
that hangs is killed after ``HOOK_TIMEOUT`` seconds; one that fails is reported, never fatal.
What it prints is not shown: only whether it worked, in one bounded line.
"""

from __future__ import annotations

import asyncio
import contextlib

from batchtui.refresh.events import Event

HOOK_TIMEOUT = 10.0
STDERR_SHOWN = 200


async def run_hook(command: str, event: Event, *, kill_after: float = HOOK_TIMEOUT) -> str | None:
    """Run ``command`` for ``event``; None when it exited 0, else what went wrong (one line)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return f"--on-event could not start: {exc.strerror or exc}"
    try:
        _, err = await asyncio.wait_for(proc.communicate((event.to_json() + "\n").encode()), kill_after)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return f"--on-event hook killed after {kill_after:g} s ({event.kind})"
    if proc.returncode:
        text = " ".join(err.decode("utf-8", "replace").split())[:STDERR_SHOWN]
        return f"--on-event hook exited {proc.returncode} ({event.kind}){': ' + text if text else ''}"
    return None
