"""Times as the operator's settings want them: the app's zone setting and its clock.

Apart from ``ui.text`` (pure text helpers that the table's row model also uses), because it
asks the running app (a BatchApp) for its settings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from batchtui.timefmt import fmt_when


def when_text(node: Any, when: datetime | None, *, date: bool = False) -> str:
    """:func:`fmt_when` in the app's zone setting (``app.utc``), "today" by the app's clock.

    ``node`` is any widget or screen of the app; outside a BatchApp it is local time today.
    """
    from batchtui.ui.app import BatchApp  # here: the app's module imports the screens that import this

    try:
        app = node.app
    except Exception:  # noqa: BLE001 - not mounted in an app (yet): no setting to read
        app = None
    if isinstance(app, BatchApp):
        return fmt_when(when, app.now(), utc=app.utc, date=date)
    return fmt_when(when, None, utc=False, date=date)
