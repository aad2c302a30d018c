"""How a service's Kafka clients reach the cluster: in plain text on the
embedded default, with the SCRAM login and the cluster's CA on an
authenticated cluster (Strimzi's listener), and never half configured."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from mpp_shared.messaging.kafka import connection
from mpp_shared.settings import ServiceSettings


def _ca(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "cluster-ca")])

    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_the_embedded_default_speaks_plain_text() -> None:
    assert connection(ServiceSettings(kafka_bootstrap_servers="127.0.0.1:9092")) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_an_authenticated_cluster_gets_the_login_and_trusts_its_ca(tmp_path: Path) -> None:
    found = connection(
        ServiceSettings(
            kafka_bootstrap_servers="mpp-kafka-bootstrap:9093",
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="mpp-intake",
            kafka_sasl_password="s3cret",
            kafka_ssl_cafile=str(_ca(tmp_path / "ca.crt")),
        )
    )
    context = found.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cluster-ca"),),)]
    assert found == {
        "bootstrap_servers": "mpp-kafka-bootstrap:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "mpp-intake",
        "sasl_plain_password": "s3cret",
    }


def test_a_sasl_protocol_without_a_complete_login_is_refused() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD"):
        ServiceSettings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="mpp-intake",
        )
