"""A TLS certificate that failed verification, told in the operator's words.

Retrying cannot fix a certificate that is not trusted or names another host: the trust store
(``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``) or the endpoint must change. So the client raises
:class:`~batchtui.batch.errors.CertificateError` at once, never retried, with one line that
says which and where to point, instead of OpenSSL's ``[SSL: CERTIFICATE_VERIFY_FAILED] ...``.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from batchtui.batch.errors import CertificateError

#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH
NAME_MISMATCH_CODES = frozenset({62, 64})


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The verification error behind ``exc`` (httpx wraps it twice), if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(8):  # a bounded walk: a cycle of causes must not hang a refresh
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def certificate_error(call: str, url: str, failure: ssl.SSLCertVerificationError) -> CertificateError:
    """One line: whose certificate, what is wrong with it, and what to change."""
    parts = urlsplit(url)
    where = parts.hostname or "the server"
    if parts.port:
        where = f"{where}:{parts.port}"
    why = " ".join(str(failure.verify_message or "").split())[:200] or "verification failed"
    if failure.verify_code in NAME_MISMATCH_CODES:
        text = (
            f"the TLS certificate of {where} is for another host name ({why}): check the endpoint "
            "(a CA bundle in SSL_CERT_FILE / REQUESTS_CA_BUNDLE cannot fix a host name)"
        )
    else:
        text = (
            f"the TLS certificate of {where} is not trusted ({why}): if your network signs it (a "
            "proxy, a private CA), point SSL_CERT_FILE or REQUESTS_CA_BUNDLE to that CA's bundle"
        )
    return CertificateError(f"{call}: {text}")
