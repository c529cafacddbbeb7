"""TLS session resumption for the direct transport: a new connection to a host offers the
session of the last one, so it skips the certificate exchange and its checks.

A full TLS 1.3 handshake costs this process 1.25-1.9 ms of CPU with OpenSSL 3.0 (most of it not
the cryptography), a resumed one 0.9-1.1 ms (bench/tls_resume.py; bench/README.md, session 7). ``--once`` opens its 32
connections at once after the job list, and a dashboard reopens one whenever the service's
front end has closed it, so both pay it. Browsers and curl resume the same way.

asyncio (and uvloop) take no session when they open a TLS connection, but both build each
connection's ``SSLObject`` with the context's public :meth:`ssl.SSLContext.wrap_bio`, which
does; :class:`ResumingContext` passes it the session there.

Whether the service's front end resumes sessions is UNCONFIRMED: a server that does not, or
that will not take a ticket twice, answers with a full handshake, which is what happens without
this (tests/test_tls_sessions.py has both).
"""

from __future__ import annotations

import os
import ssl
import sys
from typing import Any


class ResumingContext(ssl.SSLContext):
    """A client context that offers each new connection to a host the newest session of that
    host it has been given by :meth:`remember`.

    Sessions are kept per host name, the name the certificate was checked against when the
    session was made, so a session is never offered to another host. RFC 8446 asks clients not
    to offer one ticket twice, so that an observer cannot link the connections; these all go
    from one client to one account, which their addresses already link. Each connection's own
    new ticket replaces the one it resumed with.
    """

    sessions: dict[str | None, ssl.SSLSession]

    def __init__(self, protocol: int = ssl.PROTOCOL_TLS_CLIENT) -> None:
        # ssl.SSLContext takes the protocol in __new__; this only adds the cache
        self.sessions = {}

    def wrap_bio(  # type: ignore[override]  # same parameters as SSLContext.wrap_bio
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        if session is None and not server_side:
            session = self.sessions.get(server_hostname)
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)

    def remember(self, host: str | None, tls: Any) -> None:
        """Keep the session of ``tls`` (a connection's ``SSLObject``) for the next connection
        to ``host``, once the server has sent it a ticket or a session id to resume with.

        Called after an answer has been read: TLS 1.3 sends its tickets after the handshake, so
        a connection has them by the end of its first answer."""
        session = getattr(tls, "session", None)
        if session is not None and (session.has_ticket or session.id):
            self.sessions[host] = session


def resuming_context(*, cafile: str | None, capath: str | None) -> ResumingContext:
    """What :func:`ssl.create_default_context` makes for a client, as a :class:`ResumingContext`:
    certificates and host names checked, Python's protocol defaults, the strict chain flags it
    sets from Python 3.13, and ``SSLKEYLOGFILE``. tests/test_tls_sessions.py compares the two
    setting by setting, so a change in Python's defaults fails there."""
    context = ResumingContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, and checks host names
    if sys.version_info >= (3, 13):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    context.load_verify_locations(cafile=cafile, capath=capath)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context
