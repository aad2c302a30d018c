"""How a service's Kafka clients reach the cluster: in plain text on the
embedded default, with the SCRAM login and the cluster's CA on an
authenticated cluster over SASL_SSL (Strimzi's listener), in the connection
settings and in the aiokafka producer and consumers built from them, and
never half configured."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from mpp_shared.messaging.consumer import EventConsumer
from mpp_shared.messaging.kafka import connection, make_producer
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


async def test_the_producer_and_the_consumers_are_built_for_sasl_ssl(tmp_path: Path) -> None:
    """The aiokafka clients themselves take the login and the CA (and would
    refuse an SSL protocol without a context, or SCRAM without a login)."""
    settings = ServiceSettings(
        kafka_bootstrap_servers="mpp-kafka-bootstrap:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="mpp-notify",
        kafka_sasl_password="s3cret",
        kafka_ssl_cafile=str(_ca(tmp_path / "ca.crt")),
    )
    producer = make_producer(settings, "mpp-notify-producer")
    consumer = EventConsumer(
        name="mpp-notify",
        topics=["mpp.applications"],
        handlers={},
        pool=cast(Any, None),
        dlq_producer=producer,
        settings=settings,
    )._make_consumer()
    for client in (producer.client, consumer._client):
        assert client._security_protocol == "SASL_SSL"
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert client._sasl_plain_username == "mpp-notify"
        assert client._sasl_plain_password == "s3cret"
        context = client._ssl_context
        assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
        assert context.get_ca_certs()[0]["subject"] == ((("commonName", "cluster-ca"),),)
    await producer.stop()
    await consumer.stop()
