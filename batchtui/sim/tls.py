"""Certificates for ``batchtui sim --tls``: a certificate authority of the simulator's own and a
server certificate it signs for the address served.

Two certificates rather than one self-signed server certificate, because that is what every
client's verifier accepts without exceptions: Python 3.13's strict X.509 checks (and some
OpenSSL builds) refuse a self-signed leaf used as its own trust anchor. Clients are pointed at
the authority's certificate (``ca.pem``) through ``SSL_CERT_FILE`` (batchtui, httpx, OpenSSL)
and ``REQUESTS_CA_BUNDLE`` (requests: the azure-batch SDK and ``az``).

Made with ``cryptography``, which azure-identity already depends on. The authority is kept in
the certificate folder and reused when it is there, so a ``--cert-dir`` that clients have been
told to trust stays trusted across restarts; the server certificate is made anew each start
for the host being served. Nothing here is secret beyond a test service on loopback, but the
private keys are still written readable by their owner only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"


@dataclass(frozen=True)
class ServerCertificate:
    ca_file: Path  # what clients trust
    cert_file: Path  # the server's certificate chain (its own, then the authority's)
    key_file: Path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _authority(folder: Path, now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The authority in ``folder``, or a new one written there."""
    cert_path, key_path = folder / CA_FILE, folder / CA_KEY_FILE
    if cert_path.is_file() and key_path.is_file():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if (
            isinstance(key, ec.EllipticCurvePrivateKey)
            and cert.public_key() == key.public_key()
            and cert.not_valid_after_utc > now + timedelta(days=1)
        ):
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "batchtui sim test authority")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _names(host: str) -> list[x509.GeneralName]:
    """The server's names: the host served, and loopback's usual spellings."""
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    addresses = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    try:
        addresses.add(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        if host.lower() != "localhost":
            names.append(x509.DNSName(host.lower()))
    names.extend(x509.IPAddress(a) for a in sorted(addresses, key=lambda a: (a.version, int(a))))
    return names


def make_server_certificate(
    folder: Path, host: str, *, only_names: Sequence[str] | None = None
) -> ServerCertificate:
    """Write (or reuse) the authority in ``folder`` and a server certificate for ``host``.

    ``only_names`` (DNS names) replaces the names it carries: a certificate for another host,
    to test what a client says about a host name mismatch."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_cert, ca_key = _authority(folder, now)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "batchtui sim")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(min(now + timedelta(days=30), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                _names(host) if only_names is None else [x509.DNSName(n) for n in only_names]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    cert_path, key_path = folder / SERVER_FILE, folder / SERVER_KEY_FILE
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    return ServerCertificate(ca_file=folder / CA_FILE, cert_file=cert_path, key_file=key_path)
